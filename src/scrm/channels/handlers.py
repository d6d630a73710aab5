"""Reactions of the channels domain, registered in `HANDLERS` and `TIMER_HANDLERS`.

On `wecom.external_contact.added` (and `half_added`), after the customers handler recorded the profile
and the WeCom reaction fetched the customer's name (registry order), `channels.on_added`:

1. finds the code of the add's `state`. None, or a deleted or disabled one: the add cannot be
   credited; the customer keeps "unknown channel" as source and the problem is recorded (per state
   for unknown states, which is the unknown-state counter; on the code's page otherwise);
2. makes the welcome message's first attempt (`scrm.channels.welcome_delivery`): its code is valid
   for 20 s, so it goes before anything else; retries, if needed, run in timers;
3. attributes the add to the code (`record_add`): the add row (counted for caps, rotation and
   analytics), the customer's source channel, store and region, the timeline, a sticky hand-back, the
   way's refresh timer, and `channels.customer_added`, on which `channels.push_tags_and_remark`
   (`scrm.channels.followups`) calls `mark_tag` and `remark` in WeCom, off the welcome's critical
   path. A full add completing an earlier half add, or a transfer completing, is not a new add.

Deletions (either side) of a relation that came through a code are recorded for analytics. The
`channels.refresh_way` timers keep each code's contact way on plan (`scrm.channels.ways`); the
`channels.welcome_retry` timers retry welcome messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.channels.calendar import zone
from scrm.channels.events import ChannelCustomerAdded, ChannelHandBackRequested
from scrm.channels.followups import hand_back_to_previous_guide, push_tags_and_remark
from scrm.channels.lookups import (
    AddedEvent,
    Member,
    added_event,
    code_by_id,
    code_by_state,
    member,
    received_at,
    scope_of,
)
from scrm.channels.merges import HANDLERS as MERGE_HANDLERS
from scrm.channels.models import ChannelAdd, ChannelCode, ChannelDeletion, CodeStatus, ProblemKind
from scrm.channels.policies import routing_policy
from scrm.channels.routing import sticky_target
from scrm.channels.ways import TIMER_HANDLERS as WAY_TIMER_HANDLERS
from scrm.channels.ways import record_problem, request_refresh, rotates, routing_facts
from scrm.channels.welcome_delivery import TIMER_HANDLERS as WELCOME_TIMER_HANDLERS
from scrm.channels.welcome_delivery import WelcomeJob, attempt_welcome
from scrm.core.clock import utcnow
from scrm.core.events import Delivery, EventHandler, publish
from scrm.customers.channel_support import (
    UNKNOWN_CHANNEL,
    AddedCustomer,
    add_timeline,
    follow_add_way,
    is_following,
    previous_guide,
    record_source_channel,
    resolve_added_customer,
)
from scrm.customers.wecom_ingest import WeComScope
from scrm.platforms.canonical import (
    ExternalContactAdded,
    ExternalContactDeletedByCustomer,
    ExternalContactDeletedByStaff,
    ExternalContactHalfAdded,
)

DELETE_BY_TRANSFER = "DELETE_BY_TRANSFER"
#: add_way of a relation an admin assigned (a transfer), platform-protocols.md §3.2.
ADD_WAY_ASSIGNED = 202


def _record_unattributed(
    session: Session,
    event: AddedEvent,
    customer: AddedCustomer,
    *,
    code: ChannelCode | None,
    kind: ProblemKind,
    message: str,
) -> None:
    """An add the channel cannot be credited with: the customer keeps "unknown channel" as source."""
    record_problem(
        session,
        tenant_id=event.tenant_id,
        connection_id=event.connection_id,
        code_id=code.id if code is not None else None,
        kind=kind,
        state=event.state,
        message=message,
        detail={"userid": event.userid, "external_userid": event.external_userid, "customer_id": customer.id},
    )
    record_source_channel(
        session,
        tenant_id=event.tenant_id,
        customer_id=customer.id,
        code_id=None,
        label=UNKNOWN_CHANNEL,
    )
    add_timeline(
        session,
        tenant_id=event.tenant_id,
        customer_id=customer.id,
        kind="channel.unknown",
        summary=f"来源渠道未知（state {event.state}）：{message}",
        detail={
            "state": event.state,
            "code_id": code.id if code is not None else None,
            "problem": kind.value,
        },
        occurred_at=event.occurred_at,
    )


def _merge_half_add(session: Session, code: ChannelCode, event: AddedEvent) -> bool:
    """A full add after a half add of the same relation is the same add: mark it complete."""
    if isinstance(event, ExternalContactHalfAdded):
        return False
    half = session.scalars(
        select(ChannelAdd)
        .where(
            ChannelAdd.tenant_id == event.tenant_id,
            ChannelAdd.connection_id == event.connection_id,
            ChannelAdd.external_userid == event.external_userid,
            ChannelAdd.staff_userid == event.userid,
        )
        .order_by(ChannelAdd.id.desc())
        .limit(1)
    ).one_or_none()
    if half is None or not half.is_half or half.code_id != code.id:
        return False
    ended = session.scalar(
        select(ChannelDeletion.id).where(
            ChannelDeletion.tenant_id == event.tenant_id, ChannelDeletion.add_id == half.id
        )
    )
    if ended is not None:
        return False
    half.is_half = False
    return True


def _is_transfer(session: Session, scope: WeComScope, event: AddedEvent) -> bool:
    """An add that is a transfer completing, not a scan: WeCom's callback carries the old relation's
    state but no welcome code. Recognised when it completes one of our sticky hand-backs, or when the
    relation's add_way (fetched by the WeCom reaction before us) says admin assignment (202).
    Transfers made elsewhere whose relation has not been fetched yet are counted as adds."""
    if event.welcome_code:
        return False
    handed_back = session.scalar(
        select(ChannelAdd.id)
        .where(
            ChannelAdd.tenant_id == event.tenant_id,
            ChannelAdd.connection_id == event.connection_id,
            ChannelAdd.external_userid == event.external_userid,
            ChannelAdd.routed_to == event.userid,
        )
        .limit(1)
    )
    if handed_back is not None:
        return True
    return (
        follow_add_way(session, scope, external_userid=event.external_userid, staff_userid=event.userid)
        == ADD_WAY_ASSIGNED
    )


def on_added(session: Session, delivery: Delivery) -> None:
    """`channels.on_added`: the welcome's first attempt, then the add's attribution (see the module)."""
    event = added_event(delivery)
    if not event.state:
        return  # not a channel add (search, card share...)
    scope = scope_of(event)
    arrived = received_at(session, event)
    customer = resolve_added_customer(
        session, scope, external_userid=event.external_userid, known_before=arrived
    )
    code = code_by_state(
        session, tenant_id=event.tenant_id, connection_id=event.connection_id, state=event.state
    )
    if code is None:
        _record_unattributed(
            session,
            event,
            customer,
            code=None,
            kind=ProblemKind.UNKNOWN_STATE,
            message="no code has this state",
        )
        return
    if code.status != CodeStatus.ACTIVE:
        kind = ProblemKind.DELETED_CODE if code.status == CodeStatus.DELETED else ProblemKind.DISABLED_CODE
        _record_unattributed(
            session, event, customer, code=code, kind=kind, message=f"scanned while the code is {code.status}"
        )
        return
    guide = member(session, tenant_id=code.tenant_id, connection_id=code.connection_id, userid=event.userid)
    if event.welcome_code:
        job = WelcomeJob(
            event_id=delivery.event_id,
            tenant_id=code.tenant_id,
            code_id=code.id,
            customer_id=customer.id,
            userid=event.userid,
            external_userid=event.external_userid,
            welcome_code=event.welcome_code,
            arrived=arrived,
        )
        attempt_welcome(session, code, job, name=customer.name, staff_display=guide.name)
    if _merge_half_add(session, code, event) or _is_transfer(session, scope, event):
        return
    record_add(session, code, event, delivery.event_id, customer, guide, arrived)


def record_add(
    session: Session,
    code: ChannelCode,
    event: AddedEvent,
    event_id: str,
    customer: AddedCustomer,
    guide: Member,
    arrived: datetime,
) -> ChannelAdd:
    """Attribute the add to `code`: the add row, the customer's source channel, the timeline, a sticky
    hand-back, the way's refresh, and `channels.customer_added` for the WeCom follow-ups."""
    scope = scope_of(event)
    entry = next((item for item in code.staff if item["userid"] == event.userid), None)
    if entry is None:
        record_problem(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            code_id=code.id,
            kind=ProblemKind.NOT_ON_CODE,
            message=f"{event.userid} added a customer through this code but is not among its staff",
            detail={"external_userid": event.external_userid},
        )
    if guide.lacks_customer_contact:
        record_problem(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            code_id=code.id,
            kind=ProblemKind.NO_CUSTOMER_CONTACT,
            message=f"{event.userid} has no 客户联系 permission (customer still recorded)",
            detail={"external_userid": event.external_userid},
        )
    local = arrived.astimezone(zone(code.timezone))
    sticky_to = None
    if customer.is_returning and (code.routing or {}).get("sticky"):
        previous = previous_guide(session, scope, customer_id=customer.id, exclude_staff=event.userid)
        # A customer who still follows their previous guide is with them already: nothing to hand back.
        if previous is not None and not is_following(
            session, scope, customer_id=customer.id, staff_userid=previous
        ):
            sticky_to = sticky_target(routing_policy(code), routing_facts(session, code, arrived), previous)
    add = ChannelAdd(
        tenant_id=code.tenant_id,
        code_id=code.id,
        connection_id=code.connection_id,
        event_id=event_id,
        staff_userid=event.userid,
        external_userid=event.external_userid,
        customer_id=customer.id,
        store=(entry or {}).get("store") or code.store,
        region=(entry or {}).get("region") or code.region,
        occurred_at=event.occurred_at,
        recorded_at=utcnow(),
        local_day=local.date().isoformat(),
        local_hour=local.hour,
        is_returning=customer.is_returning,
        is_half=isinstance(event, ExternalContactHalfAdded),
        was_listed=event.userid in (code.way_users or []),
        decision_id=code.decision_id,
        routed_to=sticky_to,
    )
    session.add(add)
    session.flush()
    record_source_channel(
        session,
        tenant_id=code.tenant_id,
        customer_id=customer.id,
        code_id=code.id,
        label=code.name,
        store=add.store,
        region=add.region,
    )
    add_timeline(
        session,
        tenant_id=code.tenant_id,
        customer_id=customer.id,
        kind="channel.added",
        summary=f"扫描渠道活码「{code.name}」添加了 {guide.name}"
        + ("（回访客户）" if customer.is_returning else ""),
        detail={
            "code_id": code.id,
            "add_id": add.id,
            "state": code.state,
            "staff_userid": event.userid,
            "store": add.store,
            "returning": customer.is_returning,
            "sticky_to": sticky_to,
        },
        occurred_at=event.occurred_at,
    )
    if rotates(code):
        request_refresh(session, code, trigger="add")
    publish(
        session,
        ChannelCustomerAdded(
            tenant_id=code.tenant_id,
            code_id=code.id,
            add_id=add.id,
            connection_id=code.connection_id,
            corp_id=event.corp_id,
            customer_id=customer.id,
            staff_userid=event.userid,
            external_userid=event.external_userid,
            is_returning=customer.is_returning,
        ),
    )
    if sticky_to is not None:
        publish(
            session,
            ChannelHandBackRequested(
                tenant_id=code.tenant_id,
                code_id=code.id,
                add_id=add.id,
                connection_id=code.connection_id,
                customer_id=customer.id,
                staff_userid=event.userid,
                external_userid=event.external_userid,
                to_userid=sticky_to,
            ),
        )
    return add


