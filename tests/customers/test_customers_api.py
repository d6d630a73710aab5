"""Customers and tags over HTTP: lists, profile, data scopes, tenant isolation, tag edits published."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.outbox_models import OutboxEvent
from scrm.customers.wecom_ingest import WeComScope, apply_contacts, record_follow_added, upsert_corp_tags
from scrm.staff.service import upsert_member
from tests.conftest import Persona


def seed(factory: sessionmaker[Session], tenant_id: int) -> None:
    scope = WeComScope(tenant_id=tenant_id, connection_id=7, corp_id="ww-a")
    with factory.begin() as session:
        upsert_member(
            session, tenant_id=tenant_id, connection_id=7, member={"userid": "zhangsan", "name": "张三"}
        )
        upsert_member(
            session, tenant_id=tenant_id, connection_id=7, member={"userid": "lisi", "name": "李四"}
        )
        upsert_corp_tags(
            session,
            scope,
            [{"group_id": "g1", "group_name": "来源", "tag": [{"id": "t-douyin", "name": "抖音"}]}],
            complete=True,
        )
        apply_contacts(
            session,
            scope,
            [
                {
                    "external_contact": {"external_userid": "wm-wang", "name": "王女士", "unionid": "u-wang"},
                    "follow_info": {
                        "userid": "zhangsan",
                        "remark": "VIP 王",
                        "tag_id": ["t-douyin"],
                        "createtime": 1700000000,
                    },
                },
                {
                    "external_contact": {"external_userid": "wm-li", "name": "李先生"},
                    "follow_info": {"userid": "lisi", "tag_id": [], "createtime": 1700000100},
                },
            ],
        )
        record_follow_added(
            session,
            scope,
            userid="lisi",
            external_userid="wm-wang",
            state="store-sh",
            occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        )


def test_list_and_profile(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)
    items = client.get("/api/v1/customers", headers=owner.headers).json()["items"]
    assert [c["name"] for c in items] == ["李先生", "王女士"]
    wang = items[1]
    assert {f["staff_name"] for f in wang["follow_staff"]} == {"张三", "李四"}
    assert [t["name"] for t in wang["tags"]] == ["抖音"]
    assert {i["kind"] for i in wang["identities"]} == {"wecom_external_userid", "wechat_unionid"}
    detail = client.get(f"/api/v1/customers/{wang['id']}", headers=owner.headers).json()
    assert {entry["kind"] for entry in detail["timeline"]} == {"wecom.synced", "wecom.added"}


def test_filters(client, owner: Persona, committing_factory) -> None:
    seed(committing_factory, owner.tenant_id)

    def names(query: str) -> list[str]:
        return [
            c["name"] for c in client.get(f"/api/v1/customers?{query}", headers=owner.headers).json()["items"]
        ]

    tag_id = client.get("/api/v1/tags", headers=owner.headers).json()[0]["tags"][0]["id"]
    assert names(f"tag_id={tag_id}") == ["王女士"]
    assert names("staff=zhangsan") == ["王女士"]
    assert names("q=VIP") == ["王女士"]
    assert names("q=wm-li") == ["李先生"]


def test_own_scope_sees_only_customers_of_their_linked_staff(
    client, owner: Persona, agent: Persona, committing_factory
) -> None:
    seed(committing_factory, owner.tenant_id)
    assert client.get("/api/v1/customers", headers=agent.headers).json()["items"] == []
    staff = client.get("/api/v1/staff?q=zhangsan", headers=owner.headers).json()["items"][0]
    linked = client.put(
        f"/api/v1/staff/{staff['id']}/user", headers=owner.headers, json={"user_id": agent.user_id}
    )
    assert linked.status_code == 200
    assert [c["name"] for c in client.get("/api/v1/customers", headers=agent.headers).json()["items"]] == [
        "王女士"
    ]
    li = client.get("/api/v1/customers?q=wm-li", headers=owner.headers).json()["items"][0]
    assert client.get(f"/api/v1/customers/{li['id']}", headers=agent.headers).status_code == 404


def test_other_tenants_customers_staff_and_tags_are_invisible(
    client, owner: Persona, other_tenant: Persona, committing_factory
) -> None:
    seed(committing_factory, owner.tenant_id)
    customer_id = client.get("/api/v1/customers", headers=owner.headers).json()["items"][0]["id"]
    staff_id = client.get("/api/v1/staff", headers=owner.headers).json()["items"][0]["id"]
    tag_id = client.get("/api/v1/tags", headers=owner.headers).json()[0]["tags"][0]["id"]
    group_id = client.get("/api/v1/tags", headers=owner.headers).json()[0]["id"]
    h = other_tenant.headers
    assert client.get("/api/v1/customers", headers=h).json()["items"] == []
    assert client.get("/api/v1/staff", headers=h).json()["items"] == []
    assert client.get("/api/v1/tags", headers=h).json() == []
    assert client.get(f"/api/v1/customers/{customer_id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/staff/{staff_id}", headers=h).status_code == 404
    assert client.put(f"/api/v1/staff/{staff_id}/user", headers=h, json={"user_id": None}).status_code == 404
    assert client.patch(f"/api/v1/tags/{tag_id}", headers=h, json={"name": "x"}).status_code == 404
    assert client.delete(f"/api/v1/tags/{tag_id}", headers=h).status_code == 404
    assert (
        client.post(f"/api/v1/tags/groups/{group_id}/tags", headers=h, json={"name": "x"}).status_code == 404
    )
    # Linking a staff member to a user of another tenant is a 404 too.
    assert (
        client.put(
            f"/api/v1/staff/{staff_id}/user", headers=owner.headers, json={"user_id": other_tenant.user_id}
        ).status_code
        == 404
    )
    assert client.get("/api/v1/tags", headers=owner.headers).json()[0]["tags"][0]["name"] == "抖音"


def test_tag_edits_are_published_for_the_push_to_wecom(
    client, owner: Persona, agent: Persona, committing_factory
) -> None:
    seed(committing_factory, owner.tenant_id)
    created = client.post(
        "/api/v1/tags/groups",
        headers=owner.headers,
        json={"connection_id": 7, "name": "会员等级", "tags": ["金卡", "银卡"]},
    )
    assert created.status_code == 201, created.text
    assert [t["name"] for t in created.json()["tags"]] == ["金卡", "银卡"]
    duplicate = client.post(
        "/api/v1/tags/groups",
        headers=owner.headers,
        json={"connection_id": 7, "name": "会员等级", "tags": ["x"]},
    )
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "name"
    tag_id = created.json()["tags"][0]["id"]
    assert (
        client.patch(f"/api/v1/tags/{tag_id}", headers=owner.headers, json={"name": "黑金卡"}).status_code
        == 200
    )
    assert client.delete(f"/api/v1/tags/{tag_id}", headers=agent.headers).status_code == 403
    assert client.delete(f"/api/v1/tags/{tag_id}", headers=owner.headers).status_code == 204
    with committing_factory() as session:
        types = {row.event_type for row in session.scalars(select(OutboxEvent))}
    # Published only if a handler is registered; the WeCom push handler registers for all three.
    assert (
        types >= {"customers.tag_group_created", "customers.tag_renamed", "customers.tag_deleted"}
        or types == set()
    )
