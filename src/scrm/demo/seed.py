"""The demo workspace: a brand with departments, staff in every built-in role, and an API key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, ActorKind
from scrm.identity.api_keys import create_api_key
from scrm.identity.models import Role, Tenant, User
from scrm.identity.schemas import ApiKeyCreate, DepartmentCreate, UserCreate
from scrm.identity.service import create_department, create_tenant, create_user

DEMO_TENANT_NAME = "演示品牌 · 花漾美妆"
DEMO_EMAIL = "demo@scrm.local"
DEMO_PASSWORD = "scrm-demo-2026"
STAFF_PASSWORD = "staff-demo-2026"


@dataclass(frozen=True)
class DemoSeed:
    tenant_id: int
    created: bool


def seed_demo(session: Session) -> DemoSeed:
    """Create the demo workspace once; later runs find it and change nothing."""
    existing = session.scalars(select(Tenant).where(Tenant.name == DEMO_TENANT_NAME)).first()
    if existing is not None:
        return DemoSeed(tenant_id=existing.id, created=False)
    tenant = create_tenant(
        session,
        name=DEMO_TENANT_NAME,
        admin_email=DEMO_EMAIL,
        admin_password=DEMO_PASSWORD,
        admin_name="演示管理员",
    )
    owner = session.scalars(select(User).where(User.email == DEMO_EMAIL)).one()
    actor = Actor(
        kind=ActorKind.USER,
        tenant_id=tenant.id,
        user_id=owner.id,
        permissions=frozenset({"*"}),
        name=DEMO_EMAIL,
        ip="127.0.0.1",
    )
    roles = {role.key: role.id for role in session.scalars(select(Role).where(Role.tenant_id == tenant.id))}
    east = create_department(session, actor=actor, data=DepartmentCreate(name="华东大区"))
    shanghai = create_department(
        session, actor=actor, data=DepartmentCreate(name="上海门店", parent_id=east.id)
    )
    north = create_department(session, actor=actor, data=DepartmentCreate(name="华北大区"))
    staff = [
        ("zhangsan@scrm.local", "张三 (导购)", "agent", shanghai.id),
        ("lisi@scrm.local", "李四 (导购)", "agent", shanghai.id),
        ("wangwu@scrm.local", "王五 (运营)", "operator", east.id),
        ("zhaoliu@scrm.local", "赵六 (财务)", "finance", None),
        ("sunqi@scrm.local", "孙七 (客服主管)", "admin", north.id),
    ]
    for email, name, role_key, department_id in staff:
        create_user(
            session,
            actor=actor,
            data=UserCreate(
                email=email,
                display_name=name,
                password=STAFF_PASSWORD,
                role_id=roles[role_key],
                department_id=department_id,
            ),
        )
    create_api_key(
        session, actor=actor, data=ApiKeyCreate(name="ERP 订单同步 (demo)", role_id=roles["admin"])
    )
    session.flush()
    return DemoSeed(tenant_id=tenant.id, created=True)
