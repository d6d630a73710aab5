"""Sending the welcome message of an add (欢迎语), at most once, within the welcome code's 20 s.

The first attempt runs inside `channels.on_added` (the add's handler) before anything else it does:
the welcome code is the one thing on a clock. Retries run in durable timers (`channels.welcome_retry`,
one per attempt), so the add is attributed at once whatever WeCom does, and no transaction waits for
WeCom longer than one call (with a 3 s timeout).

WeCom's welcome code is single use, so a second `send_welcome_msg` for the same add cannot deliver a
second message; it answers 41050. What needs care is telling "expired" from "already sent by us" when
an earlier attempt's answer was lost (a timeout, a dropped connection, a worker that died before
committing). So before each call the attempt is noted in the shared state (Redis, PostgreSQL, or
memory in the single-process SQLite mode), outside the worker's transaction, which a failure would
roll back. Then:

- success: `sent`;
- 41050 with no earlier attempt noted: `expired` (the 20 s passed, or the add_half event took it);
- 41050 after an earlier attempt: `probably_sent`: our earlier call most likely consumed the code and
  only its answer was lost. It could also have failed and the code expired meanwhile; we cannot tell,
  and the status says "probably";
- 41051: `customer_chatting` (the customer spoke first; WeCom allows no welcome);
- retryable failures (system busy, rate limits, network, the 3 s timeout): another attempt after
  0.25 s, 0.5 s, 1 s, then every 2 s, while it can start at least `WELCOME_RETRY_MARGIN` before the
  code expires; then `failed`;
- any other error: `failed` (also a problem on the code's page).

The validity is counted from when the callback reached us (our clock): the code was issued a moment
before, so this deadline errs late, which costs at most one call answered 41050. Every outcome is
written once (one `channel_welcomes` row per add event) and lands on the customer's timeline.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.channels.calendar import zone
from scrm.channels.lookups import code_by_id, staff_name, unit_cache
from scrm.channels.models import ChannelCode, ChannelWelcome, CodeStatus, ProblemKind, WelcomeStatus
from scrm.channels.policies import welcome_config
from scrm.channels.ways import HANDLER_MAX_WAIT_SECONDS, record_problem
from scrm.channels.welcome import message_for
from scrm.core.clock import utcnow
from scrm.core.events import TimerDelivery, TimerHandler
from scrm.core.timers import schedule
from scrm.customers.channel_support import add_timeline, customer_name
from scrm.platforms.base import PlatformError
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.service import load_wecom_config
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.errors import ErrCode, WeComError

RETRY_KIND = "channels.welcome_retry"
#: WeCom's validity of a welcome code (platform-protocols.md §3.5).
WELCOME_CODE_VALIDITY = timedelta(seconds=20)
#: No retry is started with less than this left: it would most likely arrive too late.
WELCOME_RETRY_MARGIN = timedelta(seconds=1)
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)
#: How long an attempt stays noted in the shared state (well past the code's validity).
WELCOME_MARKER_TTL_SECONDS = 300.0
#: One welcome call may not eat the code's validity: a short timeout, then a retry if time remains.
WELCOME_HTTP_TIMEOUT = httpx.Timeout(3.0, connect=2.0)

_welcome_http: httpx.Client | None = None
_welcome_http_lock = threading.Lock()


@dataclass(frozen=True)
class WelcomeJob:
    """One add's welcome, as the add handler starts it and the retry timers carry it."""

    event_id: str
    tenant_id: int
    code_id: int
    customer_id: int
    userid: str
    external_userid: str
    welcome_code: str
    arrived: datetime  # when the add's callback reached us
    attempt: int = 1

    def payload(self) -> dict[str, Any]:
        return {**asdict(self), "arrived": self.arrived.isoformat()}

    @classmethod
    def of(cls, payload: dict[str, Any]) -> WelcomeJob:
        return cls(**{**payload, "arrived": datetime.fromisoformat(payload["arrived"])})

    @property
    def deadline(self) -> datetime:
        return self.arrived + WELCOME_CODE_VALIDITY


