"""Follow-ups of an attributed add, off the welcome's critical path: the code's tags (`mark_tag`) and
remark/description (`remark`) in WeCom, mirrored locally, and sticky hand-backs (在职继承)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.channels.calendar import zone
from scrm.channels.events import ChannelCustomerAdded, ChannelHandBackRequested
from scrm.channels.lookups import code_by_id, staff_name
from scrm.channels.models import ChannelAdd, ChannelCode, CodeStatus, ProblemKind
from scrm.channels.ways import HANDLER_MAX_WAIT_SECONDS, record_problem, wecom_client
from scrm.channels.welcome import fit_chars, render
from scrm.core.clock import utcnow
from scrm.core.errors import RetryableError
from scrm.core.events import Delivery
from scrm.customers.channel_support import add_timeline, customer_name, tags_by_ids, update_follow
from scrm.customers.wecom_ingest import WeComScope
from scrm.platforms.base import PlatformError
from scrm.platforms.wecom.errors import ErrCode, WeComError

# Attempts at a follow-up before a retryable WeCom failure counts as failed (about 15 s of back-off).
FOLLOW_UP_ATTEMPTS = 5


def _failure(api: str, error: PlatformError, delivery: Delivery) -> str:
    given_up = f" (gave up after {delivery.attempt} attempts)" if error.retryable else ""
    return f"{api} failed{given_up}: {error}"


def _no_relation(error: PlatformError) -> bool:
    return isinstance(error, WeComError) and error.errcode in (
        ErrCode.NO_RELATIONSHIP,
        ErrCode.INVALID_EXTERNAL_USERID,
    )


def push_tags_and_remark(session: Session, delivery: Delivery) -> None:
    """`mark_tag` with the code's tags and `remark` from its templates, then the same locally.

    Tags not yet pushed to WeCom (no WeCom id) make the handler retry a few times, then the rest is
    applied and the problem recorded. Retryable WeCom errors raise (the outbox retries; both calls are
    idempotent) until attempt `FOLLOW_UP_ATTEMPTS`, then count as failed like permanent ones: recorded
    on the code's page, so a WeCom outage shows where operators look, not only as dead letters.
    """
    event = delivery.load(ChannelCustomerAdded)
    code = code_by_id(session, tenant_id=event.tenant_id, code_id=event.code_id)
    if code is None or code.status != CodeStatus.ACTIVE:
        return
    scope = WeComScope(tenant_id=event.tenant_id, connection_id=event.connection_id, corp_id=event.corp_id)
    tags = tags_by_ids(session, tenant_id=code.tenant_id, tag_ids=code.tag_ids)
    unpushed = [tag.name for tag in tags if not tag.wecom_tag_id]
    if unpushed and delivery.attempt < FOLLOW_UP_ATTEMPTS:
        raise RetryableError(f"tags not in WeCom yet: {', '.join(unpushed)}")
    wecom_tag_ids = [str(tag.wecom_tag_id) for tag in tags if tag.wecom_tag_id]
    remark = description = None
    if code.remark_template or code.description_template:
        values = _remark_values(session, code, event)
        if code.remark_template:
            remark = fit_chars(render(code.remark_template, values), 20)
        if code.description_template:
            description = fit_chars(render(code.description_template, values), 150)
    if unpushed:
        _tag_problem(
            session, code, event, ProblemKind.TAGS_FAILED, f"tags never reached WeCom: {', '.join(unpushed)}"
        )
    if not wecom_tag_ids and remark is None and description is None:
        return
    client = wecom_client(session, code, max_wait_seconds=HANDLER_MAX_WAIT_SECONDS)
    tagged = False
    if wecom_tag_ids:
        try:
            client.mark_tag(event.staff_userid, event.external_userid, add_tag=wecom_tag_ids)
            tagged = True
        except PlatformError as error:
            if delivery.retries(error, give_up_after=FOLLOW_UP_ATTEMPTS):
                raise
            if not _no_relation(error):
                _tag_problem(
                    session, code, event, ProblemKind.TAGS_FAILED, _failure("mark_tag", error, delivery)
                )
    remarked = False
    if remark is not None or description is not None:
        try:
            client.remark(event.staff_userid, event.external_userid, remark=remark, description=description)
            remarked = True
        except PlatformError as error:
            if delivery.retries(error, give_up_after=FOLLOW_UP_ATTEMPTS):
                raise
            if not _no_relation(error):
                _tag_problem(
                    session, code, event, ProblemKind.REMARK_FAILED, _failure("remark", error, delivery)
                )
    if tagged or remarked:
        update_follow(
            session,
            scope,
            external_userid=event.external_userid,
            staff_userid=event.staff_userid,
            add_wecom_tag_ids=wecom_tag_ids if tagged else (),
            remark=remark if remarked else None,
            description=description if remarked else None,
        )
    if tagged:
        add_timeline(
            session,
            tenant_id=code.tenant_id,
            customer_id=event.customer_id,
            kind="channel.tagged",
            summary="渠道标签：" + "、".join(tag.name for tag in tags if tag.wecom_tag_id),
            detail={"code_id": code.id, "wecom_tag_ids": wecom_tag_ids, "staff_userid": event.staff_userid},
            occurred_at=utcnow(),
        )


def _remark_values(session: Session, code: ChannelCode, event: ChannelCustomerAdded) -> dict[str, str | None]:
    add = session.get(ChannelAdd, event.add_id)
    return {
        "customer_name": customer_name(session, tenant_id=code.tenant_id, customer_id=event.customer_id),
        "staff_name": staff_name(session, tenant_id=code.tenant_id, userid=event.staff_userid),
        "channel_name": code.name,
        "store": (add.store if add else None) or code.store,
        "region": (add.region if add else None) or code.region,
        "date": add.local_day if add else utcnow().astimezone(zone(code.timezone)).date().isoformat(),
    }


def _tag_problem(
    session: Session, code: ChannelCode, event: ChannelCustomerAdded, kind: ProblemKind, message: str
) -> None:
    record_problem(
        session,
        tenant_id=code.tenant_id,
        connection_id=code.connection_id,
        code_id=code.id,
        kind=kind,
        message=message,
        detail={"external_userid": event.external_userid, "staff_userid": event.staff_userid},
    )


CUSTOMER_IN_TRANSFER = 40129


def hand_back_to_previous_guide(session: Session, delivery: Delivery) -> None:
    """Sticky routing: ask WeCom to transfer the returning customer to their previous guide (在职继承).
    WeCom notifies the customer, who may refuse within 24 h; a transfer already under way (40129, e.g.
    our earlier attempt whose answer was lost) counts as requested."""
    event = delivery.load(ChannelHandBackRequested)
    code = code_by_id(session, tenant_id=event.tenant_id, code_id=event.code_id)
    if code is None:
        return
    client = wecom_client(session, code, max_wait_seconds=HANDLER_MAX_WAIT_SECONDS)
    try:
        results = client.transfer_customer(event.staff_userid, event.to_userid, [event.external_userid])
    except PlatformError as error:
        if error.retryable:
            raise
        results = [{"external_userid": event.external_userid, "errcode": getattr(error, "errcode", -1)}]
    errcode = next(
        (
            int(item.get("errcode", 0))
            for item in results
            if item.get("external_userid") == event.external_userid
        ),
        0,
    )
    if errcode in (0, CUSTOMER_IN_TRANSFER):
        add_timeline(
            session,
            tenant_id=code.tenant_id,
            customer_id=event.customer_id,
            kind="channel.sticky_transfer",
            summary=(
                f"老客户回流：已申请从 {event.staff_userid} 转回原导购 {event.to_userid}"
                f"（渠道「{code.name}」）"
            ),
            detail={"code_id": code.id, "from": event.staff_userid, "to": event.to_userid},
            occurred_at=utcnow(),
        )
        return
    record_problem(
        session,
        tenant_id=code.tenant_id,
        connection_id=code.connection_id,
        code_id=code.id,
        kind=ProblemKind.STICKY_TRANSFER_FAILED,
        message=f"could not hand {event.external_userid} back to {event.to_userid}: errcode {errcode}",
        detail={"from": event.staff_userid, "to": event.to_userid, "errcode": errcode},
    )
