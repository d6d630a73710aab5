"""The metrics endpoint body: process counters plus gauges read from the database."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.core.events import HandlerRegistry, publish
from scrm.core.metrics import render_metrics
from scrm.core.timers import schedule
from tests.core.fixture_handlers import ALARM_KIND, Pinged


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_render_metrics_reports_queue_state_from_the_database(
    db: Session, registry: HandlerRegistry, db_tenant_id: int
) -> None:
    publish(db, Pinged(tenant_id=db_tenant_id, number=1))
    schedule(db, ALARM_KIND, utcnow() - timedelta(seconds=5), {}, "late")
    schedule(db, ALARM_KIND, utcnow() + timedelta(hours=1), {}, "later")

    values = samples(render_metrics(db))
    assert values[("scrm_outbox_rows", (("status", "pending"),))] == 1
    assert values[("scrm_outbox_rows", (("status", "dead"),))] == 0
    assert values[("scrm_timers", (("state", "scheduled"),))] == 2
    assert values[("scrm_timers", (("state", "overdue"),))] == 1
    assert values[("scrm_dead_letters", (("kind", "event"),))] == 0
    assert values[("scrm_outbox_oldest_ready_age_seconds", ())] >= 0
    assert ("scrm_outbox_published_total", (("event_type", "fixture.pinged"),)) in values
    assert ("scrm_workers_alive", ()) in values
