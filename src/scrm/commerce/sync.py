"""Pulling orders from the shops: the incremental pull loop, message channels, and backfills.

**Incremental pull** (`commerce.pull` timer, one chain per shop connection): each tick pulls the
window [cursor - overlap, now - settle) through the platform client, ingests every snapshot, and
moves the cursor to the window's end, all in one transaction; then it schedules the next tick. When
the platform fails (down, slow, circuit open), the cursor stays where it was and the next tick comes
after a back-off: the first successful pull after an outage covers the whole outage, so nothing
changed during it is missed. The overlap re-reads the last minutes of each window, because platforms
index changes with a delay; ingest is idempotent, so re-reading costs nothing but the call.

Every tick has two halves: `prepare_pull` talks to the platform outside the write transaction (the
worker runs it before the batch's transaction: on SQLite no callback waits for the write lock while
we wait on the network), `apply_pull` writes what it got.

**Message channels** (Taobao TMC, PDD PMC, simulated through their poll APIs): the same tick
consumes pending messages, ingests what they say, fetches details they only name, and confirms them
on the next tick, once the ingest has committed (an unconfirmed message is redelivered, so a crash
repeats it and never loses it).

**Backfill** (`commerce.backfill` job): history between two instants, one window per step, with
progress; observations are marked `backfill`, which ingests them without raising live alerts.

Ticks are chained with a fresh timer key each time (a timer cannot re-arm itself while firing), and
a failing tick never raises for platform errors, so the chain cannot die of a platform outage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scrm.commerce.ingest import OrderObservation, ensure_shop, ingest_order, ingest_orders, ingest_refund
from scrm.commerce.models import Order, Shop
from scrm.core.clock import utcnow
from scrm.core.events import TimerDelivery, TimerHandler, prepared_or
from scrm.core.jobs import Job, JobKind, StepOutcome, start_job
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.timers import schedule
from scrm.platforms.base import PlatformError
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.shops.adapter import MappedMessage, PullPage
from scrm.platforms.shops.canonical import ObservationSource, OrderSnapshot
from scrm.platforms.shops.service import ShopConnection, ShopIdentity

log = logging.getLogger(__name__)

PULL_KIND = "commerce.pull"
BACKFILL_KIND = "commerce.backfill"
PULL_INTERVAL = timedelta(seconds=60)
#: Re-read this much before the cursor: platforms index changes with a delay.
OVERLAP = timedelta(minutes=2)
#: Do not read the last seconds: changes there may not be indexed yet (read next time).
SETTLE = timedelta(seconds=2)
#: A shop never pulled starts this far back (older history is a backfill's job).
FIRST_PULL_LOOKBACK = timedelta(hours=1)
#: Longest window one tick pulls, so a long outage is caught up in bounded transactions.
MAX_TICK_WINDOW = timedelta(hours=6)
MAX_BACKOFF = timedelta(minutes=10)
CHANNEL_BATCH = 100
BACKFILL_STEP = timedelta(hours=6)


def pull_interval(connection: ShopConnection) -> timedelta:
    """The connection's `pull_interval_seconds`, else `PULL_INTERVAL`."""
    seconds = connection.config.get("pull_interval_seconds")
    return timedelta(seconds=int(seconds)) if seconds else PULL_INTERVAL


def shop_row(session: Session, identity: ShopIdentity) -> Shop:
    return ensure_shop(
        session,
        tenant_id=identity.tenant_id,
        connection_id=identity.connection_id,
        platform=identity.platform,
        external_id=identity.external_id,
        name=identity.name,
    )


def schedule_pull(session: Session, *, tenant_id: int, connection_id: int, due_at: datetime) -> None:
    """Arm the connection's next pull tick at `due_at` (idempotent per instant)."""
    schedule(
        session,
        PULL_KIND,
        due_at,
        {"connection_id": connection_id},
        f"{connection_id}:{int(due_at.timestamp() * 1000)}",
        tenant_id=tenant_id,
    )


def ensure_pull_chain(session: Session, *, tenant_id: int, connection_id: int) -> bool:
    """Arm a pull tick now unless one is pending for the connection; whether one was armed."""
    pending = session.scalar(
        select(Timer.id)
        .where(
            Timer.kind == PULL_KIND,
            Timer.key.startswith(f"{connection_id}:"),
            Timer.status.in_([TimerStatus.SCHEDULED, TimerStatus.PROCESSING]),
        )
        .limit(1)
    )
    if pending is not None:
        return False
    schedule_pull(session, tenant_id=tenant_id, connection_id=connection_id, due_at=utcnow())
    return True


def _ingest_page(session: Session, shop: Shop, page: PullPage, source: ObservationSource) -> int:
    ingest_orders(session, [OrderObservation(shop, snapshot, source) for snapshot in page.orders])
    for refund in page.refunds:
        ingest_refund(session, shop=shop, snapshot=refund, source=source)
    return len(page.orders)


