"""Recorded WeCom callbacks map to the right canonical events (pure: no app, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scrm.platforms.wecom.mapping import MappingContext, MappingError, map_callback
from scrm.platforms.wecom.payloads import PayloadError, dedupe_key, parse_callback, parse_xml
from tests.platforms.wecom.conftest import CORP_ID, fixture_names, load_fixture

CONTEXT = MappingContext(tenant_id=7, connection_id=3, inbound_message_id=11)
CONTACT = {"userid": "zhangsan", "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"}

# fixture -> (event type, fields the event must carry); None: deliberately not acted on.
EXPECTED: dict[str, tuple[str, dict[str, Any]] | None] = {
    "add_external_contact__with_state": (
        "wecom.external_contact.added",
        {**CONTACT, "state": "teststate", "welcome_code": "WELCOMECODE"},
    ),
    "add_half_external_contact__basic": (
        "wecom.external_contact.half_added",
        {
            "userid": "zhangsan",
            "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mBBBB",
            "state": "live-qr-7",
            "welcome_code": "WELCOMECODE2",
        },
    ),
    "edit_external_contact__basic": ("wecom.external_contact.edited", CONTACT),
    "del_external_contact__by_staff": (
        "wecom.external_contact.deleted_by_staff",
        {**CONTACT, "source": None},
    ),
    "del_external_contact__by_transfer": (
        "wecom.external_contact.deleted_by_staff",
        {**CONTACT, "source": "DELETE_BY_TRANSFER"},
    ),
    "del_follow_user__basic": (
        "wecom.external_contact.deleted_by_customer",
        {"userid": "lisi", "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mCCCC"},
    ),
    "transfer_fail__customer_refused": (
        "wecom.external_contact.transfer_failed",
        {
            "userid": "wangwu",
            "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mDDDD",
            "fail_reason": "customer_refused",
        },
    ),
    "change_external_tag__create": (
        "wecom.corp_tag.changed",
        {
            "change_type": "create",
            "tag_id": "etAJ2GCAAAXtWyujaWJHDDGi0mAAAA",
            "tag_type": "tag",
            "strategy_id": None,
        },
    ),
    "change_external_tag__update": (
        "wecom.corp_tag.changed",
        {"change_type": "update", "tag_id": "etAJ2GCAAAXtWyujaWJHDDGi0mGGGG", "tag_type": "tag_group"},
    ),
    "change_external_tag__delete": (
        "wecom.corp_tag.changed",
        {"change_type": "delete", "tag_type": "tag", "strategy_id": 1},
    ),
    "change_external_tag__shuffle": (
        "wecom.corp_tag.changed",
        {"change_type": "shuffle", "tag_id": None, "tag_type": None, "strategy_id": 2},
    ),
    "change_external_chat__create": (
        "wecom.group_chat.changed",
        {"change_type": "create", "chat_id": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", "update_detail": None},
    ),
    "change_external_chat__update_add_member": (
        "wecom.group_chat.changed",
        {
            "change_type": "update",
            "chat_id": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
            "update_detail": "add_member",
            "join_scene": 3,
            "quit_scene": 0,
            "member_change_count": 2,
            "member_changes": ["Jack", "wmEAlECwAAHrbWYDOK5u3Af13xlYDDDD"],
            "last_member_version": "9c3f97c2ada667dfb5f6d03308d963e1",
            "current_member_version": "71217227bbd112ecfe3a49c482195cb4",
        },
    ),
    "change_external_chat__dismiss": (
        "wecom.group_chat.changed",
        {"change_type": "dismiss", "chat_id": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"},
    ),
    "change_contact__create_user": (
        "wecom.staff.changed",
        {"change_type": "create_user", "userid": "zhaoliu", "new_userid": None},
    ),
    "change_contact__update_user": (
        "wecom.staff.changed",
        {"change_type": "update_user", "userid": "zhaoliu", "new_userid": "zhaoliu2"},
    ),
    "change_contact__delete_user": (
        "wecom.staff.changed",
        {"change_type": "delete_user", "userid": "zhaoliu2"},
    ),
    "text__with_msgid": (
        "wecom.app_message.received",
        {
            "msg_id": "4561255354251345929",
            "msg_type": "text",
            "from_userid": "mycreate",
            "agent_id": "218",
            "content": "hello",
        },
    ),
    "batch_job_result__unknown_event": None,
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(EXPECTED) == fixture_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_its_canonical_event(name: str) -> None:
    callback = parse_callback(load_fixture(name))
    events = map_callback(callback, CONTEXT)
    expected = EXPECTED[name]
    if expected is None:
        assert events == []
        return
    event_type, fields = expected
    (event,) = events
    payload = event.model_dump()
    assert event.event_type == event_type
    assert {key: payload[key] for key in fields} == fields
    assert payload["tenant_id"] == 7
    assert payload["connection_id"] == 3
    assert payload["inbound_message_id"] == 11
    assert payload["corp_id"] == CORP_ID
    assert payload["occurred_at"] == datetime.fromtimestamp(callback.create_time, UTC)


def test_staff_changes_carry_the_changed_attributes() -> None:
    (event,) = map_callback(parse_callback(load_fixture("change_contact__create_user")), CONTEXT)
    fields = event.model_dump()["fields"]
    assert fields["Name"] == "赵六"
    assert fields["Department"] == "1,2,3"
    assert fields["Mobile"] == "13800000000"
    assert "ToUserName" not in fields and "ChangeType" not in fields


def test_parsed_callback_keeps_every_documented_field() -> None:
    chat = parse_callback(load_fixture("change_external_chat__update_add_member"))
    assert (chat.event, chat.change_type, chat.update_detail) == (
        "change_external_chat",
        "update",
        "add_member",
    )
    assert (chat.join_scene, chat.quit_scene, chat.mem_change_cnt) == (3, 0, 2)
    assert chat.mem_change_list == ["Jack", "wmEAlECwAAHrbWYDOK5u3Af13xlYDDDD"]
    transfer = parse_callback(load_fixture("del_external_contact__by_transfer"))
    assert transfer.source == "DELETE_BY_TRANSFER"
    refused = parse_callback(load_fixture("transfer_fail__customer_refused"))
    assert refused.fail_reason == "customer_refused"
    tag = parse_callback(load_fixture("change_external_tag__delete"))
    assert (tag.id, tag.tag_type, tag.strategy_id) == ("etAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "tag", 1)


def test_unknown_change_types_map_to_nothing() -> None:
    text = load_fixture("change_external_chat__dismiss").replace("dismiss", "something_new")
    assert map_callback(parse_callback(text), CONTEXT) == []


def test_a_known_event_without_its_ids_is_a_mapping_error() -> None:
    text = load_fixture("add_external_contact__with_state").replace(
        "<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID>", ""
    )
    with pytest.raises(MappingError):
        map_callback(parse_callback(text), CONTEXT)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not xml",
        "<xml><CreateTime>1</CreateTime>",
        "<root><CreateTime>1</CreateTime><MsgType>event</MsgType></root>",
        "<xml><MsgType>event</MsgType></xml>",
        "<xml><CreateTime>soon</CreateTime><MsgType>event</MsgType></xml>",
        "<xml><CreateTime>1</CreateTime></xml>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><CreateTime>1</CreateTime></xml>',
        '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><CreateTime>1</CreateTime></xml>',
    ],
)
def test_unreadable_plaintexts_are_payload_errors(text: str) -> None:
    with pytest.raises(PayloadError):
        parse_callback(text)


def test_dedupe_keys() -> None:
    add = load_fixture("add_external_contact__with_state")
    # The same event, formatted differently (no CDATA, other spacing and order), is the same key.
    reformatted = (
        "<xml>\n  <CreateTime>1403610513</CreateTime><ToUserName>wwcorp0000000001</ToUserName>"
        "<FromUserName>sys</FromUserName><MsgType>event</MsgType><Event>change_external_contact</Event>"
        "<ChangeType>add_external_contact</ChangeType><UserID>zhangsan</UserID>"
        "<ExternalUserID>woAJ2GCAAAXtWyujaWJHDDGi0mAAAA</ExternalUserID><State>teststate</State>"
        "<WelcomeCode>WELCOMECODE</WelcomeCode>\n</xml>"
    )
    assert dedupe_key(parse_xml(add)) == dedupe_key(parse_xml(reformatted))
    assert dedupe_key(parse_xml(add)).startswith("evt:")
    # Another customer added to the same staff member in the same second: another key.
    other = add.replace("woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "woAJ2GCAAAXtWyujaWJHDDGi0mZZZZ").replace(
        "WELCOMECODE", "WELCOMECODE9"
    )
    assert dedupe_key(parse_xml(add)) != dedupe_key(parse_xml(other))
    # Messages use WeCom's MsgId.
    assert dedupe_key(parse_xml(load_fixture("text__with_msgid"))) == "msg:4561255354251345929"
    # Member lists count, in order.
    chat = load_fixture("change_external_chat__update_add_member")
    assert dedupe_key(parse_xml(chat)) != dedupe_key(parse_xml(chat.replace("Jack", "Jill")))
