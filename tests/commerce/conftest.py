"""Fixtures of the commerce tests: the handler registry, the phone vault, a tenant with shops on the
rolled-back `db` session, and a builder of order snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from scrm.commerce.ingest import ensure_shop
from scrm.commerce.models import Shop
from scrm.core.events import EventHandler, HandlerRegistry, set_active_registry
from scrm.customers.phones import configure_phone_vault
from scrm.identity.models import Tenant
from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    LogisticsSnapshot,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundState,
)
from tests.conftest import TEST_SECRET_KEY

COMMERCE_EVENT_TYPES = (
    "order.created",
    "order.paid",
    "order.shipped",
    "order.received",
    "order.closed",
    "order.refund_changed",
    "order.refunded",
    "order.alert_raised",
)
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def phone_vault_configured() -> None:
    configure_phone_vault(TEST_SECRET_KEY)


@pytest.fixture
def app_registry() -> Iterator[HandlerRegistry]:
    from scrm.registry import build_registry

    registry = build_registry()
    # Later modules (tickets, settlement) will consume these; a stand-in makes them land in the outbox.
    for event_type in COMMERCE_EVENT_TYPES:
        registry.add(EventHandler(event_type, f"test.capture.{event_type}", lambda session, delivery: None))
    yield registry
    set_active_registry(None)


@dataclass
class Shops:
    tenant_id: int
    taobao: Shop
    jd: Shop
    youzan: Shop


@pytest.fixture
def shops(db: Session, app_registry: HandlerRegistry) -> Shops:
    tenant = Tenant(name="Brand")
    db.add(tenant)
    db.flush()

    def shop(connection_id: int, platform: str, external_id: str) -> Shop:
        return ensure_shop(
            db,
            tenant_id=tenant.id,
            connection_id=connection_id,
            platform=platform,
            external_id=external_id,
            name=f"{platform} 旗舰店",
        )

    return Shops(
        tenant.id, shop(101, "taobao", "s-tb"), shop(102, "jd", "v-jd"), shop(103, "youzan", "63077")
    )


def snapshot(
    shop: Shop,
    external_id: str,
    status: OrderStatus,
    *,
    version: int,
    complete: bool = True,
    buyer: str | None = "buyer-1",
    phone: str | None = None,
    payment_fen: int = 16900,
    lines: int = 1,
    refund_state: RefundState | None = None,
    **extra: Any,
) -> OrderSnapshot:
    """An order as `shop`'s platform would show it at `version` (ms after T0)."""
    at = T0 + timedelta(milliseconds=version)
    times: dict[str, Any] = {"created_at": T0}
    if status != OrderStatus.CREATED:
        times["paid_at"] = (
            T0 + timedelta(minutes=1) if status != OrderStatus.CLOSED or extra.get("paid") else None
        )
    if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        times["shipped_at"] = T0 + timedelta(hours=5)
    if status == OrderStatus.COMPLETED:
        times["received_at"] = T0 + timedelta(days=2)
    if status == OrderStatus.CLOSED:
        times["closed_at"] = at
    extra.pop("paid", None)
    body: dict[str, Any] = {}
    if complete:
        body = {
            "payment_fen": payment_fen,
            "total_fen": payment_fen,
            "discount_fen": 0,
            "post_fee_fen": 0,
            "buyer": BuyerIdentity(account_id=buyer, nick="小王", phone=phone) if buyer or phone else None,
            "receiver_province": "上海市",
            "receiver_city": "上海市",
            "lines": tuple(
                OrderLineSnapshot(
                    external_id=f"{external_id}-{index}",
                    title="丝绒口红",
                    sku_id="SKU-LIP-01",
                    quantity=1,
                    price_fen=payment_fen // lines,
                    total_fen=payment_fen // lines,
                    payment_fen=payment_fen // lines,
                )
                for index in range(lines)
            ),
            "raw": {"tid": external_id, "v": version},
        }
    values = {
        "platform": shop.platform,
        "shop_external_id": shop.external_id,
        "external_id": external_id,
        "version": version,
        "complete": complete,
        "status": status,
        "platform_status": f"{status.value.upper()}@{version}",
        "refund_state": refund_state,
        "updated_at": at,
        **times,
        **body,
        **extra,
    }
    return OrderSnapshot(**values)


SHIPPED_LOGISTICS = (LogisticsSnapshot(company="SF", tracking_no="SF123"),)