def pull_window(
    session: Session,
    connection: ShopConnection,
    shop: Shop,
    start: datetime,
    end: datetime,
    source: ObservationSource,
) -> int:
    """Pull and ingest every order the platform changed in [start, end); the number ingested."""
    return sum(
        _ingest_page(session, shop, page, source) for page in connection.client.pull_window(start, end)
    )


@dataclass
class PulledTick:
    """What one pull tick got from the platform, before any of it is written (see `prepare_pull`)."""

    identity: ShopIdentity
    interval: timedelta
    now: datetime
    start: datetime
    end: datetime
    pages: list[PullPage] = field(default_factory=list)
    messages: list[tuple[str, MappedMessage]] = field(default_factory=list)
    details: dict[str, OrderSnapshot] = field(default_factory=dict)
    confirmed: list[str] = field(default_factory=list)
    error: PlatformError | None = None


def _known_complete(session: Session, shop_id: int | None, external_ids: Iterable[str]) -> set[str]:
    ids = list(external_ids)
    if shop_id is None or not ids:
        return set()
    return set(
        session.scalars(
            select(Order.external_id).where(
                Order.shop_id == shop_id, Order.external_id.in_(ids), Order.complete.is_(True)
            )
        )
    )


def prepare_pull(
    session: Session, *, tenant_id: int, connection_id: int, now: datetime | None = None
) -> PulledTick | None:
    """The network half of a pull tick, outside the write transaction (`session` only reads): confirm
    the messages the last tick ingested, pull the window, consume the channel and fetch the details
    its messages lack. None when the connection is gone, disabled or not a shop (the chain stops).
    Platform errors are kept in `error`, never raised: a failing platform must not end the chain."""
    now = now or utcnow()
    try:
        connection = platform_runtime().shop_connection(
            session, tenant_id=tenant_id, connection_id=connection_id
        )
    except Exception as error:  # NotFound, or secrets that no longer decrypt: stop the chain
        log.warning("pull of connection %s stops: %r", connection_id, error)
        return None
    if not connection.identity.active:
        return None
    shop = session.scalars(
        select(Shop).where(Shop.tenant_id == tenant_id, Shop.connection_id == connection_id)
    ).one_or_none()
    cursor = shop.cursor_at if shop is not None else None
    start = (cursor - OVERLAP) if cursor else now - FIRST_PULL_LOOKBACK
    tick = PulledTick(
        identity=connection.identity,
        interval=pull_interval(connection),
        now=now,
        start=start,
        end=min(now - SETTLE, start + MAX_TICK_WINDOW),
    )
    try:
        if connection.channel is not None and shop is not None and shop.channel_unconfirmed:
            connection.channel.confirm(list(shop.channel_unconfirmed))
            tick.confirmed = list(shop.channel_unconfirmed)
        tick.pages = list(connection.client.pull_window(tick.start, tick.end))
        if connection.channel is not None:
            for message_id, raw in connection.channel.consume(CHANNEL_BATCH):
                tick.messages.append(
                    (message_id, connection.platform.map_message(raw, tick.identity.external_id))
                )
            named = {
                external_id
                for _, mapped in tick.messages
                for external_id in [
                    *mapped.fetch_orders,
                    *(order.external_id for order in mapped.orders),
                    *(refund.order_external_id for refund in mapped.refunds),
                ]
            }
            for external_id in sorted(named - _known_complete(session, shop.id if shop else None, named)):
                tick.details[external_id] = connection.client.fetch_order(external_id)
    except PlatformError as error:
        tick.error = error
    return tick


def _apply_messages(session: Session, shop: Shop, tick: PulledTick) -> None:
    for _, mapped in tick.messages:
        for snapshot in mapped.orders:
            ingest_order(session, shop=shop, snapshot=snapshot, source=ObservationSource.PUSH)
        for refund in mapped.refunds:
            ingest_refund(session, shop=shop, snapshot=refund, source=ObservationSource.PUSH)
    for snapshot in tick.details.values():
        ingest_order(session, shop=shop, snapshot=snapshot, source=ObservationSource.PUSH)
    if tick.messages:
        shop.last_push_at = utcnow()


