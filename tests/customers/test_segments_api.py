"""Customers, tagging, merges and segments over HTTP: filters, masked phones, tag pushes published,
the bulk tag job's progress, segment CRUD / counts / preview / members / export, validation errors
with paths, permissions and tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.actors import Actor
from scrm.core.jobs import Job, run_step
from scrm.core.outbox_models import OutboxEvent
from scrm.customers.handlers import bulk_tag_step
from scrm.customers.identity_resolution import Claim, resolve_customer
from scrm.customers.service import set_customer_source
from scrm.customers.wecom_ingest import WeComScope, apply_contacts, upsert_corp_tags
from scrm.staff.service import upsert_member
from tests.conftest import Persona
from tests.customers.conftest import contact

DAY = 86400
JAN_2026 = int(datetime(2026, 1, 10, tzinfo=UTC).timestamp())


def seed(factory: sessionmaker[Session], tenant_id: int) -> dict[str, int]:
    """王 (抖音, zhangsan, 徐汇店, channel 11, phone), 李 (天猫, lisi), 赵 (抖音+天猫, both staff)."""
    scope = WeComScope(tenant_id=tenant_id, connection_id=7, corp_id="ww-a")
    with factory.begin() as session:
        for userid, name in (("zhangsan", "张三"), ("lisi", "李四")):
            upsert_member(
                session, tenant_id=tenant_id, connection_id=7, member={"userid": userid, "name": name}
            )
        upsert_corp_tags(
            session,
            scope,
            [
                {
                    "group_id": "g1",
                    "group_name": "来源",
                    "tag": [{"id": "t-douyin", "name": "抖音"}, {"id": "t-tmall", "name": "天猫"}],
                }
            ],
            complete=True,
        )
        apply_contacts(
            session,
            scope,
            [
                contact(
                    "wm-wang",
                    "zhangsan",
                    name="王女士",
                    unionid="u-wang",
                    tags=["t-douyin"],
                    createtime=JAN_2026,
                ),
                contact("wm-li", "lisi", name="李先生", tags=["t-tmall"], createtime=JAN_2026 + 30 * DAY),
                contact(
                    "wm-zhao",
                    "zhangsan",
                    name="赵",
                    tags=["t-douyin", "t-tmall"],
                    createtime=JAN_2026 + 60 * DAY,
                ),
            ],
        )
        apply_contacts(
            session, scope, [contact("wm-zhao", "lisi", name="赵", tags=[], createtime=JAN_2026 + 60 * DAY)]
        )
        actor = Actor.system(tenant_id)
        wang = resolve_customer(
            session,
            actor=actor,
            claims=[Claim("wechat_unionid", "u-wang"), Claim("phone", "13800138000")],
            source="t",
        ).customer_id
        assert wang is not None
        set_customer_source(
            session,
            tenant_id=tenant_id,
            customer_id=wang,
            channel_id=11,
            label="抖音达人码",
            store="徐汇店",
            region="上海",
        )
    return {"wang": wang}


def tag_ids(client, persona: Persona) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        t["name"]: t["id"]
        for g in client.get("/api/v1/tags", headers=persona.headers).json()
        for t in g["tags"]
    }


def names(client, persona: Persona, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/customers?{query}", headers=persona.headers)
    assert response.status_code == 200, response.text
    return sorted(c["name"] for c in response.json()["items"])


def test_list_filters(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    douyin, tmall = tags["抖音"], tags["天猫"]
    assert names(client, owner, f"tags_all={douyin}&tags_all={tmall}") == ["赵"]
    assert names(client, owner, f"tags_any={douyin}&tags_any={tmall}") == ["李先生", "王女士", "赵"]
    assert names(client, owner, f"tags_none={douyin}") == ["李先生"]
    assert names(client, owner, f"tag_id={tmall}&tags_none={douyin}") == ["李先生"]
    assert names(client, owner, "channel_id=11") == ["王女士"]
    assert names(client, owner, "store=徐汇店") == ["王女士"]
    assert names(client, owner, "staff=lisi") == ["李先生", "赵"]
    assert names(client, owner, "added_from=2026-02-01") == ["李先生", "赵"]
    assert names(client, owner, "added_from=2026-02-01&added_to=2026-02-28") == ["李先生"]
    # Exact phone search goes through the keyed hash, whatever the formatting.
    assert names(client, owner, "q=%2B86%20138-0013-8000") == ["王女士"]
    assert names(client, owner, "q=13800138001") == []
    bad = client.get("/api/v1/customers?added_from=yesterday&tags_all=999999", headers=owner.headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"added_from", "tags_all"}


def test_profile_masks_phones_without_the_pii_permission(
    client, owner: Persona, agent: Persona, committing_factory
) -> None:
    ids = seed(committing_factory, owner.tenant_id)
    detail = client.get(f"/api/v1/customers/{ids['wang']}", headers=owner.headers).json()
    phones = [i["value"] for i in detail["identities"] if i["kind"] == "phone"]
    assert phones == ["13800138000"]
    assert (
        detail["source_label"] == "抖音达人码" and detail["store"] == "徐汇店" and detail["region"] == "上海"
    )
    assert [t["name"] for t in detail["tags"]] == ["抖音"]
    assert detail["added_at"].startswith("2026-01-10")
    # The agent sees their own customers only, phones masked.
    staff = client.get("/api/v1/staff?q=zhangsan", headers=owner.headers).json()["items"][0]
    client.put(f"/api/v1/staff/{staff['id']}/user", headers=owner.headers, json={"user_id": agent.user_id})
    masked = client.get(f"/api/v1/customers/{ids['wang']}", headers=agent.headers).json()
    assert [i["value"] for i in masked["identities"] if i["kind"] == "phone"] == ["138****8000"]


def test_tagging_from_the_console_publishes_the_push(client, owner: Persona, committing_factory) -> None:
    ids = seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    changed = client.post(
        f"/api/v1/customers/{ids['wang']}/tags",
        headers=owner.headers,
        json={"add": [tags["天猫"]], "remove": []},
    )
    assert changed.status_code == 200, changed.text
    assert sorted(t["name"] for t in changed.json()["tags"]) == ["天猫", "抖音"]
    assert names(client, owner, f"tags_all={tags['天猫']}") == ["李先生", "王女士", "赵"]
    with committing_factory() as session:
        pushes = [
            row.payload
            for row in session.scalars(select(OutboxEvent))
            if row.event_type == "customers.tags_changed"
        ]
    assert pushes and pushes[0]["added"] == [tags["天猫"]] and pushes[0]["customer_id"] == ids["wang"]
    timeline = client.get(f"/api/v1/customers/{ids['wang']}", headers=owner.headers).json()["timeline"]
    assert timeline[0]["kind"] == "tags.changed"
    # Unknown tags and contradictory requests are refused with the field at fault.
    bad = client.post(f"/api/v1/customers/{ids['wang']}/tags", headers=owner.headers, json={"add": [987654]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "add"
    both = client.post(
        f"/api/v1/customers/{ids['wang']}/tags",
        headers=owner.headers,
        json={"add": [tags["天猫"]], "remove": [tags["天猫"]]},
    )
    assert both.status_code == 422


def test_local_tags_and_attributes(client, owner: Persona, committing_factory) -> None:
    ids = seed(committing_factory, owner.tenant_id)
    group = client.post(
        "/api/v1/tags/groups", headers=owner.headers, json={"name": "运营", "tags": ["高复购"]}
    )
    assert group.status_code == 201, group.text
    local = group.json()["tags"][0]["id"]
    tagged = client.post(
        f"/api/v1/customers/{ids['wang']}/tags", headers=owner.headers, json={"add": [local]}
    )
    assert tagged.status_code == 200
    assert any(t["local"] and t["name"] == "高复购" for t in tagged.json()["tags"])
    created = client.post(
        "/api/v1/customer-attributes",
        headers=owner.headers,
        json={"key": "level", "label": "会员等级", "type": "string"},
    )
    assert created.status_code == 201
    client.post(
        "/api/v1/customer-attributes",
        headers=owner.headers,
        json={"key": "birthday", "label": "生日", "type": "date"},
    )
    ok = client.patch(
        f"/api/v1/customers/{ids['wang']}/attributes",
        headers=owner.headers,
        json={"values": {"level": "gold", "birthday": "1990-05-01"}},
    )
    assert ok.status_code == 200 and ok.json()["attributes"] == {"level": "gold", "birthday": "1990-05-01"}
    wrong = client.patch(
        f"/api/v1/customers/{ids['wang']}/attributes",
        headers=owner.headers,
        json={"values": {"level": 3, "x": 1}},
    )
    assert wrong.status_code == 422 and {e["field"] for e in wrong.json()["errors"]} == {
        "values.level",
        "values.x",
    }
    fields = {f["name"]: f for f in client.get("/api/v1/customer-fields", headers=owner.headers).json()}
    assert fields["attributes.level"]["type"] == "string" and "eq" in fields["attributes.level"]["operators"]
    assert fields["order_count"]["available"] is True and fields["order_count"]["group"] == "orders"
    preview = client.post(
        "/api/v1/segments/preview",
        headers=owner.headers,
        json={
            "condition": {
                "all": [
                    {"field": "attributes.level", "op": "eq", "value": "gold"},
                    {"field": "attributes.birthday", "op": "before", "value": "2000-01-01"},
                    {"field": "tags", "op": "contains_all", "value": [local]},
                ]
            }
        },
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == 1 and preview.json()["items"][0]["name"] == "王女士"


def test_bulk_tag_job_reports_progress(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    started = client.post(
        "/api/v1/customers/bulk-tag",
        headers=owner.headers,
        json={"add": [tags["天猫"]], "filter": {"tags_any": [tags["抖音"]]}},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    with committing_factory.begin() as session:
        job = session.get_one(Job, job_id)
        while job.status not in ("succeeded", "failed"):
            run_step(session, job, bulk_tag_step)
    job_out = client.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()
    assert job_out["status"] == "succeeded", job_out
    assert job_out["progress_total"] == job_out["progress_done"] == 2
    # 赵 already had 天猫 through zhangsan, not through lisi: WeCom keeps tags per relation.
    assert job_out["result"] == {"total": 2, "changed": 2, "unchanged": 0, "skipped": 0}
    assert names(client, owner, f"tags_all={tags['天猫']}") == ["李先生", "王女士", "赵"]
    one_target = client.post(
        "/api/v1/customers/bulk-tag", headers=owner.headers, json={"add": [tags["天猫"]]}
    )
    assert one_target.status_code == 422


def test_bulk_tag_job_resumes_in_batches(client, owner: Persona, committing_factory, monkeypatch) -> None:
    seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    monkeypatch.setattr("scrm.customers.handlers.BULK_TAG_BATCH", 1)
    job_id = client.post(
        "/api/v1/customers/bulk-tag",
        headers=owner.headers,
        json={"remove": [tags["抖音"]], "condition": {"all": []}},
    ).json()["id"]
    seen = []
    for _ in range(10):
        # Each step commits on its own, as the worker would: a crash loses at most one batch.
        with committing_factory.begin() as session:
            job = session.get_one(Job, job_id)
            if job.status == "succeeded":
                break
            run_step(session, job, bulk_tag_step)
            seen.append(job.progress_done)
    assert seen == [1, 2, 3, 3]
    assert names(client, owner, f"tags_any={tags['抖音']}") == []


def test_segments_crud_count_members_and_errors(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    condition = {
        "all": [
            {"field": "tags", "op": "contains_any", "value": [tags["抖音"], tags["天猫"]]},
            {"field": "added_at", "op": "between", "value": ["2026-01-01", "2026-02-15"]},
        ]
    }
    created = client.post(
        "/api/v1/segments", headers=owner.headers, json={"name": "一月新客", "condition": condition}
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    counted = client.get(f"/api/v1/segments/{segment['id']}/count", headers=owner.headers).json()
    assert counted["count"] == 2
    # A GET counts without remembering; the POST (a manager's refresh) stores the count for the list.
    assert client.get("/api/v1/segments", headers=owner.headers).json()["items"][0]["last_count"] is None
    recounted = client.post(f"/api/v1/segments/{segment['id']}/count", headers=owner.headers)
    assert recounted.status_code == 200 and recounted.json()["count"] == 2
    members = client.get(f"/api/v1/segments/{segment['id']}/customers?limit=1", headers=owner.headers).json()
    assert [m["name"] for m in members["items"]] == ["李先生"] and members["next_cursor"]
    rest = client.get(
        f"/api/v1/segments/{segment['id']}/customers?limit=1&cursor={members['next_cursor']}",
        headers=owner.headers,
    ).json()
    assert [m["name"] for m in rest["items"]] == ["王女士"]
    listed = client.get("/api/v1/segments", headers=owner.headers).json()["items"]
    assert listed[0]["last_count"] == 2
    patched = client.patch(
        f"/api/v1/segments/{segment['id']}",
        headers=owner.headers,
        json={"condition": {"field": "tags", "op": "contains_none", "value": [tags["抖音"]]}},
    )
    assert patched.status_code == 200 and patched.json()["last_count"] is None
    assert client.get(f"/api/v1/segments/{segment['id']}/count", headers=owner.headers).json()["count"] == 1
    bad = client.post(
        "/api/v1/segments",
        headers=owner.headers,
        json={
            "name": "坏",
            "condition": {
                "all": [
                    {"field": "tags", "op": "gt", "value": 1},
                    {"field": "nope", "op": "eq", "value": 1},
                    {"field": "tags", "op": "contains_all", "value": [424242]},
                    {"field": "order_count", "op": "contains_all", "value": [3]},
                ]
            },
        },
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [
        "condition.all[0].op",
        "condition.all[1].field",
        "condition.all[2].value",
        "condition.all[3].op",
    ]
    assert client.delete(f"/api/v1/segments/{segment['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/v1/segments/{segment['id']}", headers=owner.headers).status_code == 404


def test_segment_export_csv_and_excel(client, owner: Persona, admin: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    tags = tag_ids(client, owner)
    segment = client.post(
        "/api/v1/segments",
        headers=owner.headers,
        json={"name": "抖音", "condition": {"field": "tags", "op": "contains_all", "value": [tags["抖音"]]}},
    ).json()
    response = client.get(f"/api/v1/segments/{segment['id']}/export?format=csv", headers=owner.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="segment-{segment["id"]}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "ID" and [row[1] for row in rows[1:]] == ["赵", "王女士"]
    wang = rows[2]
    assert wang[3] == "抖音达人码" and wang[4] == "徐汇店" and wang[6] == "抖音" and wang[7] == "张三"
    assert wang[8] == "13800138000"  # the owner may see phones
    excel = client.get(f"/api/v1/segments/{segment['id']}/export?format=xlsx", headers=admin.headers)
    assert excel.status_code == 200
    sheet = load_workbook(io.BytesIO(excel.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][1] == "姓名 Name" and [row[1] for row in values[1:]] == ["赵", "王女士"]


def test_segment_permissions_and_tenant_isolation(
    client, owner: Persona, agent: Persona, finance: Persona, other_tenant: Persona, committing_factory
) -> None:
    seed(committing_factory, owner.tenant_id)
    condition = {"field": "staff", "op": "contains_any", "value": ["zhangsan", "lisi"]}
    segment = client.post(
        "/api/v1/segments", headers=owner.headers, json={"name": "有跟进", "condition": condition}
    ).json()
    sid = segment["id"]
    # Finance may not see customers; the agent may not manage segments nor export.
    assert client.get(f"/api/v1/segments/{sid}/count", headers=finance.headers).status_code == 403
    assert (
        client.post(
            "/api/v1/segments", headers=agent.headers, json={"name": "x", "condition": condition}
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/segments/{sid}/export", headers=agent.headers).status_code == 403
    # The agent's count is of their own customers (none linked yet).
    assert client.get(f"/api/v1/segments/{sid}/count", headers=agent.headers).json()["count"] == 0
    assert client.get(f"/api/v1/segments/{sid}/count", headers=owner.headers).json()["count"] == 3
    # Only managers store a count for everyone's list.
    assert client.post(f"/api/v1/segments/{sid}/count", headers=agent.headers).status_code == 403
    h = other_tenant.headers
    for method, path in (
        ("GET", f"/api/v1/segments/{sid}"),
        ("GET", f"/api/v1/segments/{sid}/count"),
        ("POST", f"/api/v1/segments/{sid}/count"),
        ("GET", f"/api/v1/segments/{sid}/customers"),
        ("GET", f"/api/v1/segments/{sid}/export"),
        ("PATCH", f"/api/v1/segments/{sid}"),
        ("DELETE", f"/api/v1/segments/{sid}"),
    ):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        assert client.request(method, path, headers=h, **kwargs).status_code == 404, path
    assert client.get("/api/v1/segments", headers=h).json()["items"] == []
    # Another tenant's tag ids are unknown tags there.
    tags = tag_ids(client, owner)
    foreign = client.post(
        "/api/v1/segments/preview",
        headers=h,
        json={"condition": {"field": "tags", "op": "contains_any", "value": [tags["抖音"]]}},
    )
    assert foreign.status_code == 422
    assert (
        client.post(
            "/api/v1/customers/bulk-tag", headers=h, json={"add": [tags["抖音"]], "condition": {"all": []}}
        ).status_code
        == 422
    )


def test_merge_unmerge_api_and_pointer(client, owner: Persona, agent: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    by_name = {
        c["name"]: c["id"] for c in client.get("/api/v1/customers", headers=owner.headers).json()["items"]
    }
    wang, li = by_name["王女士"], by_name["李先生"]
    assert (
        client.post(
            f"/api/v1/customers/{wang}/merge", headers=agent.headers, json={"other_id": li, "reason": "x"}
        ).status_code
        == 403
    )
    refused = client.post(
        f"/api/v1/customers/{wang}/merge", headers=owner.headers, json={"other_id": li, "reason": "同一人"}
    )
    assert refused.status_code == 409  # two external_userids of one corp
    merged = client.post(
        f"/api/v1/customers/{wang}/merge",
        headers=owner.headers,
        json={"other_id": li, "reason": "同一人", "force": True},
    )
    assert merged.status_code == 200, merged.text
    gone = client.get(f"/api/v1/customers/{li}", headers=owner.headers)
    assert gone.status_code == 404
    assert gone.json()["type"] == "/problems/customer-merged" and gone.json()["merged_into_id"] == wang
    assert "李先生" not in names(client, owner, "")
    profile = client.get(f"/api/v1/customers/{wang}", headers=owner.headers).json()
    assert {f["staff_userid"] for f in profile["follow_staff"]} == {"zhangsan", "lisi"}
    assert profile["merges"][0]["merged_id"] == li
    undone = client.post(
        f"/api/v1/customers/{wang}/unmerge", headers=owner.headers, json={"other_id": li, "reason": "错了"}
    )
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert client.get(f"/api/v1/customers/{li}", headers=owner.headers).status_code == 200
    assert "李先生" in names(client, owner, "")


def test_resolve_api_and_review_queue(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    daughter = client.post(
        "/api/v1/customers/resolve",
        headers=owner.headers,
        json={
            "identities": [
                {"kind": "wechat_unionid", "value": "u-girl"},
                {"kind": "phone", "value": "13800138000"},
            ]
        },
    )
    assert daughter.status_code == 200, daughter.text
    body = daughter.json()
    assert body["outcome"] == "new" and body["created"] and len(body["suggestions"]) == 1
    assert body["explanation"][0]["rule"] == "same_phone" and body["explanation"][0]["decision"] == "refused"
    assert body["explanation"][0]["identity"]["value"] == "138****8000"  # never the hash, never the number
    queue = client.get("/api/v1/customer-merge-suggestions", headers=owner.headers).json()["items"]
    assert len(queue) == 1
    dismissed = client.post(
        f"/api/v1/customer-merge-suggestions/{queue[0]['id']}/dismiss", headers=owner.headers
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert client.get("/api/v1/customer-merge-suggestions", headers=owner.headers).json()["items"] == []
