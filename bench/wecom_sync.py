"""Benchmark `wecom_sync`: a full sync of N external contacts from the simulator under a rate limit.

Prints the wall time of the sync job (SQLite, embedded worker), the 45009 answers received (goal:
none), and the floor the rate limit alone imposes: for each API, calls made ÷ the per-minute limit,
the largest of them. Two scenarios run:

- the issue's: 100,000 contacts at 10,000 calls/min per API. `batch/get_by_user` returns 100
  contacts per call, so 1,000 calls: the rate limit allows it in ~6 s, and writing 100,000 profiles
  is what takes the time;
- a rate-bound one (default 20,000 contacts at 600 calls/min), where pacing, not the database,
  decides the wall time: it shows how close the client runs to the limit without tripping it.

Usage: python -m bench.wecom_sync [--contacts N] [--rate-per-minute N] [--bound-contacts N]
                                  [--bound-rate-per-minute N] [--staff N]
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.support import sqlite_database
from scrm.core.actors import Actor, ActorKind
from scrm.core.db import make_engine, make_session_factory, session_scope
from scrm.core.jobs import FINISHED, Job
from scrm.core.worker import Worker, WorkerConfig
from scrm.migrate import upgrade_to_head
from scrm.platforms.models import PlatformKind
from scrm.platforms.runtime import configure_platform_runtime
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection, secret_box
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.sync import start_sync
from scrm.registry import build_registry
from scrm.settings import Environment, load_settings

CORP = "wwbenchsync00001"


class SimulatorProcess:
    """`scrm simulate wecom` in a subprocess on a free port, stopped with `stop()`."""

    def __init__(self, *options: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrm.cli", "simulate", "wecom", "--port", str(port), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/_sim/state", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the WeCom simulator did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


SECRET = "bench-contact-secret"


def run_scenario(contacts: int, rate_per_minute: int, staff: int) -> dict[str, float]:
    with sqlite_database() as url:
        settings = load_settings(
            environment=Environment.TEST,
            database_url=url,
            secret_key="b" * 40,
            var_dir=Path(url.removeprefix("sqlite:///")).parent,
        )
        upgrade_to_head(url)
        registry = build_registry()
        factory = make_session_factory(make_engine(url))
        configure_platform_runtime(settings, factory)
        # The simulator runs in its own process, as WeCom would be on another machine: its work must
        # not share this process's interpreter lock with the sync being measured.
        simulator = SimulatorProcess(
            "--corp-id",
            CORP,
            "--contact-secret",
            SECRET,
            "--token",
            "benchtoken",
            "--aes-key",
            generate_encoding_aes_key(),
            "--staff",
            ",".join(f"guide{index:03d}" for index in range(staff)),
            "--customers",
            str(contacts),
            "--seed",
            "1",
            "--rate-limit-per-minute",
            str(rate_per_minute),
            "--rate-limit-per-hour",
            str(max(rate_per_minute * 60, 150_000)),
        )
        try:
            from scrm.identity.service import create_tenant

            with session_scope(factory) as session:
                tenant = create_tenant(
                    session, name="Bench", admin_email="bench@x.test", admin_password="bench-pass"
                )
                actor = Actor(kind=ActorKind.SYSTEM, tenant_id=tenant.id, permissions=frozenset({"*"}))
                connection = create_connection(
                    session,
                    actor=actor,
                    box=secret_box(settings.resolved_secret_key),
                    data=ConnectionCreate(
                        platform=PlatformKind.WECOM,
                        name="bench",
                        config={
                            "corp_id": CORP,
                            "contact_secret": SECRET,
                            "api_base_url": simulator.base_url,
                            "rate_limit_per_minute": rate_per_minute,
                        },
                    ),
                )
                tenant_id, connection_id = tenant.id, connection.id
            worker = Worker(factory, registry, WorkerConfig(), "embedded")
            started = time.perf_counter()
            with session_scope(factory) as session:
                job_id = start_sync(
                    session, tenant_id=tenant_id, connection_id=connection_id, mode="full", created_by="bench"
                )[0].id
            worker.start_thread()
            while True:
                with factory() as session:
                    job = session.scalars(select(Job).where(Job.id == job_id)).one()
                    if job.status in FINISHED:
                        break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            worker.stop()
            requests = httpx.get(
                f"{simulator.base_url}/_sim/requests", params={"limit": 100000}, timeout=30
            ).json()
            state = httpx.get(f"{simulator.base_url}/_sim/state", timeout=30).json()
        finally:
            simulator.stop()
        calls = Counter(str(item.get("api") or item.get("path")) for item in requests)
        per_api = [count / rate_per_minute * 60 for count in calls.values()]
        # The sync's phases run one after another, each on its own API: the limit allows the sum of
        # the per-API times; a sync that overlapped its phases perfectly could approach the largest.
        return {
            "status_ok": float(job.status == "succeeded"),
            "contacts_synced": float(job.progress_done),
            "wall_seconds": elapsed,
            "floor_seconds": sum(per_api),
            "floor_parallel_seconds": max(per_api),
            "calls": float(sum(calls.values())),
            "busiest_api_calls": float(max(calls.values())),
            "rate_limited_45009": float(state["rate_limited"]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def report(title: str, figures: dict[str, float], rate: int) -> None:
    print(f"\n{title}")
    print(f"  job succeeded            {bool(figures['status_ok'])}")
    print(f"  contacts synced          {figures['contacts_synced']:,.0f}")
    print(
        f"  API calls                {figures['calls']:,.0f} "
        f"(busiest API {figures['busiest_api_calls']:,.0f})"
    )
    print(f"  rate limit               {rate:,}/min per API")
    print(
        f"  floor (rate limit alone) {figures['floor_seconds']:.1f} s for phases in sequence "
        f"({figures['floor_parallel_seconds']:.1f} s if every API ran at once)"
    )
    print(
        f"  wall time                {figures['wall_seconds']:.1f} s "
        f"({figures['wall_seconds'] / figures['floor_seconds']:.2f}x the floor)"
    )
    print(f"  45009 answers            {figures['rate_limited_45009']:.0f}")
    print(f"  peak RSS (whole bench)   {figures['peak_rss_mb']:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.wecom_sync", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rate-per-minute", type=int, default=10_000)
    parser.add_argument("--bound-contacts", type=int, default=20_000)
    parser.add_argument("--bound-rate-per-minute", type=int, default=600)
    parser.add_argument("--staff", type=int, default=50)
    args = parser.parse_args(argv)
    print("wecom_sync: full sync from the WeCom simulator, SQLite, embedded worker")
    issue = run_scenario(args.contacts, args.rate_per_minute, args.staff)
    report(
        f"A. {args.contacts:,} contacts, {args.rate_per_minute:,}/min (the issue's figures)",
        issue,
        args.rate_per_minute,
    )
    bound = run_scenario(args.bound_contacts, args.bound_rate_per_minute, args.staff)
    report(
        f"B. {args.bound_contacts:,} contacts, {args.bound_rate_per_minute:,}/min (rate-bound)",
        bound,
        args.bound_rate_per_minute,
    )


if __name__ == "__main__":
    main()