def _welcome_client(session: Session, code: ChannelCode) -> WeComClient:
    """A client with a short timeout for `send_welcome_msg` (pooled, shared by the worker threads)."""
    global _welcome_http
    with _welcome_http_lock:
        if _welcome_http is None:
            _welcome_http = httpx.Client(
                timeout=WELCOME_HTTP_TIMEOUT, limits=httpx.Limits(max_connections=20)
            )
    cache = unit_cache(session)
    key = ("welcome_client", code.tenant_id, code.connection_id)
    if key not in cache:
        runtime = platform_runtime()
        config = load_wecom_config(session, code.tenant_id, code.connection_id, box=runtime.secret_box)
        cache[key] = WeComClient(
            config,
            shared_state=runtime.shared_state,
            http=_welcome_http,
            max_wait_seconds=HANDLER_MAX_WAIT_SECONDS,
        )
    client: WeComClient = cache[key]
    return client


_TIMELINE = {
    WelcomeStatus.SENT: ("channel.welcome_sent", "已发送欢迎语"),
    WelcomeStatus.PROBABLY_SENT: (
        "channel.welcome_probably_sent",
        "欢迎语应已发送（上次发送的应答丢失，企业微信答复 41050）",
    ),
    WelcomeStatus.EXPIRED: ("channel.welcome_expired", "欢迎语未发送：欢迎语 code 已过期（41050）"),
    WelcomeStatus.CUSTOMER_CHATTING: (
        "channel.welcome_customer_chatting",
        "欢迎语未发送：客户已先发起会话（41051）",
    ),
    WelcomeStatus.FAILED: ("channel.welcome_failed", "欢迎语发送失败"),
    WelcomeStatus.SKIPPED: ("channel.welcome_skipped", "欢迎语为空，未发送"),
}


def _finish(
    session: Session,
    code: ChannelCode,
    job: WelcomeJob,
    status: WelcomeStatus,
    *,
    variant: str | None,
    text: str | None,
    error: str | None = None,
) -> WelcomeStatus:
    session.add(
        ChannelWelcome(
            tenant_id=code.tenant_id,
            code_id=code.id,
            event_id=job.event_id,
            customer_id=job.customer_id,
            staff_userid=job.userid,
            external_userid=job.external_userid,
            welcome_code=job.welcome_code,
            variant=variant,
            status=status,
            attempts=job.attempt,
            text=(text or "")[:500] or None,
            error=error[:2000] if error else None,
        )
    )
    kind, summary = _TIMELINE[status]
    add_timeline(
        session,
        tenant_id=code.tenant_id,
        customer_id=job.customer_id,
        kind=kind,
        summary=f"{summary}（渠道「{code.name}」" + (f"，{variant}" if variant else "") + "）",
        detail={
            "code_id": code.id,
            "staff_userid": job.userid,
            "variant": variant,
            "status": status.value,
            "attempts": job.attempt,
            "error": error,
            "text": (text or "")[:500] or None,
        },
        occurred_at=utcnow(),
    )
    if status == WelcomeStatus.FAILED:
        record_problem(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            code_id=code.id,
            kind=ProblemKind.WELCOME_FAILED,
            message=f"welcome to {job.external_userid} not sent: {error}",
            detail={"staff_userid": job.userid, "attempts": job.attempt},
        )
    return status


def _schedule_retry(session: Session, job: WelcomeJob, now: datetime) -> bool:
    """Another attempt after the next delay, if it can start `WELCOME_RETRY_MARGIN` before the deadline."""
    delay = timedelta(seconds=RETRY_DELAYS[min(job.attempt, len(RETRY_DELAYS)) - 1])
    due = now + delay
    if due + WELCOME_RETRY_MARGIN > job.deadline:
        return False
    following = WelcomeJob(**{**asdict(job), "attempt": job.attempt + 1})
    schedule(
        session,
        RETRY_KIND,
        due,
        following.payload(),
        f"{job.event_id}:{following.attempt}",
        tenant_id=job.tenant_id,
    )
    return True


