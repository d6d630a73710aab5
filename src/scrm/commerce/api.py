"""HTTP endpoints of the commerce domain: orders, the customer's orders, shops and their sync,
reports, special-order settings and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from scrm.commerce import service, shops
from scrm.commerce.schemas import (
    AlertOut,
    BackfillRequest,
    CommerceSettingsIn,
    CommerceSettingsOut,
    CrossPlatformReportOut,
    OrderDetailOut,
    OrderOut,
    ShopHealthOut,
)
from scrm.core.jobs import JobOut
from scrm.core.pagination import Page, PageRequest
from scrm.identity.deps import CurrentActor, DbSession, get_settings
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.shops.canonical import OrderStatus, RefundState
from scrm.settings import Settings

router = APIRouter(tags=["commerce"])

Limit = Annotated[int, Query(ge=1, le=200)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Platform = Annotated[str | None, Query(pattern="^(youzan|taobao|douyin|jd|pdd)$")]


@router.get("/api/v1/orders", response_model=Page[OrderOut])
def list_orders(
    actor: CurrentActor,
    session: DbSession,
    limit: Limit = 50,
    cursor: str | None = None,
    platform: Platform = None,
    shop_id: int | None = None,
    status: OrderStatus | None = None,
    refund_state: RefundState | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
    min_payment_fen: Annotated[int | None, Query(ge=0)] = None,
    max_payment_fen: Annotated[int | None, Query(ge=0)] = None,
    province: str | None = None,
    city: str | None = None,
    customer_id: int | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[OrderOut]:
    """Orders from every shop, newest first. `q` matches the platform order id, the buyer's nick, or a
    customer's name, identifier or phone number."""
    filters = service.OrderFilter(
        platform=platform,
        shop_id=shop_id,
        status=status.value if status else None,
        refund_state=refund_state.value if refund_state else None,
        placed_from=placed_from,
        placed_to=placed_to,
        min_payment_fen=min_payment_fen,
        max_payment_fen=max_payment_fen,
        province=province,
        city=city,
        customer_id=customer_id,
        q=q,
    )
    items, next_cursor = service.list_orders(
        session, actor=actor, page=PageRequest(limit, cursor), filters=filters
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/api/v1/orders/{order_id}", response_model=OrderDetailOut)
def get_order(order_id: int, actor: CurrentActor, session: DbSession) -> OrderDetailOut:
    """One order with its items, refunds, logistics, promotions, timeline and the raw payload."""
    return service.get_order(session, actor=actor, order_id=order_id)


@router.get("/api/v1/customers/{customer_id}/orders", response_model=Page[OrderOut])
def customer_orders(
    customer_id: int, actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[OrderOut]:
    """The customer's orders from every shop."""
    items, next_cursor = service.customer_orders(
        session, actor=actor, customer_id=customer_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/api/v1/customers/{customer_id}/recent-purchases", response_model=list[OrderDetailOut])
def recent_purchases(
    customer_id: int, actor: CurrentActor, session: DbSession, limit: Annotated[int, Query(ge=1, le=10)] = 3
) -> list[OrderDetailOut]:
    """The customer's last purchases (default 3) with items, refunds and logistics: the chat sidebar."""
    return service.recent_purchases(session, actor=actor, customer_id=customer_id, limit=limit)


@router.get("/api/v1/commerce/shops", response_model=list[ShopHealthOut])
def list_shops(actor: CurrentActor, session: DbSession, settings: AppSettings) -> list[ShopHealthOut]:
    """Every shop connection with its sync health: cursor lag, last pull, circuit breaker, backfill."""
    return shops.list_shops(
        session,
        actor=actor,
        shared_state=platform_runtime().shared_state,
        public_base_url=settings.public_base_url,
    )


@router.post("/api/v1/commerce/shops/{connection_id}/sync", status_code=202)
def sync_now(connection_id: int, actor: CurrentActor, session: DbSession) -> dict[str, bool]:
    """Pull the shop's recent changes now."""
    shops.sync_now(session, actor=actor, connection_id=connection_id)
    return {"queued": True}


@router.post("/api/v1/commerce/shops/{connection_id}/backfill", response_model=JobOut, status_code=202)
def backfill(connection_id: int, body: BackfillRequest, actor: CurrentActor, session: DbSession) -> JobOut:
    """Pull the shop's order history in [start, end) as a job with progress (one at a time per shop:
    a running backfill is returned instead of a second one)."""
    job, _ = shops.backfill(session, actor=actor, connection_id=connection_id, start=body.start, end=body.end)
    return JobOut.of(job)


@router.get("/api/v1/commerce/reports/cross-platform", response_model=CrossPlatformReportOut)
def cross_platform(actor: CurrentActor, session: DbSession) -> CrossPlatformReportOut:
    return service.cross_platform_report(session, actor=actor)


@router.get("/api/v1/commerce/settings", response_model=CommerceSettingsOut)
def get_settings_(actor: CurrentActor, session: DbSession) -> CommerceSettingsOut:
    return service.get_settings(session, actor=actor)


@router.put("/api/v1/commerce/settings", response_model=CommerceSettingsOut)
def put_settings(body: CommerceSettingsIn, actor: CurrentActor, session: DbSession) -> CommerceSettingsOut:
    """Special-order rules: big-order threshold, gift rules by customer spend, product sales alerts."""
    return service.put_settings(session, actor=actor, data=body)


@router.get("/api/v1/commerce/alerts", response_model=Page[AlertOut])
def list_alerts(
    actor: CurrentActor,
    session: DbSession,
    limit: Limit = 50,
    cursor: str | None = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
) -> Page[AlertOut]:
    items, next_cursor = service.list_alerts(
        session, actor=actor, page=PageRequest(limit, cursor), status=status
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/api/v1/commerce/alerts/{alert_id}/ack", response_model=AlertOut)
def acknowledge(alert_id: int, actor: CurrentActor, session: DbSession) -> AlertOut:
    return service.acknowledge_alert(session, actor=actor, alert_id=alert_id)
