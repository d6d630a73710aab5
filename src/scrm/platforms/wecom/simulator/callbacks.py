"""Callbacks the simulated WeCom sends: event XML (platform-protocols.md §3.10), the encrypted and
signed envelope (§2.3, crypto from `scrm.platforms.wecom.crypto`) and delivery like WeCom's (§2.6).

Delivery is asynchronous (a small thread pool, so callbacks are not ordered, as with WeCom). HTTP 200
is success whatever the body; any other status, a connection error or no answer within
`callback_timeout_seconds` (5 s) is a failure, re-sent up to `callback_max_retries` (3) more times,
`callback_retry_interval_seconds` apart (WeCom does not document the interval). Re-sends repeat the
same envelope, so receivers can de-duplicate on it.

The envelope's `timestamp` is real wall time (receivers may check freshness); `CreateTime` inside
the event follows the simulator's clock.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from scrm.platforms.wecom.crypto import WeComCrypto
from scrm.platforms.wecom.simulator.config import SimulatorConfig

log = logging.getLogger(__name__)

FieldValue = str | int | Sequence[str]


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def event_xml(
    corp_id: str,
    event: str,
    change_type: str | None,
    fields: Sequence[tuple[str, FieldValue]],
    create_time: int,
) -> str:
    """The plaintext event: common fields, then `fields` in order (ints bare, strings in CDATA,
    lists as `<Item>` children like MemChangeList)."""
    parts = [
        f"<ToUserName>{_cdata(corp_id)}</ToUserName>",
        f"<FromUserName>{_cdata('sys')}</FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType>{_cdata('event')}</MsgType>",
        f"<Event>{_cdata(event)}</Event>",
    ]
    if change_type:
        parts.append(f"<ChangeType>{_cdata(change_type)}</ChangeType>")
    for name, value in fields:
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        elif isinstance(value, str):
            parts.append(f"<{name}>{_cdata(value)}</{name}>")
        else:
            items = "".join(f"<Item>{_cdata(item)}</Item>" for item in value)
            parts.append(f"<{name}>{items}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


class CallbackDispatcher:
    """Sends events to the configured callback URL; keeps a record of every delivery."""

    def __init__(self, config: SimulatorConfig, *, http: httpx.Client | None = None) -> None:
        self.config = config
        self.url = config.callback_url
        self.crypto = WeComCrypto(config.token, config.encoding_aes_key, config.corp_id)
        self._http = http or httpx.Client(timeout=httpx.Timeout(config.callback_timeout_seconds))
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wecom-sim-callback")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closing = threading.Event()
        self.records: deque[dict[str, Any]] = deque(maxlen=10000)
        self.counts = {"delivered": 0, "failed": 0, "pending": 0, "skipped": 0, "attempts": 0}

    def envelope(self, plaintext: str) -> tuple[dict[str, str], str]:
        """(query, XML body) of one POST: encrypted, signed (§2.3)."""
        encrypted = self.crypto.encrypt(plaintext)
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {
            "msg_signature": self.crypto.sign(timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        agent = "" if self.config.agent_id is None else str(self.config.agent_id)
        body = (
            f"<xml><ToUserName>{_cdata(self.config.corp_id)}</ToUserName>"
            f"<Encrypt>{_cdata(encrypted)}</Encrypt><AgentID>{_cdata(agent)}</AgentID></xml>"
        )
        return query, body

    def emit(self, plaintext: str, *, event: str, change_type: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": next(self._ids),
            "event": event,
            "change_type": change_type,
            "xml": plaintext,
            "status": "pending",
            "attempts": 0,
            "errors": [],
            "created_at": time.time(),
        }
        with self._lock:
            self.records.append(record)
            if not self.url:
                record["status"] = "skipped"
                self.counts["skipped"] += 1
                return record
            self.counts["pending"] += 1
        self._executor.submit(self._deliver, record, self.url)
        return record

    def _deliver(self, record: dict[str, Any], url: str) -> None:
        query, body = self.envelope(record["xml"])
        delivered = False
        for attempt in range(1 + self.config.callback_max_retries):
            if self._closing.is_set():
                break
            if attempt:
                time.sleep(self.config.callback_retry_interval_seconds)
            with self._lock:
                record["attempts"] += 1
                self.counts["attempts"] += 1
            try:
                response = self._http.post(
                    url, params=query, content=body.encode(), headers={"Content-Type": "text/xml"}
                )
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            else:
                if response.status_code == 200:
                    delivered = True
                    break
                error = f"HTTP {response.status_code}"
            with self._lock:
                record["errors"].append(error)
            log.info("callback %s attempt %s failed: %s", record["id"], attempt + 1, error)
        with self._lock:
            record["status"] = "delivered" if delivered else "failed"
            record["finished_at"] = time.time()
            self.counts["pending"] -= 1
            self.counts["delivered" if delivered else "failed"] += 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no delivery is pending (tests, the demo); whether that happened in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.counts["pending"]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def verify_url(self, url: str | None = None) -> dict[str, Any]:
        """WeCom's URL check (§2.2): GET with an encrypted echostr; the receiver must answer the
        plaintext within 1 s."""
        target = url or self.url
        if not target:
            return {"ok": False, "error": "no callback URL configured"}
        plaintext = str(secrets.randbelow(10**19))
        echostr = self.crypto.encrypt(plaintext)
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {
            "msg_signature": self.crypto.sign(timestamp, nonce, echostr),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        try:
            response = self._http.get(target, params=query, timeout=1.0)
        except httpx.HTTPError as exc:
            return {"ok": False, "error": type(exc).__name__}
        ok = response.status_code == 200 and response.content == plaintext.encode()
        return {
            "ok": ok,
            "status_code": response.status_code,
            "expected": plaintext,
            "answered": response.text[:200],
        }

    def close(self) -> None:
        self._closing.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._http.close()
