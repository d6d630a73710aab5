"""Sending the welcome message of an add (欢迎语), at most once, within the welcome code's 20 s.

Runs as `channels.send_welcome` on `wecom.external_contact.added` (and `half_added`), after the
customers handler has recorded the profile and the WeCom reaction has fetched the customer's name
(registry order), and before the add is attributed: the welcome code is the one thing on a clock.

WeCom's welcome code is single use, so a second `send_welcome_msg` for the same add cannot deliver a
second message; it answers 41050. What needs care is telling "expired" from "already sent by us" when
an earlier attempt's answer was lost (a timeout, a dropped connection, a worker that died before
committing). So before each call the attempt is noted in the shared state (Redis, PostgreSQL, or
memory in the single-process SQLite mode), outside the handler's transaction, which a failure would
roll back. Then:

- success: `sent`;
- 41050 with no earlier attempt noted: `expired` (the 20 s passed, or the add_half event took it);
- 41050 after an earlier attempt: `probably_sent`: our earlier call most likely consumed the code and
  only its answer was lost. It could also have failed and the code expired meanwhile; we cannot tell,
  and the status says "probably";
- 41051: `customer_chatting` (the customer spoke first; WeCom allows no welcome);
- retryable failures (system busy, rate limits, network, a 3 s timeout): the handler raises and the
  outbox retries it while at least `WELCOME_RETRY_MARGIN` of the code's validity remains; then `failed`;
- any other error: `failed` (also a problem on the code's page).

The validity is counted from when the callback reached us (our clock): the code was issued a moment
before, so this deadline errs late, which costs at most one call answered 41050. Every outcome lands
on the customer's timeline and in `channel_welcomes` (one row per add event, written once). The
handler makes one WeCom call per attempt, with a short timeout, inside the worker's transaction.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.channels.calendar import zone
from scrm.channels.lookups import AddedEvent, added_event, code_by_state, received_at, scope_of, staff_name
from scrm.channels.models import ChannelCode, ChannelWelcome, CodeStatus, ProblemKind, WelcomeStatus
from scrm.channels.policies import welcome_config
from scrm.channels.ways import HANDLER_MAX_WAIT_SECONDS, record_problem
from scrm.channels.welcome import message_for
from scrm.core.clock import utcnow
from scrm.core.errors import RetryableError
from scrm.core.events import Delivery
from scrm.customers.channel_support import AddedCustomer, add_timeline, resolve_added_customer
from scrm.platforms.base import PlatformError
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.service import load_wecom_config
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.errors import ErrCode, WeComError

#: WeCom's validity of a welcome code (platform-protocols.md §3.5).
WELCOME_CODE_VALIDITY = timedelta(seconds=20)
#: No retry is started with less than this left: it would most likely arrive too late.
WELCOME_RETRY_MARGIN = timedelta(seconds=1.5)
#: How long an attempt stays noted in the shared state (well past the code's validity).
WELCOME_MARKER_TTL_SECONDS = 300.0
#: One welcome call may not eat the code's validity: a short timeout, then a retry if time remains.
WELCOME_HTTP_TIMEOUT = httpx.Timeout(3.0, connect=2.0)


class WelcomeRetry(RetryableError):
    """The welcome failed in a way worth retrying, and the code is still valid."""


_welcome_http: httpx.Client | None = None
_welcome_http_lock = threading.Lock()


def _welcome_client(session: Session, code: ChannelCode) -> WeComClient:
    """A client with a short timeout for `send_welcome_msg` (pooled, shared by the worker threads)."""
    global _welcome_http
    with _welcome_http_lock:
        if _welcome_http is None:
            _welcome_http = httpx.Client(
                timeout=WELCOME_HTTP_TIMEOUT, limits=httpx.Limits(max_connections=20)
            )
    runtime = platform_runtime()
    config = load_wecom_config(session, code.tenant_id, code.connection_id, box=runtime.secret_box)
    return WeComClient(
        config,
        shared_state=runtime.shared_state,
        http=_welcome_http,
        max_wait_seconds=HANDLER_MAX_WAIT_SECONDS,
    )


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


def _finish_welcome(
    session: Session,
    *,
    code: ChannelCode,
    event: AddedEvent,
    delivery: Delivery,
    customer: AddedCustomer,
    status: WelcomeStatus,
    variant: str | None,
    text: str | None,
    error: str | None,
) -> None:
    session.add(
        ChannelWelcome(
            tenant_id=code.tenant_id,
            code_id=code.id,
            event_id=delivery.event_id,
            customer_id=customer.id,
            staff_userid=event.userid,
            external_userid=event.external_userid,
            welcome_code=str(event.welcome_code),
            variant=variant,
            status=status,
            attempts=delivery.attempt,
            text=(text or "")[:500] or None,
            error=error[:2000] if error else None,
        )
    )
    kind, summary = _TIMELINE[status]
    add_timeline(
        session,
        tenant_id=code.tenant_id,
        customer_id=customer.id,
        kind=kind,
        summary=f"{summary}（渠道「{code.name}」" + (f"，{variant}" if variant else "") + "）",
        detail={
            "code_id": code.id,
            "staff_userid": event.userid,
            "variant": variant,
            "status": status.value,
            "attempts": delivery.attempt,
            "error": error,
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
            message=f"welcome to {event.external_userid} not sent: {error}",
            detail={"staff_userid": event.userid, "attempts": delivery.attempt},
        )


def send_welcome(session: Session, delivery: Delivery) -> None:
    event = added_event(delivery)
    if not event.welcome_code or not event.state:
        return
    code = code_by_state(
        session, tenant_id=event.tenant_id, connection_id=event.connection_id, state=event.state
    )
    if code is None or code.status != CodeStatus.ACTIVE:
        return
    config = welcome_config(code)
    if config is None:
        return
    done = session.scalar(
        select(ChannelWelcome.id).where(
            ChannelWelcome.tenant_id == event.tenant_id, ChannelWelcome.event_id == delivery.event_id
        )
    )
    if done is not None:
        return
    arrived = received_at(session, event)
    deadline = arrived + WELCOME_CODE_VALIDITY
    customer = resolve_added_customer(
        session, scope_of(event), external_userid=event.external_userid, known_before=arrived
    )
    message = message_for(
        config,
        arrived.astimezone(zone(code.timezone)),
        {
            "customer_name": customer.name,
            "staff_name": staff_name(session, tenant_id=event.tenant_id, userid=event.userid),
            "channel_name": code.name,
        },
    )

    def finish(status: WelcomeStatus, error: str | None = None) -> None:
        _finish_welcome(
            session,
            code=code,
            event=event,
            delivery=delivery,
            customer=customer,
            status=status,
            variant=message.variant,
            text=message.text,
            error=error,
        )

    if message.empty:
        finish(WelcomeStatus.SKIPPED)
        return
    shared = platform_runtime().shared_state
    marker_key = f"channels:welcome:{event.tenant_id}:{event.welcome_code}"
    earlier_raw = shared.get(marker_key)
    earlier = json.loads(earlier_raw) if earlier_raw else None
    now = utcnow()
    if now >= deadline:
        if earlier and earlier.get("error"):
            finish(WelcomeStatus.FAILED, f"{earlier['error']} (no time left to retry)")
        else:
            late = (now - arrived).total_seconds()
            finish(WelcomeStatus.EXPIRED, f"the code's 20 s had passed when we got to it ({late:.1f} s)")
        return
    shared.set(
        marker_key,
        json.dumps({"attempt": delivery.attempt, "at": now.isoformat(), "error": None}),
        WELCOME_MARKER_TTL_SECONDS,
    )
    try:
        _welcome_client(session, code).send_welcome_msg(
            str(event.welcome_code),
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
            shared.set(
                marker_key,
                json.dumps({"attempt": delivery.attempt, "at": now.isoformat(), "error": str(error)}),
                WELCOME_MARKER_TTL_SECONDS,
            )
            if utcnow() + WELCOME_RETRY_MARGIN < deadline:
                raise WelcomeRetry(f"welcome not sent yet, retrying: {error}") from error
        finish(WelcomeStatus.FAILED, str(error))
        return
    finish(WelcomeStatus.SENT)
