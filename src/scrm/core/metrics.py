"""Prometheus metrics: counters kept in this process, and gauges read from the database at scrape time.

Counters live in `REGISTRY` (not the prometheus_client default registry, so tests and embedded apps do
not collide). They count what *this process* did; with separate worker processes the queue state that
matters is the database gauges `render_metrics` adds, which every API process reports identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.core.outbox_models import (
    InboundMessage,
    InboundState,
    OutboxEvent,
    OutboxStatus,
    Timer,
    TimerStatus,
    WorkerHeartbeat,
)

REGISTRY = CollectorRegistry(auto_describe=True)

OUTBOX_PUBLISHED = Counter(
    "scrm_outbox_published",
    "Outbox rows written by publish (one per handler), counted when written, before commit.",
    ["event_type"],
    registry=REGISTRY,
)
OUTBOX_UNROUTED = Counter(
    "scrm_outbox_unrouted",
    "Events published while no handler was registered for their type (nothing written).",
    ["event_type"],
    registry=REGISTRY,
)
OUTBOX_HANDLED = Counter(
    "scrm_outbox_handled",
    "Outbox rows run by a worker, by outcome: done, retry, dead, lease_lost, released.",
    ["event_type", "handler", "outcome"],
    registry=REGISTRY,
)
OUTBOX_DEAD_LETTERED = Counter(
    "scrm_outbox_dead_lettered",
    "Outbox rows dead-lettered.",
    ["event_type", "handler"],
    registry=REGISTRY,
)
TIMERS_FIRED = Counter(
    "scrm_timers_fired",
    "Timer firings run by a worker, by outcome: done, retry, dead, lease_lost, released.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
TIMER_LATENESS = Histogram(
    "scrm_timer_lateness_seconds",
    "Seconds between a timer's due_at and the start of its successful firing.",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
    registry=REGISTRY,
)
HANDLER_DURATION = Histogram(
    "scrm_handler_duration_seconds",
    "Wall time of one handler call (outbox or timer), including its database work.",
    ["queue"],
    registry=REGISTRY,
)
INBOX_STORED = Counter(
    "scrm_inbox_stored",
    "Inbound platform messages stored for the first time.",
    ["platform"],
    registry=REGISTRY,
)
INBOX_DUPLICATES = Counter(
    "scrm_inbox_duplicates",
    "Inbound platform messages received again with a dedupe key already stored.",
    ["platform"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "scrm_http_requests",
    "HTTP requests answered, by route template (not raw path, to bound cardinality).",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "scrm_http_request_duration_seconds",
    "HTTP request wall time by route template.",
    ["method", "route"],
    registry=REGISTRY,
)

# A worker whose heartbeat is older than this is reported as not alive.
WORKER_STALE_AFTER = timedelta(seconds=30)


class _DatabaseCollector(Collector):
    """Gauges of queue state across all tenants, computed from one session when scraped."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def collect(self) -> Iterator[GaugeMetricFamily]:
        session = self._session
        now = utcnow()

        outbox = GaugeMetricFamily("scrm_outbox_rows", "Outbox rows by status.", labels=["status"])
        counts = dict(
            session.execute(
                select(OutboxEvent.status, func.count())
                .where(OutboxEvent.status != OutboxStatus.DONE)
                .group_by(OutboxEvent.status)
            ).all()
        )
        for status in (OutboxStatus.PENDING, OutboxStatus.PROCESSING, OutboxStatus.DEAD):
            outbox.add_metric([status.value], counts.get(status, 0))
        yield outbox

        oldest = session.scalar(
            select(func.min(OutboxEvent.available_at)).where(OutboxEvent.status == OutboxStatus.PENDING)
        )
        yield GaugeMetricFamily(
            "scrm_outbox_oldest_ready_age_seconds",
            "Age of the oldest pending outbox row that is ready to run (0 when none).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )

        timers = GaugeMetricFamily(
            "scrm_timers", "Scheduled timers, and those already overdue.", labels=["state"]
        )
        scheduled = select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.SCHEDULED)
        timers.add_metric(["scheduled"], session.scalar(scheduled) or 0)
        timers.add_metric(["overdue"], session.scalar(scheduled.where(Timer.due_at <= now)) or 0)
        yield timers

        dead = GaugeMetricFamily("scrm_dead_letters", "Dead-lettered work awaiting replay.", labels=["kind"])
        dead.add_metric(["event"], counts.get(OutboxStatus.DEAD, 0))
        dead_timers = select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.DEAD)
        dead.add_metric(["timer"], session.scalar(dead_timers) or 0)
        yield dead

        failed_inbound = (
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.state == InboundState.FAILED)
        )
        yield GaugeMetricFamily(
            "scrm_inbox_failed",
            "Inbound messages whose processing failed.",
            value=session.scalar(failed_inbound) or 0,
        )

        alive = (
            select(func.count())
            .select_from(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_beat_at >= now - WORKER_STALE_AFTER)
        )
        yield GaugeMetricFamily(
            "scrm_workers_alive", "Workers with a recent heartbeat.", value=session.scalar(alive) or 0
        )


def render_metrics(session: Session) -> bytes:
    """The Prometheus text exposition: this process's counters plus database gauges read now.

    Reads only; the caller owns (and may roll back) the session's transaction.
    """
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_DatabaseCollector(session))
    return generate_latest(REGISTRY) + generate_latest(scrape)
