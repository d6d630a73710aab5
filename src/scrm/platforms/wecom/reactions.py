"""WeCom-side reactions that need the WeCom API: enriching new contacts, following corp-tag edits made
in the WeCom admin, and pushing tag edits made in the console to WeCom.

Each handler is idempotent by design: enrichment and tag reads are upserts; a push whose result was
already recorded (the tag has its WeCom id) is skipped, so a retry after a crash never creates a
second tag in WeCom.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from scrm.core.errors import RetryableError
from scrm.core.events import Delivery, EventHandler
from scrm.customers.events import CustomerTagsChanged, TagCreated, TagDeleted, TagGroupCreated, TagRenamed
from scrm.customers.service import get_tag, get_tag_group, record_tag_push, tag_push_plan, tags_of_group
from scrm.customers.wecom_ingest import (
    WeComScope,
    apply_contacts,
    mark_corp_tags_deleted,
    record_pushed_tag_ids,
    upsert_corp_tags,
)
from scrm.platforms.base import PlatformError
from scrm.platforms.canonical import (
    CorpTagChanged,
    ExternalContactAdded,
    ExternalContactEdited,
    ExternalContactHalfAdded,
    WeComInboundEvent,
)
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.errors import ErrCode, WeComError

NAME_EXISTS = 40071

log = logging.getLogger(__name__)


def _client(session: Session, tenant_id: int, connection_id: int) -> WeComClient:
    return platform_runtime().wecom_client(session, tenant_id=tenant_id, connection_id=connection_id)


def _scope(event: WeComInboundEvent) -> WeComScope:
    return WeComScope(tenant_id=event.tenant_id, connection_id=event.connection_id, corp_id=event.corp_id)


def enrich_contact(session: Session, delivery: Delivery) -> None:
    """Fetch the contact's profile, follow relations and tags after an add or an edit."""
    event_class = {
        ExternalContactAdded.event_type: ExternalContactAdded,
        ExternalContactHalfAdded.event_type: ExternalContactHalfAdded,
        ExternalContactEdited.event_type: ExternalContactEdited,
    }[delivery.event_type]
    event = delivery.load(event_class)
    client = _client(session, event.tenant_id, event.connection_id)
    apply_contacts(session, _scope(event), [client.get_external_contact(event.external_userid)])


def follow_corp_tag_change(session: Session, delivery: Delivery) -> None:
    """Mirror a tag edit made in the WeCom admin (change_external_tag)."""
    event = delivery.load(CorpTagChanged)
    scope = _scope(event)
    is_group = event.tag_type == "tag_group"
    if event.change_type == "delete" and event.tag_id:
        mark_corp_tags_deleted(
            session,
            scope,
            tag_ids=set() if is_group else {event.tag_id},
            group_ids={event.tag_id} if is_group else set(),
        )
        return
    client = _client(session, event.tenant_id, event.connection_id)
    if event.change_type in ("create", "update") and event.tag_id:
        groups = client.get_corp_tag_list(
            **({"group_ids": [event.tag_id]} if is_group else {"tag_ids": [event.tag_id]})
        )
        upsert_corp_tags(session, scope, groups, complete=False)
    else:  # shuffle, or anything without an id: re-read the whole list
        upsert_corp_tags(session, scope, client.get_corp_tag_list(), complete=True)


def _existing_group(client: WeComClient, name: str) -> dict[str, object]:
    for candidate in client.get_corp_tag_list():
        if candidate.get("group_name") == name:
            return candidate
    raise RetryableError(f"WeCom reports the tag group {name!r} exists but does not list it yet")


def push_tag_group(session: Session, delivery: Delivery) -> None:
    event = delivery.load(TagGroupCreated)
    group = get_tag_group(session, tenant_id=event.tenant_id, group_id=event.group_id)
    if group is None or group.is_deleted or group.wecom_group_id or group.connection_id is None:
        return
    tags = tags_of_group(session, tenant_id=event.tenant_id, group_id=group.id)
    client = _client(session, event.tenant_id, group.connection_id)
    try:
        created = client.add_corp_tag(group_name=group.name, tags=[{"name": tag.name} for tag in tags])
    except WeComError as error:
        if error.errcode != NAME_EXISTS:
            raise
        # An earlier attempt created it and then lost its transaction: adopt what WeCom has.
        created = _existing_group(client, group.name)
    record_pushed_tag_ids(
        session,
        tenant_id=event.tenant_id,
        group_id=group.id,
        wecom_group_id=str(created["group_id"]),
        tag_ids_by_name={str(tag["name"]): str(tag["id"]) for tag in created.get("tag", [])},
    )


