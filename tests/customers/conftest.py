"""Fixtures of the customers tests: the app's handler registry, the phone vault, a tenant and a
WeCom scope on the rolled-back `db` session, and helpers that write WeCom data like sync does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from scrm.core.events import HandlerRegistry, set_active_registry
from scrm.customers.phones import configure_phone_vault
from scrm.customers.wecom_ingest import WeComScope
from scrm.identity.models import Tenant
from tests.conftest import TEST_SECRET_KEY
from tests.platforms.wecom.test_end_to_end import stack  # noqa: F401 (the running app + WeCom simulator)


@pytest.fixture(autouse=True)
def phone_vault_configured() -> None:
    configure_phone_vault(TEST_SECRET_KEY)


@pytest.fixture
def app_registry() -> Iterator[HandlerRegistry]:
    from scrm.registry import build_registry

    registry = build_registry()
    yield registry
    set_active_registry(None)


@pytest.fixture
def scope(db: Session, app_registry: HandlerRegistry) -> WeComScope:
    tenant = Tenant(name="T")
    db.add(tenant)
    db.flush()
    return WeComScope(tenant_id=tenant.id, connection_id=1, corp_id="ww-corp")


def contact(
    external_userid: str,
    userid: str,
    *,
    unionid: str | None = None,
    name: str = "王女士",
    tags: tuple[str, ...] | list[str] = (),
    createtime: int = 1700000000,
) -> dict[str, Any]:
    return {
        "external_contact": {
            "external_userid": external_userid,
            "name": name,
            "type": 1,
            **({"unionid": unionid} if unionid else {}),
        },
        "follow_info": {"userid": userid, "createtime": createtime, "tag_id": list(tags)},
    }
