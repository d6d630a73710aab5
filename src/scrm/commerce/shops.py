"""Shops as the console sees them: each shop connection with its sync health, sync now, backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.commerce.models import Order, Shop
from scrm.commerce.permissions import CommercePermission
from scrm.commerce.schemas import ShopHealthOut
from scrm.commerce.sync import PULL_INTERVAL, schedule_pull, shop_row, start_backfill
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, ValidationFailed
from scrm.core.jobs import Job, JobOut
from scrm.core.outbox_models import InboundMessage
from scrm.core.shared_state import SharedState
from scrm.platforms.service import callback_url_of
from scrm.platforms.shops.receiver import PUSH_PLATFORMS
from scrm.platforms.shops.service import ShopIdentity, list_shop_identities, require_shop, shop_breaker

#: A cursor further behind now than this (3 pull intervals) shows the shop as lagging.
LAGGING_AFTER = PULL_INTERVAL * 3
#: How far back a backfill may reach (Taobao keeps 3 months of increments; others similar).
MAX_BACKFILL = timedelta(days=92)


def _health(identity: ShopIdentity, shop: Shop | None, lag: float | None, breaker: str) -> str:
    if not identity.active:
        return "disabled"
    if shop is None or shop.cursor_at is None:
        return "failing" if shop is not None and shop.consecutive_failures else "never_synced"
    if breaker == "open" or shop.consecutive_failures:
        return "failing"
    if lag is not None and lag > LAGGING_AFTER.total_seconds():
        return "lagging"
    return "ok"


def list_shops(
    session: Session, *, actor: Actor, shared_state: SharedState, public_base_url: str
) -> list[ShopHealthOut]:
    actor.require(CommercePermission.ORDERS_VIEW)
    now = utcnow()
    shops = {
        shop.connection_id: shop
        for shop in session.scalars(select(Shop).where(Shop.tenant_id == actor.tenant_id))
    }
    counts = dict(
        session.execute(
            select(Order.shop_id, func.count(Order.id))
            .where(Order.tenant_id == actor.tenant_id)
            .group_by(Order.shop_id)
        ).all()
    )
    # HTTP pushes: the newest stored inbox message per connection.
    pushed = {
        int(connection): at
        for connection, at in session.execute(
            select(InboundMessage.connection_id, func.max(InboundMessage.received_at))
            .where(InboundMessage.tenant_id == actor.tenant_id, InboundMessage.platform.in_(PUSH_PLATFORMS))
            .group_by(InboundMessage.connection_id)
        )
    }
    jobs: dict[int, Job] = {}
    for job in session.scalars(
        select(Job)
        .where(Job.tenant_id == actor.tenant_id, Job.dedupe_key.startswith("commerce.backfill:"))
        .order_by(Job.id)
    ):
        if job.connection_id is not None:
            jobs[job.connection_id] = job
    answer = []
    for identity in list_shop_identities(session, actor.tenant_id):
        shop = shops.get(identity.connection_id)
        breaker = shop_breaker(shared_state, identity.connection_id)
        lag = (now - shop.cursor_at).total_seconds() if shop and shop.cursor_at else None
        latest = jobs.get(identity.connection_id)
        answer.append(
            ShopHealthOut(
                connection_id=identity.connection_id,
                shop_id=shop.id if shop else None,
                platform=identity.platform,
                external_id=identity.external_id,
                name=identity.name,
                connection_status="active" if identity.active else "disabled",
                callback_url=callback_url_of(public_base_url, identity.platform, identity.connection_id),
                cursor_at=shop.cursor_at if shop else None,
                lag_seconds=lag,
                last_pull_at=shop.last_pull_at if shop else None,
                last_pull_ok_at=shop.last_pull_ok_at if shop else None,
                last_pull_error=shop.last_pull_error if shop else None,
                consecutive_failures=shop.consecutive_failures if shop else 0,
                last_push_at=pushed.get(identity.connection_id) or (shop.last_push_at if shop else None),
                breaker=breaker.state,
                breaker_open_until=(
                    datetime.fromtimestamp(breaker.open_until, UTC)
                    if breaker.open_until is not None
                    else None
                ),
                order_count=int(counts.get(shop.id, 0)) if shop else 0,
                backfill=JobOut.of(latest) if latest else None,
                health=_health(identity, shop, lag, breaker.state),
            )
        )
    return answer


def _active_shop(session: Session, actor: Actor, connection_id: int) -> ShopIdentity:
    actor.require(CommercePermission.SHOPS_MANAGE)
    identity = require_shop(session, actor.tenant_id, connection_id)
    if not identity.active:
        raise Conflict(f"connection {connection_id} is disabled")
    return identity


def sync_now(session: Session, *, actor: Actor, connection_id: int) -> None:
    """Pull the shop's recent changes now (instead of at the next tick)."""
    identity = _active_shop(session, actor, connection_id)
    shop_row(session, identity)
    schedule_pull(session, tenant_id=actor.tenant_id, connection_id=connection_id, due_at=utcnow())


def backfill(
    session: Session, *, actor: Actor, connection_id: int, start: datetime, end: datetime | None
) -> tuple[Job, bool]:
    """Queue a backfill of the shop's orders changed in [start, end or now)."""
    identity = _active_shop(session, actor, connection_id)
    now = utcnow()
    end = min(end or now, now)
    if start < now - MAX_BACKFILL:
        raise ValidationFailed(
            "a backfill reaches back at most 92 days",
            field_errors=[{"field": "start", "message": "at most 92 days ago"}],
        )
    if start >= end:
        raise ValidationFailed(
            "start must be before end", field_errors=[{"field": "start", "message": "before end"}]
        )
    shop_row(session, identity)
    return start_backfill(
        session,
        tenant_id=actor.tenant_id,
        connection_id=connection_id,
        start=start,
        end=end,
        created_by=actor.label,
    )
