"""Full and incremental sync of a WeCom corp as resumable jobs (`scrm.core.jobs`).

Full sync: the org (departments, members, who has 客户联系), corp tags, then every external contact
with its follow relations through `batch/get_by_user`, one page per step. Before the contacts, one
`list` call per follow member counts them, so the progress bar has a true total.

Incremental sync (catch-up after missed callbacks or an outage): the org and tags again, then per
follow member the `list` of external_userids is compared with what we hold: new ones are fetched
with `get`, vanished ones are marked gone.

Each step makes a bounded number of calls through the paced client; a rate-limit block longer than
a few seconds ends the step with a retryable error and the job resumes after `retry_after`, so no
transaction waits on WeCom for long.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from scrm.core.jobs import Job, JobKind, StepOutcome, start_job
from scrm.customers.wecom_ingest import (
    WeComScope,
    apply_contacts,
    known_external_userids,
    mark_relations_gone,
    upsert_corp_tags,
)
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.wecom.client import WeComClient
from scrm.staff.service import set_customer_contact_members, upsert_departments, upsert_member

FULL_SYNC = "wecom.full_sync"
INCREMENTAL_SYNC = "wecom.incremental_sync"
USERS_PER_BATCH = 100  # batch/get_by_user takes at most 100 userids
COUNT_USERS_PER_STEP = 20
GETS_PER_STEP = 50
STEP_BUDGET_SECONDS = 0.3


def start_sync(
    session: Session, *, tenant_id: int, connection_id: int, mode: str, created_by: str | None
) -> tuple[Job, bool]:
    """Queue a sync of the connection (one at a time per connection: a running one is returned)."""
    kind = FULL_SYNC if mode == "full" else INCREMENTAL_SYNC
    title = "企业微信全量同步" if mode == "full" else "企业微信增量同步"
    return start_job(
        session,
        tenant_id=tenant_id,
        kind=kind,
        title=title,
        params={"connection_id": connection_id},
        dedupe_key=f"wecom.sync:{connection_id}",
        created_by=created_by,
        connection_id=connection_id,
    )


def _client(session: Session, job: Job) -> tuple[WeComClient, WeComScope]:
    client = platform_runtime().wecom_client(
        session, tenant_id=job.tenant_id, connection_id=int(job.params["connection_id"])
    )
    scope = WeComScope(
        tenant_id=job.tenant_id, connection_id=int(job.params["connection_id"]), corp_id=client.config.corp_id
    )
    return client, scope


def _sync_org(session: Session, client: WeComClient, scope: WeComScope) -> list[str]:
    """Departments, members, 客户联系 members and corp tags. Returns the follow members' userids."""
    departments = client.list_departments()
    upsert_departments(
        session, tenant_id=scope.tenant_id, connection_id=scope.connection_id, departments=departments
    )
    listed = {department["id"] for department in departments}
    roots = [department for department in departments if department.get("parentid") not in listed]
    root_id = int(roots[0]["id"]) if roots else 1
    for member in client.list_users(root_id, fetch_child=True):
        upsert_member(session, tenant_id=scope.tenant_id, connection_id=scope.connection_id, member=member)
    follow_users = sorted(client.get_follow_user_list())
    set_customer_contact_members(
        session, tenant_id=scope.tenant_id, connection_id=scope.connection_id, userids=set(follow_users)
    )
    upsert_corp_tags(session, scope, client.get_corp_tag_list(), complete=True)
    return follow_users


def full_sync_step(session: Session, job: Job) -> StepOutcome:
    client, scope = _client(session, job)
    state = dict(job.state)
    phase = state.get("phase", "org")
    if phase == "org":
        follow_users = _sync_org(session, client, scope)
        job.state = {**state, "phase": "count", "users": follow_users, "index": 0, "total": 0, "done": 0}
        return StepOutcome(message=f"组织架构与标签已同步，{len(follow_users)} 位成员可联系客户 / org synced")
    users: list[str] = state["users"]
    if phase == "count":
        index, total = int(state["index"]), int(state["total"])
        for userid in users[index : index + COUNT_USERS_PER_STEP]:
            total += len(client.list_external_contacts(userid))
        index += COUNT_USERS_PER_STEP
        next_phase = "contacts" if index >= len(users) else "count"
        job.state = {**state, "phase": next_phase, "index": index, "total": total, "chunk": 0, "cursor": ""}
        return StepOutcome(progress_total=total, progress_done=0, message=f"统计客户数 / counting: {total}")
    chunk, cursor, done = int(state["chunk"]), str(state.get("cursor") or ""), int(state["done"])
    # Several pages per step, within a short time budget: fewer step round trips, while the step's
    # transaction (which holds SQLite's write lock) stays short for the callbacks arriving meanwhile.
    budget_ends = time.monotonic() + STEP_BUDGET_SECONDS
    while time.monotonic() < budget_ends:
        userids = users[chunk * USERS_PER_BATCH : (chunk + 1) * USERS_PER_BATCH]
        if not userids:
            return StepOutcome(
                done=True,
                progress_done=done,
                result={"contacts": done, "members": len(users)},
                message=f"完成 / done: {done}",
            )
        data = client.call(
            "POST",
            "externalcontact/batch/get_by_user",
            body={"userid_list": userids, "cursor": cursor, "limit": 100},
            replay_safe=True,
        )
        page = list(data.get("external_contact_list") or [])
        if page:
            apply_contacts(session, scope, page)
        done += len(page)
        cursor = str(data.get("next_cursor") or "")
        if not cursor:
            chunk += 1
        job.state = {**state, "chunk": chunk, "cursor": cursor, "done": done}
    # More contacts than counted (some arrived meanwhile): keep the bar honest.
    total = max(int(state["total"]), done)
    return StepOutcome(progress_done=done, progress_total=total, message=f"{done}/{total}")


def incremental_sync_step(session: Session, job: Job) -> StepOutcome:
    client, scope = _client(session, job)
    state = dict(job.state)
    if state.get("phase", "org") == "org":
        follow_users = _sync_org(session, client, scope)
        job.state = {"phase": "diff", "users": follow_users, "index": 0, "pending": [], "added": 0, "gone": 0}
        return StepOutcome(
            progress_total=len(follow_users), progress_done=0, message="组织架构与标签已同步 / org synced"
        )
    users, index = list(state["users"]), int(state["index"])
    pending: list[str] = list(state.get("pending") or [])
    added, gone = int(state["added"]), int(state["gone"])
    if pending:
        # Fetch details of new contacts of the current member, a bounded number per step.
        for external_userid in pending[:GETS_PER_STEP]:
            contact = client.get_external_contact(external_userid)
            apply_contacts(session, scope, [contact])
            added += 1
        job.state = {**state, "pending": pending[GETS_PER_STEP:], "added": added}
        return StepOutcome(
            progress_done=index, message=f"新增 {added}，失效 {gone} / added {added}, gone {gone}"
        )
    if index >= len(users):
        return StepOutcome(
            done=True,
            progress_done=len(users),
            result={"added": added, "gone": gone},
            message=f"完成：新增 {added}，失效 {gone} / done",
        )
    userid = users[index]
    remote = set(client.list_external_contacts(userid))
    local = known_external_userids(session, scope, userid)
    gone += mark_relations_gone(session, scope, userid=userid, external_userids=local - remote)
    job.state = {**state, "index": index + 1, "pending": sorted(remote - local), "gone": gone}
    return StepOutcome(progress_done=index + 1, message=f"比对 {userid} / compared {userid}")


JOB_KINDS = [JobKind(FULL_SYNC, full_sync_step), JobKind(INCREMENTAL_SYNC, incremental_sync_step)]
