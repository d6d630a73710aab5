"""A killed server loses no acknowledged callback.

The real app runs under uvicorn in a subprocess on this run's database (an SQLite file, or PostgreSQL
when the suite runs there). Callbacks are posted from several threads; the moment the last planned
acknowledgement arrives the server is SIGKILLed, with other callbacks still in flight. Every callback
that got its 200 must then be in the inbox exactly once; the unacknowledged ones may or may not be.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.actors import Actor
from scrm.core.outbox_models import InboundMessage
from scrm.identity.service import create_tenant
from scrm.platforms.models import PlatformKind
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection, secret_box
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.payloads import dedupe_key, parse_xml
from tests.conftest import TEST_SECRET_KEY
from tests.core.helpers import REPO_ROOT, wait_until
from tests.platforms.wecom.conftest import CORP_ID, WeComSender, load_fixture

pytestmark = pytest.mark.slow

CALLBACKS = 240
ACKS_BEFORE_KILL = 160
TOKEN = "DurableToken1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "SCRM_DATABASE_URL": database_url,
        "SCRM_SECRET_KEY": TEST_SECRET_KEY,
        "SCRM_ENVIRONMENT": "test",
        "SCRM_EMBEDDED_WORKER": "false",
        "SCRM_VAR_DIR": str(tmp_path / "var"),
        "SCRM_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "uvicorn", "scrm.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            return False

    try:
        wait_until(ready, what="the server to start")
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()


def test_a_killed_server_loses_no_acknowledged_callback(
    server: tuple[subprocess.Popen[bytes], str], committing_factory: sessionmaker[Session]
) -> None:
    process, base = server
    key = generate_encoding_aes_key()
    with committing_factory.begin() as session:
        tenant = create_tenant(
            session, name="Durable", admin_email="durable@brand.test", admin_password="x" * 12
        )
        connection = create_connection(
            session,
            actor=Actor.system(tenant.id),
            data=ConnectionCreate(
                platform=PlatformKind.WECOM,
                name="corp",
                config={
                    "corp_id": CORP_ID,
                    "contact_secret": "s3cret",
                    "token": TOKEN,
                    "encoding_aes_key": key,
                },
            ),
            box=secret_box(TEST_SECRET_KEY),
        )
        connection_id = connection.id

    template = load_fixture("add_external_contact__with_state")
    plaintexts = [
        template.replace("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", f"wmDurable{n:06d}") for n in range(CALLBACKS)
    ]
    sender = WeComSender(client=None, connection_id=connection_id, token=TOKEN, encoding_aes_key=key)  # type: ignore[arg-type]
    deliveries = [sender.envelope(text) for text in plaintexts]

    acknowledged: list[int] = []
    lock = threading.Lock()
    killed = threading.Event()

    def post(index: int, http: httpx.Client) -> None:
        if killed.is_set():
            return
        params, body = deliveries[index]
        try:
            response = http.post(
                f"{base}/hooks/wecom/{connection_id}", params=params, content=body, timeout=30
            )
        except httpx.HTTPError:
            return  # the server died under this request: not acknowledged
        assert response.status_code == 200, response.text
        with lock:
            acknowledged.append(index)
            if len(acknowledged) == ACKS_BEFORE_KILL and not killed.is_set():
                process.send_signal(signal.SIGKILL)
                killed.set()

    clients = [httpx.Client() for _ in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for index in range(CALLBACKS):
                pool.submit(post, index, clients[index % 8])
    finally:
        for http in clients:
            http.close()
    process.wait(timeout=30)
    assert killed.is_set() and len(acknowledged) >= ACKS_BEFORE_KILL

    with committing_factory() as session:
        stored = session.execute(
            select(InboundMessage.dedupe_key, InboundMessage.raw_payload).where(
                InboundMessage.connection_id == str(connection_id)
            )
        ).all()
    stored_keys = [row.dedupe_key for row in stored]
    assert len(stored_keys) == len(set(stored_keys)), "a callback was stored twice"
    expected = {dedupe_key(parse_xml(plaintexts[index])): index for index in acknowledged}
    missing = sorted(index for key, index in expected.items() if key not in set(stored_keys))
    assert missing == [], f"acknowledged but lost: {missing}"
    by_key = {row.dedupe_key: row.raw_payload for row in stored}
    assert all(by_key[key] == plaintexts[index] for key, index in expected.items())
    print(f"acknowledged {len(acknowledged)} of {CALLBACKS}; stored {len(stored_keys)}")
