"""The two XML parsers of `payloads` agree, the fast one only takes what cannot carry a DTD, and the
dedupe key's text is exactly what it always was."""

from __future__ import annotations

import hashlib
import json
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeElementTree
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrm.platforms.wecom.payloads import (
    PayloadError,
    _canonical_items,
    _declares_nothing,
    _json_pairs,
    callback_from_element,
    check_callback,
    dedupe_key,
    parse_xml,
)
from tests.platforms.wecom.conftest import fixture_names, load_fixture
from tests.platforms.wecom.test_callbacks_hostile import BILLION_LAUGHS, XXE_FILE


def tree(element: Element) -> object:
    return (element.tag, element.attrib, element.text, element.tail, [tree(child) for child in element])


def safe_parse(text: str | bytes) -> Element:
    root: Element = SafeElementTree.fromstring(text, forbid_dtd=True)
    return root


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_takes_the_fast_path_and_parses_as_defusedxml_does(name: str) -> None:
    text = load_fixture(name)
    assert _declares_nothing(text) and _declares_nothing(text.encode())
    assert tree(parse_xml(text)) == tree(safe_parse(text))
    assert tree(parse_xml(text.encode())) == tree(safe_parse(text.encode()))


@pytest.mark.parametrize(
    "text",
    [
        "<xml><Content><![CDATA[<!DOCTYPE x [<!ENTITY a 'b'>]> &a; ]]></Content></xml>",
        "<xml><!-- <!DOCTYPE x> <!ENTITY a 'b'> --><A>1</A></xml>",
        "<xml><A><![CDATA[]]></A><!----><B><![CDATA[a]]b]]></B></xml>",
        "<xml><A>&lt;!DOCTYPE&gt; &amp; &#x4e2d;&#25991;</A></xml>",
        "<xml><A>中文 <![CDATA[中文]]></A></xml>",
        '<xml a="1"><A b="&quot;">x<B/>tail</A></xml>',
    ],
)
def test_markup_inside_cdata_and_comments_is_text_not_a_declaration(text: str) -> None:
    assert _declares_nothing(text)
    assert tree(parse_xml(text)) == tree(safe_parse(text))


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><xml/>',  # a declaration could name another encoding
        "\ufeff<xml/>",
        " <xml/>",
        "<!DOCTYPE xml><xml/>",
        "<xml><!DOCTYPE xml></xml>",
        "<xml><!ENTITY a 'b'></xml>",
        "<xml><!ELEMENT a ANY></xml>",
        "<xml><![CDATA[unterminated</xml>",
        "<xml><!-- unterminated</xml>",
        "<xml><![CDATA[a]]><!DOCTYPE x></xml>",  # after the section ends, markup counts again
        "<xml><!-- a --><!ENTITY a 'b'></xml>",
        "<xml><![cdata[a]]></xml>",  # not a CDATA section: the keyword is case-sensitive
    ],
)
def test_anything_that_might_declare_goes_to_defusedxml(text: str) -> None:
    assert not _declares_nothing(text)
    assert not _declares_nothing(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        XXE_FILE + "<xml><A>&xxe;</A></xml>",
        BILLION_LAUGHS + "<xml><A>&lol9;</A></xml>",
        "<xml><A>&undeclared;</A></xml>",
        "<xml><!DOCTYPE xml [<!ENTITY a 'b'>]><A>&a;</A></xml>",
        "<xml><A><![CDATA[x]]><!ENTITY a SYSTEM 'file:///etc/passwd'></A></xml>",
    ],
)
def test_hostile_xml_is_refused_on_either_path(text: str) -> None:
    with pytest.raises(PayloadError):
        parse_xml(text)
    with pytest.raises(PayloadError):
        parse_xml(text.encode())


@given(st.lists(st.tuples(st.text(), st.text())))
def test_json_pairs_is_json_dumps(pairs: list[tuple[str, str]]) -> None:
    assert _json_pairs(pairs) == json.dumps(pairs, ensure_ascii=False)


@pytest.mark.parametrize("name", fixture_names())
def test_dedupe_keys_are_computed_as_they_always_were(name: str) -> None:
    root = parse_xml(load_fixture(name))
    message_id = (root.findtext("MsgId") or "").strip()
    items: list[tuple[str, str]] = []
    _canonical_items(root, "", items)
    digest = hashlib.sha256(json.dumps(sorted(items), ensure_ascii=False).encode()).hexdigest()
    assert dedupe_key(root) == (f"msg:{message_id[:150]}" if message_id else f"evt:{digest}")


def test_a_stored_dedupe_key_is_unchanged() -> None:
    # Keys already in inboxes must keep matching WeCom's retries of the same events.
    root = parse_xml(load_fixture("add_external_contact__with_state"))
    assert (
        dedupe_key(root)
        == "evt:"
        + hashlib.sha256(
            json.dumps(
                sorted((f"{child.tag}[0]", (child.text or "").strip()) for child in root), ensure_ascii=False
            ).encode()
        ).hexdigest()
    )


@pytest.mark.parametrize(
    "text",
    [
        *(load_fixture(name) for name in fixture_names()),
        "<xml><MsgType>event</MsgType></xml>",
        "<xml><CreateTime>soon</CreateTime><MsgType>event</MsgType></xml>",
        "<xml><CreateTime>1</CreateTime></xml>",
        "<xml><TimeStamp>1</TimeStamp><InfoType>x</InfoType></xml>",
        "<xml><CreateTime>1</CreateTime><MsgType>event</MsgType><JoinScene>x</JoinScene></xml>",
    ],
)
def test_check_callback_refuses_exactly_what_callback_from_element_refuses(text: str) -> None:
    root = parse_xml(text)
    try:
        callback_from_element(root)
    except PayloadError:
        with pytest.raises(PayloadError):
            check_callback(root)
    else:
        check_callback(root)
