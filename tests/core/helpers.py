"""Helpers for the worker tests: a controllable clock, waiting for a condition, worker subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from scrm.core.clock import utcnow

REPO_ROOT = Path(__file__).resolve().parents[2]
# Generous: these bound how long a test waits for something that must happen, not how fast it is.
PATIENCE_SECONDS = 60.0


class FakeClock:
    """A clock that moves only when told to, for deterministic lease and backoff tests.

    It starts a minute ahead of the real clock, so rows written with the real time are already due.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def wait_until(condition: Callable[[], bool], *, what: str, timeout: float = PATIENCE_SECONDS) -> None:
    """Poll `condition` until true; fail the test if it never becomes true within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_worker_process(
    database_url: str, log_path: Path, *arguments: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A worker subprocess running the fixture handlers; its output goes to `log_path`."""
    command = [
        sys.executable,
        "-m",
        "scrm.worker_process",
        "--database-url",
        database_url,
        "--registry",
        "tests.core.fixture_handlers:build",
        *arguments,
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )


def trace_lines(path: Path) -> list[tuple[str, str, int]]:
    """(phase, subject, pid) for each line the fixture handlers traced."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        phase, subject, pid = line.split()
        lines.append((phase, subject, int(pid)))
    return lines
