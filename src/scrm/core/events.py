"""Domain events, the handler registry, and `publish` (the write side of the transactional outbox).

An event is a frozen pydantic model named in the past tense (`user.invited`). Publishing writes one
outbox row per registered handler in the caller's transaction, so the event exists if and only if the
caller's change committed. Handlers run later in a worker (see `scrm.core.worker`), at least once per
attempt and with their database effects committed exactly once (see `scrm.core.leases`).

The registry is built once at start-up (`scrm.registry.build_registry`) and installed with
`set_active_registry`, so services publish without passing the registry around.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast

import pydantic
from sqlalchemy import insert
from sqlalchemy.orm import Session

from scrm.core import metrics
from scrm.core.clock import utcnow
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.wakeup import request_wake_on_commit

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

EventT = TypeVar("EventT", bound="Event")
T = TypeVar("T")


class Event(pydantic.BaseModel, frozen=True):
    """Base of every domain event. Subclasses set `event_type` (dotted, past tense: `ticket.assigned`)."""

    event_type: ClassVar[str]
    tenant_id: int

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is not None and not _EVENT_TYPE.fullmatch(event_type):
            raise TypeError(f"{cls.__name__}.event_type {event_type!r} is not dotted lower-case")


class _NotPrepared:
    def __repr__(self) -> str:
        return "NOT_PREPARED"


#: `Delivery.prepared` of a row whose handler's `prepare` did not run before its transaction (a
#: follow-on, or a handler without one): the handler does that work itself.
NOT_PREPARED: Any = _NotPrepared()


def prepared_or(prepared: Any, compute: Callable[[], T]) -> T:
    """What `prepare` returned for this delivery; `compute()` when it did not run; re-raises what it
    raised (so the outbox retries or dead-letters exactly as if the handler had raised it)."""
    if prepared is NOT_PREPARED:
        return compute()
    if isinstance(prepared, BaseException):
        raise prepared
    return cast(T, prepared)


@dataclass(frozen=True)
class Delivery:
    """What an event handler receives: one event, for one handler, on one attempt (1-based), and
    what the handler's `prepare` returned before the transaction (`prepared_or`)."""

    event_id: str
    event_type: str
    tenant_id: int | None
    payload: dict[str, Any]
    attempt: int
    prepared: Any = NOT_PREPARED

    def load(self, event_class: type[EventT]) -> EventT:
        """The payload parsed back into its event model."""
        return event_class.model_validate(self.payload)

    def retries(self, error: BaseException, *, give_up_after: int) -> bool:
        """Whether a handler should raise `error` for the outbox to retry: it is retryable and fewer
        than `give_up_after` attempts were made. Handlers that would rather record a failure where
        operators look than leave a dead letter use it, and record the failure when it says no."""
        return getattr(error, "retryable", True) is not False and self.attempt < give_up_after


@dataclass(frozen=True)
class TimerDelivery:
    """What a timer handler receives when the timer (kind, key) fires, on one attempt (1-based)."""

    kind: str
    key: str
    tenant_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    attempt: int
    prepared: Any = NOT_PREPARED


EventHandlerFn = Callable[[Session, Delivery], None]
#: A handler for many deliveries at once (see `EventHandler.batched`).
EventBatchFn = Callable[[Session, list[Delivery]], None]
TimerHandlerFn = Callable[[Session, TimerDelivery], None]
#: A timer handler for many firings at once (see `TimerHandler.batched`).
TimerBatchFn = Callable[[Session, list[TimerDelivery]], None]
#: Work a handler does before its transaction: network calls (a platform API), which must not hold
#: the batch's transaction (on SQLite, the one write lock every callback waits for). It gets a
#: read-only session of its own, closed before the batch's transaction starts, and returns what the
#: handler then applies. It may run again on a retry; it must not write.
EventPrepareFn = Callable[[Session, Delivery], Any]
TimerPrepareFn = Callable[[Session, TimerDelivery], Any]


