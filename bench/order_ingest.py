"""Benchmark `order_ingest`: signed order pushes from Youzan and Douyin (20% duplicates, 10% out of
order) through the receiver, the inbox, the worker and ingest to updated customer aggregates.

    .venv/bin/python -m bench.order_ingest [--orders 4000] [--rate 500] [--seconds 20]
                                           [--postgres-url URL] [--no-postgres]

The pushes are made by the shop simulator itself: a world of buyers places orders on a Youzan and a
Douyin shop and walks them through realistic lifecycles (pay, ship, receive; some closed unpaid,
some refunded), and the simulator's front-ends render and sign every change exactly as they would
push it. The bench captures those pushes, repeats 25% of them (20% of what is sent) and swaps 10%
with the next change of the same order, then sends them itself. The simulator keeps serving the
platforms' APIs (tokens, the detail fetches partial pushes ask for) in this process.

The app runs under uvicorn in a subprocess on a fresh database, like `scrm serve`: on SQLite with its
embedded worker, on PostgreSQL with the embedded worker off and 2 `scrm worker` processes.

Figures, per database:
- baseline: the same pushes into the receiver alone (workers off): acknowledged per second;
- throughput: every push sent by 64 concurrent senders; events acknowledged per second, and unique
  events ingested per second (first send to the last ingest's commit, customer aggregates included);
- latency at `--rate` events per second (open loop): push acknowledged (client side) and push to
  profile (the inbox row's arrival to the commit of its order's ingest, which updates the
  customer's aggregates in the same transaction), p50 / p99 / max;
- peak memory of the app process.
Figures only; nothing is asserted. Goals (issue 5): >= 2,000 events/s on SQLite; p99 < 200 ms at 500/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    PROJECT_ROOT,
    percentile,
    postgres_database,
    prepare_database,
    sqlite_database,
    wait_for,
    worker_processes,
)
from scrm.core.actors import Actor
from scrm.core.db import mark_read_only
from scrm.core.outbox_models import InboundMessage, OutboxEvent
from scrm.core.secrets import SecretBox
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import PushDelivery, ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import ShopWorld
from scrm.registry import build_registry

SECRET_KEY = "bench-orders-secret-key-" + "o" * 32
SHOPS = {
    "youzan": (
        "63077",
        {"client_id": "bench-yz-client", "client_secret": "bench-yz-secret", "kdt_id": "63077"},
    ),
    "douyin": ("880001", {"app_key": "bench-dy-app", "app_secret": "bench-dy-secret", "shop_id": "880001"}),
}
INGEST_HANDLER = "commerce.ingest_order"


@dataclass(frozen=True)
class Push:
    platform: str
    order: str
    body: bytes
    headers: dict[str, str]


class CapturingSimulator(ShopSimulator):
    """The simulator, with pushes kept instead of delivered (the bench sends them itself)."""

    def __init__(self, **kwargs: Any) -> None:
        self.captured: list[Push] = []
        super().__init__(**kwargs)

    def deliver(
        self, shop: SimShop, body: bytes, headers: dict[str, str], accepted: Any
    ) -> PushDelivery | None:
        self.captured.append(Push(shop.platform, _order_of(json.loads(body)), body, dict(headers)))
        return None


def _order_of(message: Any) -> str:
    """The order a push is about: Youzan's business `id`, Douyin's `p_id` inside the first element."""
    if isinstance(message, list):
        data = json.loads(message[0].get("data") or "{}") if message else {}
        return str(data.get("p_id") or data.get("shop_order_id") or "")
    return str(message.get("id") or "")


def generate(sim: CapturingSimulator, orders: int, seed: int) -> None:
    """Orders on both shops, their lifecycles interleaved as they would be in a busy hour."""
    rng = random.Random(seed)
    world = sim.world
    active: list[tuple[Any, list[str]]] = []
    made = 0
    while made < orders or active:
        if made < orders and (not active or rng.random() < 0.35):
            platform = rng.choice(list(SHOPS))
            person = world.person(f"p{rng.randint(1, orders // 2)}", phone=None)
            order = world.create_order(platform, SHOPS[platform][0], person, reveal_phone=rng.random() < 0.5)
            active.append((order, world.random_lifecycle(order)))
            made += 1
            continue
        index = rng.randrange(len(active))
        order, steps = active[index]
        world.advance(order, steps.pop(0))
        if not steps:
            active.pop(index)


def disorder(pushes: list[Push], seed: int) -> list[Push]:
    """Swap 10% with their order's next push, then repeat 25% a little later (20% of the result)."""
    rng = random.Random(seed)
    sequence = list(pushes)
    by_order: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, push in enumerate(sequence):
        by_order[(push.platform, push.order)].append(index)
    for indexes in by_order.values():
        for first, second in itertools.pairwise(indexes):
            if rng.random() < 0.1:
                sequence[first], sequence[second] = sequence[second], sequence[first]
    result = list(sequence)
    for push in rng.sample(sequence, len(sequence) // 4):
        result.insert(min(len(result), result.index(push) + rng.randint(1, 50)), push)
    return result


# --- the app --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppProcess:
    """`uvicorn scrm.main:create_app --factory` in a subprocess (settings from the environment)."""

    def __init__(self, url: str, *, embedded_worker: bool) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            "SCRM_ENVIRONMENT": "test",
            "SCRM_DATABASE_URL": url,
            "SCRM_SECRET_KEY": SECRET_KEY,
            "SCRM_PUBLIC_BASE_URL": self.base_url,
            "SCRM_EMBEDDED_WORKER": "true" if embedded_worker else "false",
            "SCRM_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "uvicorn", "scrm.main:create_app", "--factory", "--host",
                   "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL)
        if not wait_for(self._up, timeout=60, poll=0.2):
            self.stop()
            raise RuntimeError("the app did not start")

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def peak_rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def connect_shops(factory: sessionmaker[Session], tenant_id: int, simulator_url: str) -> dict[str, int]:
    box = SecretBox(SECRET_KEY)
    with factory.begin() as session:
        return {
            platform: create_connection(
                session,
                actor=Actor.system(tenant_id),
                data=ConnectionCreate(
                    platform=platform,
                    name=f"bench {platform}",
                    config={
                        **credentials,
                        "api_base_url": simulator_url,
                        "pull_interval_seconds": 3600,
                        # The simulator is local: pace as a generous platform quota would.
                        "rate_limit_per_second": 1000,
                    },
                ),
                box=box,
            ).id
            for platform, (_, credentials) in SHOPS.items()
        }


# --- sending --------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection with TCP_NODELAY, each request written in one piece.

    (httpx's async client measured 18 ms per request on one connection here, against 1 ms for its
    sync client: it writes a request in several pieces and the server's delayed ACK holds them. A
    load generator must not be the bottleneck it measures.)"""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def send_all(
    base_url: str,
    connections: dict[str, int],
    pushes: list[Push],
    *,
    rate: float | None,
    concurrency: int = 64,
) -> tuple[float, float, list[float], int]:
    """Send every push (open loop at `rate`, else as fast as `concurrency` senders go). Returns the
    start and end (epoch seconds), the ack latencies (s, sorted) and the count of non-200 answers."""
    host, port = base_url.removeprefix("http://").split(":")
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(concurrency):
        pool.put_nowait(Connection(host, int(port)))
    latencies: list[float] = []
    failures = 0

    async def one(push: Push) -> None:
        nonlocal failures
        connection = await pool.get()
        started = time.perf_counter()
        try:
            status = await connection.post(
                f"/hooks/{push.platform}/{connections[push.platform]}", push.body, push.headers
            )
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            connection = Connection(host, int(port))
            status = 0
        latencies.append(time.perf_counter() - started)
        failures += status != 200
        pool.put_nowait(connection)

    begun = time.time()
    if rate is None:
        await asyncio.gather(*(one(push) for push in pushes))
    else:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for index, push in enumerate(pushes):
            delay = start + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(push)))
        await asyncio.gather(*tasks)
    ended = time.time()
    while not pool.empty():
        pool.get_nowait().close()
    return begun, ended, sorted(latencies), failures


def settled(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        mark_read_only(session)
        waiting = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.status.in_(["pending", "processing"]))
        )
        unprocessed = session.scalar(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.state == "received")
        )
        return not waiting and not unprocessed


def ingest_latencies(
    factory: sessionmaker[Session], since: datetime
) -> tuple[list[float], datetime | None, int]:
    """Per inbox row of this run: arrival to the first commit of its order's ingest (s, sorted); the
    last ingest commit; how many unique pushes were stored."""
    with factory() as session:
        mark_read_only(session)
        arrivals = dict(
            session.execute(
                select(InboundMessage.id, InboundMessage.received_at).where(
                    InboundMessage.received_at >= since
                )
            ).all()
        )
        done: dict[int, datetime] = {}
        last: datetime | None = None
        for payload, processed_at in session.execute(
            select(OutboxEvent.payload, OutboxEvent.processed_at).where(
                OutboxEvent.handler == INGEST_HANDLER, OutboxEvent.processed_at >= since
            )
        ):
            inbound = payload.get("inbound_message_id")
            if inbound in arrivals and processed_at is not None:
                done[inbound] = min(done.get(inbound, processed_at), processed_at)
            last = processed_at if last is None or (processed_at and processed_at > last) else last
    latencies = sorted((done[key] - arrivals[key]).total_seconds() for key in done)
    return latencies, last, len(arrivals)


def ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction) * 1000:7.1f}"


# --- one database ---------------------------------------------------------------------------------


StartWorkers = Callable[[str, sessionmaker[Session]], AbstractContextManager[object]]


def run_database(
    label: str,
    url: str,
    start_workers: StartWorkers | None,
    *,
    orders: int,
    rate: float,
    seconds: float,
    seed: int,
) -> None:
    print(f"\n== {label} ==")
    engine, factory, tenant_id = prepare_database(url)
    with factory.begin() as session:
        session.execute(text("SELECT 1"))
    # The world lives three hours ago: the pushes are replayed history, so the shops' first pulls
    # (the last hour) find nothing and every order reaches us through its pushes, as measured.
    sim = CapturingSimulator(world=ShopWorld(seed=seed, clock=lambda: datetime.now(UTC) - timedelta(hours=3)))
    running: RunningShopSimulator = start_shop_simulator(sim, platforms=list(SHOPS))
    try:
        for platform, (shop_id, credentials) in SHOPS.items():
            sim.add_shop(
                SimShop(platform, shop_id, f"bench {platform}", dict(credentials), push_url="captured")
            )
        generate(sim, orders, seed)
        unique = list(sim.captured)
        pushes = disorder(unique, seed)
        print(f"{orders:,} orders -> {len(unique):,} unique pushes, {len(pushes):,} sent "
              f"({len(pushes) - len(unique):,} repeats); {len(sim.world.people()):,} buyers")  # fmt: skip
        connections = connect_shops(factory, tenant_id, running.base_url)
        # Baseline: the receiver alone (no worker), into the inbox.
        app = AppProcess(url, embedded_worker=False)
        try:
            begun, ended, acks, failures = asyncio.run(send_all(app.base_url, connections, pushes, rate=None))
        finally:
            app.stop()
        print(f"baseline (receiver only)  : {len(pushes) / (ended - begun):8,.0f} pushes acked/s"
              f"   ack p50 {ms(acks, 0.5)} ms  p99 {ms(acks, 0.99)} ms  ({failures} not 200)")  # fmt: skip
        with factory.begin() as session:  # start the measured runs from an empty inbox
            session.execute(text("DELETE FROM inbound_messages"))
            session.execute(text("DELETE FROM outbox WHERE event_type = 'inbox.received'"))
        app = AppProcess(url, embedded_worker=start_workers is None)
        try:
            with nullcontext() if start_workers is None else start_workers(url, factory):
                since = datetime.now().astimezone()
                begun, ended, acks, failures = asyncio.run(
                    send_all(app.base_url, connections, pushes, rate=None)
                )
                wait_for(lambda: settled(factory), timeout=3600, poll=0.5)
                latencies, last, stored = ingest_latencies(factory, since)
                span = (last.timestamp() if last else ended) - begun
                print(f"throughput                : {len(pushes) / (ended - begun):8,.0f} pushes acked/s;"
                      f" {stored:,} unique events ingested in {span:.1f} s = {stored / span:8,.0f} events/s"
                      f"  ({failures} not 200)")  # fmt: skip
                # Latency at a steady rate: fresh orders, so nothing is a repeat of the first run.
                sim.captured.clear()
                generate(sim, max(1, int(rate * seconds / 4.5)), seed + 1)
                steady = disorder(list(sim.captured), seed + 1)[: int(rate * seconds)]
                since = datetime.now().astimezone()
                begun, ended, acks, failures = asyncio.run(
                    send_all(app.base_url, connections, steady, rate=rate)
                )
                wait_for(lambda: settled(factory), timeout=3600, poll=0.5)
                latencies, last, stored = ingest_latencies(factory, since)
                print(f"at {rate:,.0f} pushes/s ({len(steady):,} sent, {failures} not 200):")
                print(f"   push acknowledged      : p50 {ms(acks, 0.5)}  p99 {ms(acks, 0.99)}"
                      f"  max {ms(acks, 1.0)} ms")  # fmt: skip
                print(f"   push -> profile        : p50 {ms(latencies, 0.5)}  p99 {ms(latencies, 0.99)}"
                      f"  max {ms(latencies, 1.0)} ms  ({len(latencies):,} measured)")  # fmt: skip
            print(f"app peak memory           : {app.peak_rss_mb():,.0f} MB")
        finally:
            app.stop()
        with factory() as session:
            orders_stored = session.scalar(text("SELECT count(*) FROM commerce_orders"))
            customers = session.scalar(text("SELECT count(*) FROM customers WHERE order_count > 0"))
            dead = session.scalar(text("SELECT count(*) FROM outbox WHERE status = 'dead'"))
        print(f"stored: {orders_stored:,} orders, {customers:,} customers with orders, {dead} dead letters")
    finally:
        running.stop()
        engine.dispose()


@contextmanager
def two_workers(url: str, factory: sessionmaker[Session]) -> Iterator[object]:
    with worker_processes(url, factory, processes=2, registry="scrm.registry:build_registry") as parent:
        yield parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    # Worker processes build their settings (secret key: phone hashes, connection secrets) from these.
    os.environ.update(
        {"SCRM_SECRET_KEY": SECRET_KEY, "SCRM_ENVIRONMENT": "test", "SCRM_LOG_LEVEL": "WARNING"}
    )
    build_registry()
    if not args.no_sqlite:
        with sqlite_database() as url:
            run_database("SQLite, embedded worker", url, None, orders=args.orders, rate=args.rate,
                         seconds=args.seconds, seed=args.seed)  # fmt: skip
    if not args.no_postgres:
        with postgres_database(args.postgres_url) as url:
            if url is not None:
                run_database("PostgreSQL, 2 worker processes", url, two_workers, orders=args.orders,
                             rate=args.rate, seconds=args.seconds, seed=args.seed)  # fmt: skip


if __name__ == "__main__":
    main()
