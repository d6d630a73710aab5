"""Fixtures of the tickets tests: a controllable clock for the service and the SLA clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

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