@dataclass(frozen=True)
class EventHandler:
    """An entry of a domain's `HANDLERS` list. `name` is stored in each outbox row; keep it stable.
    With `prepare`, its rows are never run as follow-ons (they would hold the batch's transaction
    open over the network): they wait for the next claim, where `prepare` runs first."""

    event_type: str
    name: str
    fn: EventHandlerFn
    prepare: EventPrepareFn | None = None
    # Which events of the type are this handler's (decided when publishing: the others get no row
    # for it at all). None: every one.
    accepts: Callable[[Any], bool] | None = None
    batch: EventBatchFn | None = None

    @classmethod
    def batched(
        cls,
        event_type: str,
        name: str,
        batch: EventBatchFn,
        *,
        prepare: EventPrepareFn | None = None,
        accepts: Callable[[Any], bool] | None = None,
    ) -> EventHandler:
        """A handler that takes many deliveries at once: set-based work (one query for a hundred
        orders) where one row at a time would pay each statement a hundred times.

        Contract: `batch(session, deliveries)` has the effects of handling each delivery in turn, in
        one transaction. The worker gives it the rows of one claim that are on their first attempt
        (several at once when it can); if it raises, the worker rolls the group back and runs each
        row on its own (`batch(session, [delivery])`), so one bad row fails alone and retries and
        dead letters stay per row."""
        return cls(
            event_type,
            name,
            lambda session, delivery: batch(session, [delivery]),
            prepare=prepare,
            accepts=accepts,
            batch=batch,
        )


@dataclass(frozen=True)
class TimerHandler:
    """An entry of a domain's `TIMER_HANDLERS` list: the one handler for timers of `kind`."""

    kind: str
    fn: TimerHandlerFn
    prepare: TimerPrepareFn | None = None
    batch: TimerBatchFn | None = None

    @classmethod
    def batched(
        cls, kind: str, batch: TimerBatchFn, *, prepare: TimerPrepareFn | None = None
    ) -> TimerHandler:
        """A timer handler that takes many firings at once, with the contract of
        `EventHandler.batched` (the effects of each in turn; a failing group runs one by one)."""
        return cls(kind, lambda session, timer: batch(session, [timer]), prepare=prepare, batch=batch)


class HandlerRegistry:
    """Which handlers react to which event types and timer kinds. Registration is explicit, never
    an import side effect; a name may be registered once."""

    def __init__(self) -> None:
        self._event_handlers: dict[str, dict[str, EventHandlerFn]] = {}
        self._timer_handlers: dict[str, TimerHandlerFn] = {}
        self._event_prepares: dict[tuple[str, str], EventPrepareFn] = {}
        self._event_filters: dict[tuple[str, str], Callable[[Any], bool]] = {}
        self._event_batches: dict[tuple[str, str], EventBatchFn] = {}
        self._timer_prepares: dict[str, TimerPrepareFn] = {}
        self._timer_batches: dict[str, TimerBatchFn] = {}

    def on(self, event_type: str | type[Event], name: str, fn: EventHandlerFn) -> None:
        key = event_type if isinstance(event_type, str) else event_type.event_type
        handlers = self._event_handlers.setdefault(key, {})
        if name in handlers:
            raise ValueError(f"handler {name!r} is already registered for {key}")
        handlers[name] = fn

    def on_timer(self, kind: str, fn: TimerHandlerFn) -> None:
        if kind in self._timer_handlers:
            raise ValueError(f"a handler is already registered for timer kind {kind!r}")
        self._timer_handlers[kind] = fn

    def add(self, handler: EventHandler | TimerHandler) -> None:
        if isinstance(handler, EventHandler):
            self.on(handler.event_type, handler.name, handler.fn)
            if handler.prepare is not None:
                self._event_prepares[(handler.event_type, handler.name)] = handler.prepare
            if handler.accepts is not None:
                self._event_filters[(handler.event_type, handler.name)] = handler.accepts
            if handler.batch is not None:
                self._event_batches[(handler.event_type, handler.name)] = handler.batch
        else:
            self.on_timer(handler.kind, handler.fn)
            if handler.prepare is not None:
                self._timer_prepares[handler.kind] = handler.prepare
            if handler.batch is not None:
                self._timer_batches[handler.kind] = handler.batch

    def event_prepare(self, event_type: str, name: str) -> EventPrepareFn | None:
        return self._event_prepares.get((event_type, name))

    def event_batch(self, event_type: str, name: str) -> EventBatchFn | None:
        return self._event_batches.get((event_type, name))

    def timer_batch(self, kind: str) -> TimerBatchFn | None:
        return self._timer_batches.get(kind)

    def timer_prepare(self, kind: str) -> TimerPrepareFn | None:
        return self._timer_prepares.get(kind)

    def prepared_handler_names(self) -> frozenset[str]:
        """Handlers with a `prepare` (never run as follow-ons)."""
        return frozenset(name for _, name in self._event_prepares)

    def handler_names(self, event_type: str) -> tuple[str, ...]:
        return tuple(self._event_handlers.get(event_type, {}))

    def handler_names_for(self, event: Event) -> tuple[str, ...]:
        """The handlers `event` is routed to: those of its type that accept it."""
        names = self.handler_names(event.event_type)
        if not self._event_filters:
            return names
        return tuple(
            name
            for name in names
            if (accepts := self._event_filters.get((event.event_type, name))) is None or accepts(event)
        )

    def event_handler(self, event_type: str, name: str) -> EventHandlerFn | None:
        return self._event_handlers.get(event_type, {}).get(name)

    def timer_handler(self, kind: str) -> TimerHandlerFn | None:
        return self._timer_handlers.get(kind)


