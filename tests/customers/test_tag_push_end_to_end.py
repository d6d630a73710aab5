"""Console tagging reaches WeCom within seconds, through the worker, over real HTTP to the simulator
(seed 004: tag changes propagate within 5 s), also when WeCom fails once; bulk tagging too."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.platforms.wecom import reactions
from tests.core.helpers import wait_until
from tests.platforms.wecom.test_end_to_end import Stack, _sync, _token


def _wecom_tags(running: Stack, external_userid: str) -> dict[str, set[str]]:
    """staff userid → the tag ids WeCom shows on that relation (`externalcontact/get`)."""
    answer = httpx.get(
        f"{running.simulator.base_url}/cgi-bin/externalcontact/get",
        params={"access_token": _token(running), "external_userid": external_userid},
        timeout=10,
    ).json()
    assert answer["errcode"] == 0, answer
    return {
        follow["userid"]: {tag["tag_id"] for tag in follow.get("tags", []) if tag.get("tag_id")}
        for follow in answer["follow_user"]
    }


def _tag(running: Stack, name: str) -> dict:
    groups = running.api.get("/api/v1/tags").json()
    return next(t for g in groups for t in g["tags"] if t["name"] == name)


def test_console_tag_reaches_wecom_within_seconds(stack: Stack) -> None:
    _sync(stack, "full")
    created = stack.api.post(
        "/api/v1/tags/groups",
        json={"connection_id": stack.connection["id"], "name": "意向", "tags": ["高意向", "已到店"]},
    )
    assert created.status_code == 201, created.text
    wait_until(lambda: bool(_tag(stack, "高意向")["wecom_tag_id"]), what="the tag to exist in WeCom")
    hot, visited = _tag(stack, "高意向"), _tag(stack, "已到店")
    customer = next(c for c in stack.customers() if any(f["status"] == "active" for f in c["follow_staff"]))
    follows = [f for f in customer["follow_staff"] if f["status"] == "active"]
    external_userid = next(i["value"] for i in customer["identities"] if i["kind"] == "wecom_external_userid")

    # WeCom fails the first mark_tag: the handler retries (the outbox backs off) and the tags still land.
    httpx.post(
        f"{stack.simulator.base_url}/_sim/faults",
        json={"api": "externalcontact/mark_tag", "errcode": -1, "count": 1},
        timeout=10,
    )
    changed = stack.api.post(
        f"/api/v1/customers/{customer['id']}/tags", json={"add": [hot["id"], visited["id"]]}
    )
    assert changed.status_code == 200, changed.text

    def in_wecom() -> bool:
        shown = _wecom_tags(stack, external_userid)
        return all(
            {hot["wecom_tag_id"], visited["wecom_tag_id"]} <= shown.get(f["staff_userid"], set())
            for f in follows
        )

    wait_until(in_wecom, what="the tags to reach WeCom")
    # The push is on the customer's timeline once it has landed, naming the members marked.
    wait_until(
        lambda: any(
            e["kind"] == "tags.pushed"
            for e in stack.api.get(f"/api/v1/customers/{customer['id']}").json()["timeline"]
        ),
        what="the push on the timeline",
    )
    pushed = next(
        e
        for e in stack.api.get(f"/api/v1/customers/{customer['id']}").json()["timeline"]
        if e["kind"] == "tags.pushed"
    )
    assert sorted(pushed["detail"]["pushed"]) == sorted(f["staff_userid"] for f in follows)

    # Removing one is pushed the same way.
    stack.api.post(f"/api/v1/customers/{customer['id']}/tags", json={"remove": [visited["id"]]})
    wait_until(
        lambda: all(
            visited["wecom_tag_id"] not in tags for tags in _wecom_tags(stack, external_userid).values()
        ),
        what="the removal to reach WeCom",
    )
    profile = stack.api.get(f"/api/v1/customers/{customer['id']}").json()
    assert "高意向" in {t["name"] for t in profile["tags"]} and "已到店" not in {
        t["name"] for t in profile["tags"]
    }


def _pushes_pending(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(
                    OutboxEvent.handler == "wecom.push_customer_tags",
                    OutboxEvent.status.in_([OutboxStatus.PENDING, OutboxStatus.PROCESSING]),
                )
            )
            or 0
        )


def test_bulk_tagging_a_segment_reaches_wecom(
    stack: Stack, committing_factory: sessionmaker[Session]
) -> None:
    _sync(stack, "full")
    stack.api.post(
        "/api/v1/tags/groups",
        json={"connection_id": stack.connection["id"], "name": "活动", "tags": ["双11"]},
    )
    wait_until(lambda: bool(_tag(stack, "双11")["wecom_tag_id"]), what="the tag to exist in WeCom")
    tag = _tag(stack, "双11")
    segment = stack.api.post(
        "/api/v1/segments",
        json={
            "name": "王五的客户",
            "condition": {"field": "staff", "op": "contains_any", "value": ["wangwu"]},
        },
    ).json()
    expected = stack.api.get(f"/api/v1/segments/{segment['id']}/count").json()["count"]
    assert expected > 0
    job = stack.api.post("/api/v1/customers/bulk-tag", json={"add": [tag["id"]], "segment_id": segment["id"]})
    assert job.status_code == 202, job.text

    def finished() -> bool:
        return stack.api.get(f"/api/v1/jobs/{job.json()['id']}").json()["status"] == "succeeded"

    wait_until(finished, what="the bulk tag job")
    result = stack.api.get(f"/api/v1/jobs/{job.json()['id']}").json()
    assert result["progress_done"] == result["progress_total"] == expected
    tagged = stack.api.get(f"/api/v1/customers?tags_all={tag['id']}&limit=200").json()["items"]
    assert len(tagged) == min(expected, 200)
    sample = tagged[0]
    external_userid = next(i["value"] for i in sample["identities"] if i["kind"] == "wecom_external_userid")
    # Every push is done (paced by the WeCom client) before the stack stops.
    wait_until(lambda: _pushes_pending(committing_factory) == 0, what="every bulk tag push")
    assert tag["wecom_tag_id"] in _wecom_tags(stack, external_userid).get("wangwu", set())


def test_a_push_wecom_keeps_refusing_is_given_up_and_shown_on_the_timeline(
    stack: Stack, committing_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reactions, "PUSH_ATTEMPTS", 2)
    _sync(stack, "full")
    created = stack.api.post(
        "/api/v1/tags/groups",
        json={"connection_id": stack.connection["id"], "name": "意向", "tags": ["高意向"]},
    )
    assert created.status_code == 201, created.text
    wait_until(lambda: bool(_tag(stack, "高意向")["wecom_tag_id"]), what="the tag to exist in WeCom")
    customer = next(c for c in stack.customers() if any(f["status"] == "active" for f in c["follow_staff"]))
    members = sorted(f["staff_userid"] for f in customer["follow_staff"] if f["status"] == "active")
    httpx.post(
        f"{stack.simulator.base_url}/_sim/faults",
        json={"api": "externalcontact/mark_tag", "errcode": -1},
        timeout=10,
    )
    changed = stack.api.post(
        f"/api/v1/customers/{customer['id']}/tags", json={"add": [_tag(stack, "高意向")["id"]]}
    )
    assert changed.status_code == 200, changed.text

    def failure() -> dict | None:
        timeline = stack.api.get(f"/api/v1/customers/{customer['id']}").json()["timeline"]
        return next((e for e in timeline if e["kind"] == "tags.push_failed"), None)

    wait_until(lambda: failure() is not None, what="the failed push on the timeline")
    entry = failure()
    assert entry is not None and sorted(entry["detail"]["failed"]) == members
    # Given up after the second attempt: done, not dead-lettered, not retried again.
    wait_until(lambda: _pushes_pending(committing_factory) == 0, what="the push to settle")
    with committing_factory() as session:
        push = session.scalars(
            select(OutboxEvent).where(OutboxEvent.handler == "wecom.push_customer_tags")
        ).one()
    assert (push.status, push.attempts) == (OutboxStatus.DONE, 2)
    # The tag stays on the customer locally.
    profile = stack.api.get(f"/api/v1/customers/{customer['id']}").json()
    assert "高意向" in {t["name"] for t in profile["tags"]}
