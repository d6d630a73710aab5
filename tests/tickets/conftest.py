"""Fixtures of the tickets tests: a controllable clock for the service and the SLA clocks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scrm.tickets import service as ticket_service
from scrm.tickets.sla import clocks

# Monday 2026-09-28 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)


class Now:
    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[Now]:
    """`utcnow` of the tickets service and the SLA clocks, set by the test (Monday 10:00 Shanghai)."""
    clock = Now(MONDAY_10)
    monkeypatch.setattr(ticket_service, "utcnow", clock)
    monkeypatch.setattr(clocks, "utcnow", clock)
    yield clock


@dataclass(frozen=True)
class Records:
    """Customers and orders of a tenant for tickets to point at: `customers[i]` are customer ids;
    `orders[j]` order ids, each bought by `customers[0]`."""

    customers: list[int]
    orders: list[int]


def make_records(
    factory: sessionmaker[Session], tenant_id: int, *, customers: int = 3, orders: int = 2
) -> Records:
    from scrm.commerce.models import Order, Shop
    from scrm.customers.models import Customer

    with factory.begin() as session:
        people = [Customer(tenant_id=tenant_id, name=f"顾客{index}") for index in range(customers)]
        shop = Shop(tenant_id=tenant_id, connection_id=1, platform="youzan", external_id="s1", name="店")
        session.add_all([*people, shop])
        session.flush()
        bought = [
            Order(
                tenant_id=tenant_id,
                shop_id=shop.id,
                platform="youzan",
                external_id=f"E{index}",
                status="paid",
                platform_status="WAIT_SELLER_SEND_GOODS",
                customer_id=people[0].id,
            )
            for index in range(orders)
        ]
        session.add_all(bought)
        session.flush()
        return Records([person.id for person in people], [order.id for order in bought])


@pytest.fixture
def records(committing_factory: sessionmaker[Session], owner: Any) -> Records:
    """Brand A's customers and orders."""
    return make_records(committing_factory, owner.tenant_id)


@pytest.fixture
def foreign_records(committing_factory: sessionmaker[Session], other_tenant: Any) -> Records:
    """Brand B's customers and orders."""
    return make_records(committing_factory, other_tenant.tenant_id)
