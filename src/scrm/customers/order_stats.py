"""Order aggregates on the customer profile (订单聚合), written by the commerce module.

Commerce computes each customer's figures from their orders (never by incrementing counters, so a
repeated or reordered event cannot skew them) and hands them to `record_order_stats`. The RFM scores
are 1-5 by fixed thresholds (`score_rfm`, pure); recency depends on today, so `refresh_recency`
re-scores it (a daily timer in the commerce module calls it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.orm import Session

from scrm.customers.models import Customer

#: Days since the last order → R score (5: within 30 days ... 1: over a year).
RECENCY_DAYS: tuple[int, ...] = (30, 90, 180, 365)
#: Paid orders → F score (1 order: 1 ... 10+: 5).
FREQUENCY_ORDERS: tuple[int, ...] = (2, 3, 5, 10)
#: Net spend in fen → M score (under 200 yuan: 1 ... 5,000 yuan and more: 5).
MONETARY_FEN: tuple[int, ...] = (20_000, 50_000, 200_000, 500_000)


@dataclass(frozen=True)
class ShopOrderStats:
    platform: str
    shop_id: int
    shop_name: str
    order_count: int
    spent_fen: int
    first_order_at: datetime | None
    last_order_at: datetime | None


@dataclass(frozen=True)
class OrderStats:
    order_count: int = 0
    spent_fen: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    by_shop: list[ShopOrderStats] = field(default_factory=list)

    @property
    def platform_count(self) -> int:
        return len({shop.platform for shop in self.by_shop if shop.order_count})


def _ascending_score(value: int, thresholds: tuple[int, ...]) -> int:
    """1 + how many thresholds `value` reaches."""
    return 1 + sum(value >= threshold for threshold in thresholds)


def recency_score(last_order_at: datetime | None, now: datetime) -> int:
    if last_order_at is None:
        return 0
    age = now - last_order_at
    return 5 - sum(age > timedelta(days=limit) for limit in RECENCY_DAYS)


def score_rfm(stats: OrderStats, now: datetime) -> tuple[int, int, int]:
    """(R, F, M), each 1-5; (0, 0, 0) without orders."""
    if stats.order_count == 0:
        return 0, 0, 0
    return (
        recency_score(stats.last_order_at, now),
        _ascending_score(stats.order_count, FREQUENCY_ORDERS),
        _ascending_score(stats.spent_fen, MONETARY_FEN),
    )


def record_order_stats(
    session: Session, *, tenant_id: int, customer_id: int, stats: OrderStats, now: datetime
) -> None:
    """Store the customer's order aggregates (absent customers are ignored: merged-away or gone)."""
    record_orders_stats(session, tenant_id=tenant_id, stats={customer_id: stats}, now=now)


_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_RECORD_STATS = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.tenant_id == bindparam("tenant"), _CUSTOMERS.c.id == bindparam("customer"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "order_count",
                "total_spent_fen",
                "avg_order_fen",
                "first_order_at",
                "last_order_at",
                "platform_count",
                "rfm_r",
                "rfm_f",
                "rfm_m",
                "orders_by_shop",
            )
        }
    )
)


def record_orders_stats(
    session: Session, *, tenant_id: int, stats: Mapping[int, OrderStats], now: datetime
) -> None:
    """`record_order_stats` for several customers (customer id -> aggregates), in one statement
    executed for each, in customer id order."""
    rows = []
    for customer_id in sorted(stats):
        figures = stats[customer_id]
        r, f, m = score_rfm(figures, now)
        rows.append(
            {
                "tenant": tenant_id,
                "customer": customer_id,
                "order_count": figures.order_count,
                "total_spent_fen": figures.spent_fen,
                "avg_order_fen": figures.spent_fen // figures.order_count if figures.order_count else 0,
                "first_order_at": figures.first_order_at,
                "last_order_at": figures.last_order_at,
                "platform_count": figures.platform_count,
                "rfm_r": r,
                "rfm_f": f,
                "rfm_m": m,
                "orders_by_shop": [
                    {
                        **asdict(shop),
                        "first_order_at": shop.first_order_at.isoformat() if shop.first_order_at else None,
                        "last_order_at": shop.last_order_at.isoformat() if shop.last_order_at else None,
                    }
                    for shop in figures.by_shop
                ],
            }
        )
    if rows:
        session.connection().execute(_RECORD_STATS, rows)


def refresh_recency(session: Session, *, tenant_id: int, now: datetime) -> int:
    """Re-score R for every customer with orders (recency ages without any event). Rows changed."""
    limits = [now - timedelta(days=days) for days in RECENCY_DAYS]
    score = case(
        (Customer.last_order_at >= limits[0], 5),
        (Customer.last_order_at >= limits[1], 4),
        (Customer.last_order_at >= limits[2], 3),
        (Customer.last_order_at >= limits[3], 2),
        else_=1,
    )
    result = session.execute(
        update(Customer)
        .where(
            Customer.tenant_id == tenant_id,
            Customer.last_order_at.is_not(None),
            Customer.rfm_r != score,
        )
        .values(rfm_r=score)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