def attempt_welcome(
    session: Session,
    code: ChannelCode,
    job: WelcomeJob,
    *,
    name: str | None = None,
    staff_display: str | None = None,
) -> None:
    """One attempt at the add's welcome: sends it, records the outcome, or schedules the next attempt.

    `name` and `staff_display` are the customer's and the member's names when the caller has them;
    otherwise they are read.
    """
    config = welcome_config(code)
    if config is None:
        return
    values = {
        "customer_name": name
        if name is not None
        else customer_name(session, tenant_id=job.tenant_id, customer_id=job.customer_id),
        "staff_name": staff_display
        if staff_display is not None
        else staff_name(session, tenant_id=job.tenant_id, userid=job.userid),
        "channel_name": code.name,
    }
    message = message_for(config, job.arrived.astimezone(zone(code.timezone)), values)
    if message.empty:
        _finish(session, code, job, WelcomeStatus.SKIPPED, variant=message.variant, text=None)
        return
    shared = platform_runtime().shared_state
    marker_key = f"channels:welcome:{job.tenant_id}:{job.welcome_code}"
    earlier_raw = shared.get(marker_key)
    earlier = json.loads(earlier_raw) if earlier_raw else None
    now = utcnow()

    def finish(status: WelcomeStatus, error: str | None = None) -> None:
        _finish(session, code, job, status, variant=message.variant, text=message.text, error=error)

    if now >= job.deadline:
        if earlier and earlier.get("error"):
            finish(WelcomeStatus.FAILED, f"{earlier['error']} (no time left to retry)")
        else:
            late = (now - job.arrived).total_seconds()
            finish(WelcomeStatus.EXPIRED, f"the code's validity had passed when we got to it ({late:.1f} s)")
        return
    note = {"attempt": job.attempt, "at": now.isoformat(), "error": None}
    shared.set(marker_key, json.dumps(note), WELCOME_MARKER_TTL_SECONDS)
    try:
        _welcome_client(session, code).send_welcome_msg(
            job.welcome_code,
            text=message.text or None,
            attachments=[dict(item) for item in message.attachments],
        )
    except PlatformError as error:
        errcode = error.errcode if isinstance(error, WeComError) else None
        if errcode == ErrCode.INVALID_WELCOME_CODE:
            if earlier is not None:
                finish(
                    WelcomeStatus.PROBABLY_SENT,
                    f"41050 after attempt {earlier.get('attempt')} lost its answer",
                )
            else:
                finish(WelcomeStatus.EXPIRED, "41050: the welcome code is invalid or used")
            return
        if errcode == ErrCode.CUSTOMER_ALREADY_CHATTING:
            finish(WelcomeStatus.CUSTOMER_CHATTING, "41051")
            return
        if error.retryable:
            shared.set(marker_key, json.dumps({**note, "error": str(error)}), WELCOME_MARKER_TTL_SECONDS)
            if _schedule_retry(session, job, utcnow()):
                return
        finish(WelcomeStatus.FAILED, str(error))
        return
    finish(WelcomeStatus.SENT)


def on_welcome_retry(session: Session, timer: TimerDelivery) -> None:
    """Timer `channels.welcome_retry`: the next attempt, unless the outcome is already recorded or the
    code was disabled or deleted meanwhile (then nothing is sent)."""
    job = WelcomeJob.of(timer.payload)
    done = session.scalar(
        select(ChannelWelcome.id).where(
            ChannelWelcome.tenant_id == job.tenant_id, ChannelWelcome.event_id == job.event_id
        )
    )
    code = code_by_id(session, tenant_id=job.tenant_id, code_id=job.code_id)
    if done is not None or code is None or code.status != CodeStatus.ACTIVE:
        return
    attempt_welcome(session, code, job)


TIMER_HANDLERS = [TimerHandler(RETRY_KIND, on_welcome_retry)]