def record_deletion(session: Session, delivery: Delivery) -> None:
    """A relation that came through a code ended (either side). Removals caused by a transfer are not
    losses and are not recorded."""
    event: ExternalContactDeletedByStaff | ExternalContactDeletedByCustomer
    if delivery.event_type == ExternalContactDeletedByCustomer.event_type:
        event, by_customer, source = delivery.load(ExternalContactDeletedByCustomer), True, None
    else:
        event = delivery.load(ExternalContactDeletedByStaff)
        by_customer, source = False, event.source
    if source == DELETE_BY_TRANSFER:
        return
    add = session.scalars(
        select(ChannelAdd)
        .where(
            ChannelAdd.tenant_id == event.tenant_id,
            ChannelAdd.connection_id == event.connection_id,
            ChannelAdd.external_userid == event.external_userid,
            ChannelAdd.staff_userid == event.userid,
        )
        .order_by(ChannelAdd.id.desc())
        .limit(1)
    ).one_or_none()
    if add is None:
        return
    code = code_by_id(session, tenant_id=event.tenant_id, code_id=add.code_id)
    tz = zone(code.timezone if code is not None else "Asia/Shanghai")
    local = received_at(session, event).astimezone(tz)
    session.add(
        ChannelDeletion(
            tenant_id=event.tenant_id,
            code_id=add.code_id,
            add_id=add.id,
            connection_id=event.connection_id,
            event_id=delivery.event_id,
            staff_userid=event.userid,
            external_userid=event.external_userid,
            customer_id=add.customer_id,
            by_customer=by_customer,
            source=source,
            store=add.store,
            region=add.region,
            occurred_at=event.occurred_at,
            local_day=local.date().isoformat(),
            local_hour=local.hour,
        )
    )


HANDLERS = [
    EventHandler(ExternalContactAdded.event_type, "channels.on_added", on_added),
    EventHandler(ExternalContactHalfAdded.event_type, "channels.on_added", on_added),
    EventHandler(ChannelCustomerAdded.event_type, "channels.push_tags_and_remark", push_tags_and_remark),
    EventHandler(ChannelHandBackRequested.event_type, "channels.hand_back", hand_back_to_previous_guide),
    EventHandler(ExternalContactDeletedByStaff.event_type, "channels.record_deletion", record_deletion),
    EventHandler(ExternalContactDeletedByCustomer.event_type, "channels.record_deletion", record_deletion),
]
HANDLERS += MERGE_HANDLERS
TIMER_HANDLERS = [*WAY_TIMER_HANDLERS, *WELCOME_TIMER_HANDLERS]
