"""Shared plumbing of the benchmarks: throw-away databases, worker processes, percentiles, memory."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.db import make_engine, make_session_factory
from scrm.core.outbox_models import WorkerHeartbeat
from scrm.identity.models import Tenant
from scrm.models import metadata

# Starts the worker(s) for a database URL; they run while the context is open.
StartWorkers = Callable[[str, sessionmaker[Session]], AbstractContextManager[object]]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1:5432/test"


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="scrm-bench-") as directory:
        yield f"sqlite:///{directory}/bench.db"


def _admin_engine(base_url: str) -> Engine:
    url = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_database(base_url: str) -> Iterator[str | None]:
    """A fresh `scrm_bench_xxx` database beside `base_url`, dropped afterwards; None if unreachable."""
    name = f"scrm_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(base_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        print(f"PostgreSQL at {base_url} is unreachable ({type(error).__name__}); skipping it.")
        admin.dispose()
        yield None
        return
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        autovacuum = connection.execute(text("SHOW autovacuum")).scalar()
    if autovacuum != "on":
        print(f"note: this PostgreSQL runs with autovacuum={autovacuum}: dead row versions of the queue")
        print("      tables stay in their indexes for the whole run, as they would not in production.")
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare_database(url: str) -> tuple[Engine, sessionmaker[Session], int]:
    """Create the schema and one tenant; returns the engine, a session factory and the tenant id."""
    engine = make_engine(url)
    metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        tenant = Tenant(name="Bench")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    return engine, factory, tenant_id


def analyze_queue_tables(factory: sessionmaker[Session]) -> None:
    """Give the planner statistics of the loaded queue tables, as autovacuum (PostgreSQL) or the
    worker's housekeeping (SQLite) would in a running system. A freshly loaded table has none, and
    without them the claim may sort every live row instead of walking the partial claim-order index."""
    with factory.begin() as session:
        session.execute(text("ANALYZE outbox"))
        session.execute(text("ANALYZE timers"))


def wait_for(condition: Callable[[], bool], *, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def count_heartbeats(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(WorkerHeartbeat)) or 0


@contextmanager
def worker_processes(
    url: str, factory: sessionmaker[Session], *, processes: int, registry: str, extra: Sequence[str] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m scrm.worker_process --processes N` with `registry`, up (heartbeats seen) on entry,
    stopped with SIGTERM on exit."""
    command = [
        sys.executable, "-m", "scrm.worker_process", "--database-url", url,
        "--processes", str(processes), "--registry", registry, *extra,
    ]  # fmt: skip
    python_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "PYTHONPATH": python_path}
    parent = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL)
    try:
        if not wait_for(lambda: count_heartbeats(factory) >= processes, timeout=60):
            raise RuntimeError("worker processes did not start within 60 s")
        yield parent
    finally:
        parent.send_signal(signal.SIGTERM)
        try:
            parent.wait(timeout=60)
        except subprocess.TimeoutExpired:
            parent.kill()
            parent.wait()


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process, and of its largest finished child, in MiB (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s" if seconds > 0 else "         n/a"
