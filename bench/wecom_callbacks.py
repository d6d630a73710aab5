"""WeCom callback intake: encrypted `add_external_contact` callbacks accepted per second by ONE server.

    .venv/bin/python -m bench.wecom_callbacks [--duration 8] [--connections 32] [--retry-every 20]

"Accepted" means verified, decrypted, parsed, durably stored in the inbox (committed) and answered
200. The real app runs under uvicorn in a subprocess on a fresh SQLite file, with the embedded worker
OFF so only the receiver is measured. Beside it, in the same run and with the same uvicorn settings,
a bare FastAPI endpoint that reads the body and answers 200 to the very same requests: the floor set
by uvicorn, the loopback and this load generator.

For each server it prints:
- peak: closed loop, `--connections` keep-alive connections each sending its next request as soon as
  the previous answer arrives; accepted/s, p50 and p99 latency;
- half: open loop at half of that server's peak rate (requests sent on a fixed schedule whatever the
  answers do; latency measured from the scheduled send time, so queueing is not hidden); p50, p99;
- the server's peak RSS (VmHWM) and, for the receiver, lost/doubled events: inbox rows are counted
  against the distinct events acknowledged. Every `--retry-every`-th request re-sends an earlier
  event (encrypted afresh, like a WeCom retry), which must not add a row.

Bodies are encrypted before the clock starts. The load generator is a raw asyncio HTTP/1.1 client
(uvloop when available) in its own process; its CPU share is printed, since on a small machine it
competes with the server for cores. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select

from bench.support import PROJECT_ROOT, percentile, prepare_database, sqlite_database, wait_for
from scrm.core.actors import Actor
from scrm.core.outbox_models import InboundMessage
from scrm.platforms.models import PlatformKind
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection, secret_box
from scrm.platforms.wecom.crypto import WeComCrypto, generate_encoding_aes_key

SECRET_KEY = "bench-secret-key-" + "b" * 40
CORP_ID = "wwbenchcorp000001"
TOKEN = "BenchToken0001"
PLAINTEXT = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
    "<UserID><![CDATA[staff{staff:03d}]]></UserID><ExternalUserID><![CDATA[wmBench{n:09d}]]></ExternalUserID>"
    "<State><![CDATA[bench]]></State><WelcomeCode><![CDATA[WELCOME{n:09d}]]></WelcomeCode></xml>"
)


def bare_app() -> FastAPI:
    """The floor: the same route shape, reading the body and answering 200 with nothing else."""
    app = FastAPI()

    @app.post("/hooks/wecom/{connection_id}")
    async def hook(connection_id: str, request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    return app


# --- requests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    requests: list[bytes]  # raw HTTP/1.1 requests, ready to write
    event_of: list[int]  # the event number each request carries (retries repeat an earlier one)


class WorkloadBuilder:
    """Pre-encrypted requests, numbering events across workloads so every event is distinct."""

    def __init__(self, connection_id: int, key: str, retry_every: int) -> None:
        self.connection_id = connection_id
        self.crypto = WeComCrypto(TOKEN, key, CORP_ID)
        self.retry_every = retry_every
        self.next_event = 0
        self.requests_built = 0

    def build(self, count: int) -> Workload:
        crypto, now = self.crypto, int(time.time())
        requests: list[bytes] = []
        event_of: list[int] = []
        first_event = self.next_event
        for index in range(count):
            fresh = self.next_event - first_event
            if self.retry_every and index % self.retry_every == self.retry_every - 1 and fresh > 0:
                event = self.next_event - 1 - (index % min(fresh, 50))  # a recent event, sent again
            else:
                event = self.next_event
                self.next_event += 1
            plaintext = PLAINTEXT.format(corp=CORP_ID, ts=now, staff=event % 200, n=event)
            encrypted = crypto.encrypt(plaintext)
            nonce = str(100000 + self.requests_built + index)
            query = f"msg_signature={crypto.sign(str(now), nonce, encrypted)}&timestamp={now}&nonce={nonce}"
            body = (
                f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
            head = (
                f"POST /hooks/wecom/{self.connection_id}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            requests.append(head.encode() + body.encode())
            event_of.append(event)
        self.requests_built += count
        return Workload(requests, event_of)


# --- the load generator (runs in its own process) -------------------------------------------------


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    # How late the load generator itself started each request (open loop): its own stalls, not the server's.
    start_lags: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[int] = field(default_factory=list)  # request indices answered 200
    errors: int = 0
    elapsed: float = 0.0
    cpu_seconds: float = 0.0
    exhausted: bool = False


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _run_load(
    port: int, requests: list[bytes], connections: int, duration: float, rate: float | None
) -> LoadResult:
    result = LoadResult()
    cursor = iter(range(len(requests)))
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    async def one(index: int, scheduled: float) -> None:
        now = time.perf_counter()
        result.start_lags.append(now - scheduled)
        scheduled = max(scheduled, now)  # sent up to a timer tick early: measure from the actual send
        reader, writer = await pool.get()
        try:
            status = await _exchange(reader, writer, requests[index])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            writer.close()
            pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
            return
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] += 1
        if status == 200:
            result.acknowledged.append(index)
        pool.put_nowait((reader, writer))

    started = time.perf_counter()
    deadline = started + duration
    if rate is None:  # closed loop: each connection sends again as soon as it is answered

        async def loop() -> None:
            while time.perf_counter() < deadline:
                index = next(cursor, None)
                if index is None:
                    result.exhausted = True
                    return
                await one(index, time.perf_counter())

        await asyncio.gather(*(loop() for _ in range(connections)))
    else:  # open loop: a fixed schedule, latency counted from the scheduled time
        tasks = []
        interval = 1.0 / rate
        for number in range(int(duration * rate)):
            index = next(cursor, None)
            if index is None:
                result.exhausted = True
                break
            scheduled = started + number * interval
            delay = scheduled - time.perf_counter()
            # Event-loop timers tick in milliseconds: sleep only when a tick or more ahead, and yield
            # often otherwise, so the requests due start now instead of queueing behind the scheduler.
            if delay > 0.001:
                await asyncio.sleep(delay)
            elif number % 8 == 0:
                await asyncio.sleep(0)
            tasks.append(asyncio.ensure_future(one(index, scheduled)))
        await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - started
    while not pool.empty():
        pool.get_nowait()[1].close()
    return result


def _load_process(
    port: int,
    requests: list[bytes],
    connections: int,
    duration: float,
    rate: float | None,
    queue: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(_run_load(port, requests, connections, duration, rate))
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    queue.put(result)


def run_load(
    port: int, requests: list[bytes], *, connections: int, duration: float, rate: float | None
) -> LoadResult:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_load_process, args=(port, requests, connections, duration, rate, queue))
    process.start()
    result: LoadResult = queue.get()
    process.join()
    return result


# --- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def uvicorn_server(factory: str, environment: dict[str, str]) -> Iterator[tuple[int, int]]:
    """`uvicorn --factory <factory>` on a free port, one process; yields (port, pid)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--backlog", "4096",
    ]  # fmt: skip
    python_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **environment, "PYTHONPATH": python_path}
    )
    try:

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        if not wait_for(up, timeout=60):
            raise RuntimeError(f"{factory} did not start within 60 s")
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_of(pid: int) -> float:
    """VmHWM of a live process in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    peak_rate: float = 0.0
    peak_p50: float = 0.0
    peak_p99: float = 0.0
    half_rate: float = 0.0
    half_p50: float = 0.0
    half_p99: float = 0.0
    rss_mb: float = 0.0
    loader_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)


def _ms(ordered: list[float], fraction: float) -> float:
    return percentile(ordered, fraction) * 1000


def measure(
    name: str, port: int, pid: int, builder: WorkloadBuilder, args: argparse.Namespace
) -> tuple[Figures, list[int]]:
    """Warm up, then the closed-loop peak, then the open loop at half that rate. Returns the figures
    and the event numbers of every request answered 200."""
    figures = Figures(name)
    acknowledged: list[int] = []

    def run(workload: Workload, phase: str, *, connections: int, rate: float | None) -> LoadResult:
        result = run_load(port, workload.requests, connections=connections, duration=args.duration, rate=rate)
        acknowledged.extend(workload.event_of[index] for index in result.acknowledged)
        if result.exhausted and phase != "warm-up":
            figures.notes.append(f"{phase}: ran out of pre-built requests (raise --requests)")
        if set(result.statuses) - {200} or result.errors:
            figures.notes.append(
                f"{phase}: statuses {dict(result.statuses)}, connection errors {result.errors}"
            )
        return result

    run(builder.build(1000), "warm-up", connections=args.connections, rate=None)
    peak = run(builder.build(args.requests), "peak", connections=args.connections, rate=None)
    figures.peak_rate = peak.statuses.get(200, 0) / peak.elapsed
    ordered = sorted(peak.latencies)
    figures.peak_p50, figures.peak_p99 = _ms(ordered, 0.50), _ms(ordered, 0.99)
    figures.loader_cpu = peak.cpu_seconds / peak.elapsed

    figures.half_rate = figures.peak_rate / 2
    half_workload = builder.build(int(figures.half_rate * args.duration * 1.05) + 10)
    half = run(half_workload, "half", connections=max(args.connections * 4, 128), rate=figures.half_rate)
    ordered = sorted(half.latencies)
    figures.half_p50, figures.half_p99 = _ms(ordered, 0.50), _ms(ordered, 0.99)
    lag_p99 = _ms(sorted(half.start_lags), 0.99)
    if lag_p99 > 1.0:
        figures.notes.append(f"half: the load generator started requests up to {lag_p99:.1f} ms late (p99)")
    figures.rss_mb = peak_rss_of(pid)
    return figures, acknowledged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.wecom_callbacks", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections at peak")
    parser.add_argument(
        "--requests", type=int, default=None, help="pre-built requests for the peak phase (default: 15 000/s)"
    )
    parser.add_argument("--retry-every", type=int, default=20, help="every n-th request re-sends an event")
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = int(15000 * args.duration)

    print(
        f"WeCom callback intake, one uvicorn process, SQLite file, worker off; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} before the run"
    )
    with sqlite_database() as url:
        engine, factory, tenant_id = prepare_database(url)
        key = generate_encoding_aes_key()
        with factory.begin() as session:
            connection = create_connection(
                session,
                actor=Actor.system(tenant_id),
                data=ConnectionCreate(
                    platform=PlatformKind.WECOM,
                    name="bench",
                    config={
                        "corp_id": CORP_ID,
                        "contact_secret": "bench",
                        "token": TOKEN,
                        "encoding_aes_key": key,
                    },
                ),
                box=secret_box(SECRET_KEY),
            )
            connection_id = connection.id
        builder = WorkloadBuilder(connection_id, key, args.retry_every)
        started = time.perf_counter()
        builder.build(5000)
        print(
            f"encryption: {5000 / (time.perf_counter() - started):,.0f} requests/s (done before each phase)"
        )

        environment = {
            "SCRM_DATABASE_URL": url,
            "SCRM_SECRET_KEY": SECRET_KEY,
            "SCRM_ENVIRONMENT": "test",
            "SCRM_EMBEDDED_WORKER": "false",
            "SCRM_LOG_LEVEL": "WARNING",
            "SCRM_VAR_DIR": str(Path(url.removeprefix("sqlite:///")).parent / "var"),
        }
        results: list[Figures] = []
        with uvicorn_server("bench.wecom_callbacks:bare_app", environment) as (port, pid):
            results.append(measure("bare 200 endpoint", port, pid, builder, args)[0])
        with uvicorn_server("scrm.main:create_app", environment) as (port, pid):
            receiver, acknowledged = measure("WeCom receiver", port, pid, builder, args)
            results.append(receiver)

        with factory() as session:
            rows = session.scalar(select(func.count()).select_from(InboundMessage)) or 0
        engine.dispose()
        distinct = len(set(acknowledged))
        retries = len(acknowledged) - distinct

    print()
    print(
        f"{'':22}{'peak /s':>10}{'p50 ms':>9}{'p99 ms':>9}   {'half /s':>9}{'p50 ms':>9}{'p99 ms':>9}   "
        f"{'RSS MiB':>8}{'loader CPU':>11}"
    )
    for figures in results:
        print(
            f"{figures.name:22}{figures.peak_rate:>10,.0f}{figures.peak_p50:>9.2f}{figures.peak_p99:>9.2f}   "
            f"{figures.half_rate:>9,.0f}{figures.half_p50:>9.2f}{figures.half_p99:>9.2f}   "
            f"{figures.rss_mb:>8.0f}{figures.loader_cpu:>10.0%}"
        )
        for note in figures.notes:
            print(f"  note: {note}")
    print()
    print(f"load average after the run: {os.getloadavg()[0]:.2f} (other processes share these CPUs)")
    print(
        f"receiver: {len(acknowledged):,} callbacks acknowledged "
        f"({distinct:,} distinct events, {retries:,} retries); {rows:,} inbox rows -> "
        f"lost {max(distinct - rows, 0)}, doubled {max(rows - distinct, 0)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