_active_registry: HandlerRegistry | None = None


def set_active_registry(registry: HandlerRegistry | None) -> None:
    """Install the registry `publish` routes by (None uninstalls it, for tests)."""
    global _active_registry
    _active_registry = registry


def get_active_registry() -> HandlerRegistry:
    """The installed registry; raises RuntimeError if start-up never installed one."""
    if _active_registry is None:
        raise RuntimeError("no handler registry installed; call scrm.registry.build_registry() at start-up")
    return _active_registry


def publish(session: Session, event: Event) -> str:
    """Write `event` to the outbox, one row per handler registered for its type, in the caller's
    transaction (never commits). Returns the event id shared by those rows.

    With no handler registered nothing is written (counted in `scrm_outbox_unrouted_total`). Workers
    are woken when the transaction commits. Raises RuntimeError if no registry is installed.
    """
    return publish_many(session, [event])[0]


def publish_many(session: Session, events: Iterable[Event]) -> list[str]:
    """`publish` for several events with one INSERT; returns their event ids in order."""
    event_ids, rows = outbox_rows(events, now=utcnow())
    if rows:
        session.execute(insert(OutboxEvent), rows)
        outbox_rows_inserted(session, rows)
    return event_ids


def outbox_rows_inserted(session: Session, rows: list[dict[str, Any]]) -> None:
    """What follows inserting `outbox_rows` in `session`'s transaction, however they were inserted:
    workers wake when it commits, and the events are noted for `take_published_event_ids`."""
    request_wake_on_commit(session)
    published = dict.fromkeys(row["event_id"] for row in rows)
    session.info.setdefault(PUBLISHED_EVENT_IDS, []).extend(published)


# `session.info` key: the ids of the events published in the session (routed to a handler), in order,
# for a worker that runs an event's handlers in the transaction that published it.
PUBLISHED_EVENT_IDS = "scrm.published_event_ids"


def take_published_event_ids(session: Session) -> list[str]:
    """The ids of events published in `session` since the last call (forgetting them)."""
    ids: list[str] = session.info.pop(PUBLISHED_EVENT_IDS, [])
    return ids


def outbox_rows(events: Iterable[Event], *, now: datetime) -> tuple[list[str], list[dict[str, Any]]]:
    """The event ids of `events` and the outbox rows (column -> value) that publishing them writes.

    What `publish_many` inserts; exposed for writers that insert the rows through the driver
    themselves (then they must also call `outbox_rows_inserted`). Counts the rows in
    `scrm_outbox_published_total` and handler-less events in `scrm_outbox_unrouted_total`, as if
    written. Raises RuntimeError if no registry is installed.
    """
    registry = get_active_registry()
    event_ids: list[str] = []
    rows: list[dict[str, Any]] = []
    published: dict[str, int] = {}
    for event in events:
        event_id = str(uuid.uuid4())
        event_ids.append(event_id)
        handler_names = registry.handler_names_for(event)
        if not handler_names:
            metrics.OUTBOX_UNROUTED.labels(event.event_type).inc()
            continue
        payload = event.model_dump(mode="json")
        rows.extend(
            {
                "tenant_id": event.tenant_id,
                "event_id": event_id,
                "event_type": event.event_type,
                "handler": name,
                "payload": payload,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for name in handler_names
        )
        published[event.event_type] = published.get(event.event_type, 0) + len(handler_names)
    # One increment per event type rather than per event: `labels()` is a locked dictionary lookup.
    for event_type, count in published.items():
        metrics.OUTBOX_PUBLISHED.labels(event_type).inc(count)
    return event_ids, rows