def push_tag(session: Session, delivery: Delivery) -> None:
    event = delivery.load(TagCreated)
    tag = get_tag(session, tenant_id=event.tenant_id, tag_id=event.tag_id)
    if tag is None or tag.is_deleted or tag.wecom_tag_id or tag.connection_id is None:
        return
    group = get_tag_group(session, tenant_id=event.tenant_id, group_id=tag.group_id)
    if group is None or not group.wecom_group_id:
        raise RetryableError("the tag's group is not in WeCom yet")
    client = _client(session, event.tenant_id, tag.connection_id)
    try:
        created = client.add_corp_tag(group_id=group.wecom_group_id, tags=[{"name": tag.name}])
    except WeComError as error:
        if error.errcode != NAME_EXISTS:
            raise
        created = _existing_group(client, group.name)
    record_pushed_tag_ids(
        session,
        tenant_id=event.tenant_id,
        group_id=group.id,
        wecom_group_id=group.wecom_group_id,
        tag_ids_by_name={str(item["name"]): str(item["id"]) for item in created.get("tag", [])},
    )


def push_tag_rename(session: Session, delivery: Delivery) -> None:
    event = delivery.load(TagRenamed)
    tag = get_tag(session, tenant_id=event.tenant_id, tag_id=event.tag_id)
    if tag is None or tag.connection_id is None:
        return
    if not tag.wecom_tag_id:
        raise RetryableError("the tag is not in WeCom yet")
    _client(session, event.tenant_id, tag.connection_id).edit_corp_tag(tag.wecom_tag_id, name=tag.name)


def push_tag_delete(session: Session, delivery: Delivery) -> None:
    event = delivery.load(TagDeleted)
    tag = get_tag(session, tenant_id=event.tenant_id, tag_id=event.tag_id)
    if tag is None or tag.connection_id is None or not tag.wecom_tag_id:
        return
    _client(session, event.tenant_id, tag.connection_id).del_corp_tag(tag_ids=[tag.wecom_tag_id])


# mark_tag answers these when the relation or the tag no longer exists in WeCom: nothing to push.
_GONE = {
    ErrCode.NO_RELATIONSHIP,
    ErrCode.INVALID_EXTERNAL_USERID,
    ErrCode.INVALID_USERID,
    ErrCode.INVALID_TAG_ID,
}


# Attempts at a console tag push before WeCom's retryable refusals count as a failure (~15 s).
PUSH_ATTEMPTS = 5


def push_customer_tags(session: Session, delivery: Delivery) -> None:
    """Tags changed in the console: `mark_tag` each of the customer's relations in the tags' corps
    (a retry re-marks: harmless). A relation or tag gone from WeCom is skipped, not retried. WeCom
    refusing for good, or still refusing after `PUSH_ATTEMPTS`, is a failure noted on the customer's
    timeline with the rest of the outcome (not a dead letter only the system page shows)."""
    event = delivery.load(CustomerTagsChanged)
    clients: dict[int, WeComClient] = {}
    pushed: list[str] = []
    skipped: list[str] = []
    failed: dict[str, str] = {}
    for push in tag_push_plan(
        session,
        tenant_id=event.tenant_id,
        customer_id=event.customer_id,
        added=event.added,
        removed=event.removed,
    ):
        if push.connection_id not in clients:
            clients[push.connection_id] = _client(session, event.tenant_id, push.connection_id)
        try:
            clients[push.connection_id].mark_tag(
                push.staff_userid, push.external_userid, add_tag=push.add, remove_tag=push.remove
            )
        except PlatformError as error:
            if isinstance(error, WeComError) and error.errcode in _GONE:
                log.info("mark_tag skipped for %s/%s: %s", push.staff_userid, push.external_userid, error)
                skipped.append(push.staff_userid)
            elif delivery.retries(error, give_up_after=PUSH_ATTEMPTS):
                raise
            else:
                log.warning("mark_tag for %s/%s failed: %s", push.staff_userid, push.external_userid, error)
                failed[push.staff_userid] = str(error)[:200]
        else:
            pushed.append(push.staff_userid)
    record_tag_push(
        session,
        tenant_id=event.tenant_id,
        customer_id=event.customer_id,
        pushed=pushed,
        skipped=skipped,
        failed=failed,
    )


HANDLERS = [
    EventHandler(ExternalContactAdded.event_type, "wecom.enrich_contact", enrich_contact),
    EventHandler(ExternalContactHalfAdded.event_type, "wecom.enrich_contact", enrich_contact),
    EventHandler(ExternalContactEdited.event_type, "wecom.enrich_contact", enrich_contact),
    EventHandler(CorpTagChanged.event_type, "wecom.follow_corp_tag_change", follow_corp_tag_change),
    EventHandler(TagGroupCreated.event_type, "wecom.push_tag_group", push_tag_group),
    EventHandler(TagCreated.event_type, "wecom.push_tag", push_tag),
    EventHandler(TagRenamed.event_type, "wecom.push_tag_rename", push_tag_rename),
    EventHandler(TagDeleted.event_type, "wecom.push_tag_delete", push_tag_delete),
    EventHandler(CustomerTagsChanged.event_type, "wecom.push_customer_tags", push_customer_tags),
]