def apply_pull(session: Session, tick: PulledTick) -> Shop:
    """The database half of a pull tick: ingest what `prepare_pull` got, move the cursor (only when
    everything was got), and arm the next tick (sooner when still behind, later after a failure)."""
    shop = shop_row(session, tick.identity)
    shop.last_pull_at = tick.now
    # Confirmed ids are done; consumed ones are confirmed by the next tick, once this one committed:
    # a crash in between has the platform redeliver them (ingest is idempotent), never lose them.
    shop.channel_unconfirmed = [
        message_id for message_id in shop.channel_unconfirmed if message_id not in set(tick.confirmed)
    ]
    if tick.error is not None:
        shop.consecutive_failures += 1
        shop.last_pull_error = str(tick.error)[:2000]
        log.warning(
            "pull of %s shop %s failed (%s failures): %s",
            shop.platform,
            shop.external_id,
            shop.consecutive_failures,
            tick.error,
        )
        next_at = tick.now + _backoff(tick.interval, shop.consecutive_failures)
    else:
        for page in tick.pages:
            _ingest_page(session, shop, page, ObservationSource.PULL)
        _apply_messages(session, shop, tick)
        shop.channel_unconfirmed = [
            *shop.channel_unconfirmed,
            *(message_id for message_id, _ in tick.messages),
        ]
        shop.cursor_at = tick.end
        shop.last_pull_ok_at = tick.now
        shop.last_pull_error = None
        shop.consecutive_failures = 0
        # Still behind (after an outage): pull the next window at once.
        behind = tick.now - tick.end > SETTLE + timedelta(seconds=1)
        next_at = tick.now if behind else tick.now + tick.interval
    schedule_pull(
        session, tenant_id=tick.identity.tenant_id, connection_id=tick.identity.connection_id, due_at=next_at
    )
    return shop


def _backoff(interval: timedelta, failures: int) -> timedelta:
    return min(interval * (2 ** min(failures, 10)), MAX_BACKOFF)


def run_pull_tick(
    session: Session, *, tenant_id: int, connection_id: int, now: datetime | None = None
) -> Shop | None:
    """One whole pull tick in `session` (tests, and a timer fired as a follow-on): prepare, apply."""
    tick = prepare_pull(session, tenant_id=tenant_id, connection_id=connection_id, now=now)
    return apply_pull(session, tick) if tick is not None else None


def prepare_pull_timer(session: Session, timer: TimerDelivery) -> PulledTick | None:
    assert timer.tenant_id is not None
    return prepare_pull(session, tenant_id=timer.tenant_id, connection_id=int(timer.payload["connection_id"]))


def on_pull_timer(session: Session, timer: TimerDelivery) -> None:
    assert timer.tenant_id is not None
    connection_id = int(timer.payload["connection_id"])
    tick = prepared_or(timer.prepared, lambda: prepare_pull_timer(session, timer))
    if tick is not None:
        apply_pull(session, tick)
    # Earlier ticks of this chain are history; keep the timer table small.
    session.execute(
        delete(Timer).where(
            Timer.kind == PULL_KIND,
            Timer.key.startswith(f"{connection_id}:"),
            Timer.status == TimerStatus.FIRED,
        )
    )


# --- backfill --------------------------------------------------------------------------------------


def start_backfill(
    session: Session,
    *,
    tenant_id: int,
    connection_id: int,
    start: datetime,
    end: datetime,
    created_by: str | None,
) -> tuple[Job, bool]:
    """Queue a backfill of [start, end) for the connection (one at a time per connection)."""
    windows = max(1, -(-int((end - start).total_seconds()) // int(BACKFILL_STEP.total_seconds())))
    return start_job(
        session,
        tenant_id=tenant_id,
        kind=BACKFILL_KIND,
        title="订单历史回补 / order backfill",
        params={
            "connection_id": connection_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "windows": windows,
        },
        dedupe_key=f"commerce.backfill:{connection_id}",
        created_by=created_by,
        connection_id=connection_id,
    )


def backfill_step(session: Session, job: Job) -> StepOutcome:
    """One window of the backfill per step (platform errors raise: the job retries the step)."""
    connection_id = int(job.params["connection_id"])
    start = datetime.fromisoformat(job.params["start"])
    end = datetime.fromisoformat(job.params["end"])
    total = int(job.params.get("windows") or 1)
    done = int(job.state.get("windows_done", 0))
    window_start = start + BACKFILL_STEP * done
    if window_start >= end:
        return StepOutcome(
            done=True,
            progress_done=total,
            progress_total=total,
            result={"orders": job.state.get("orders", 0)},
        )
    connection = platform_runtime().shop_connection(
        session, tenant_id=job.tenant_id, connection_id=connection_id
    )
    shop = shop_row(session, connection.identity)
    window_end = min(window_start + BACKFILL_STEP, end)
    pulled = pull_window(session, connection, shop, window_start, window_end, ObservationSource.BACKFILL)
    orders = int(job.state.get("orders", 0)) + pulled
    job.state = {"windows_done": done + 1, "orders": orders}
    finished = window_end >= end
    return StepOutcome(
        done=finished,
        progress_done=done + 1,
        progress_total=total,
        message=f"{window_start:%Y-%m-%d %H:%M} – {window_end:%Y-%m-%d %H:%M}：{orders} 单 / orders",
        result={"orders": orders} if finished else None,
    )


TIMER_HANDLERS = [TimerHandler(PULL_KIND, on_pull_timer, prepare=prepare_pull_timer)]
JOB_KINDS = [JobKind(BACKFILL_KIND, backfill_step)]
