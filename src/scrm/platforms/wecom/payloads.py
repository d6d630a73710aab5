"""WeCom callback plaintexts (接收消息与事件): safe XML parsing, the typed `WeComCallback`, and the
inbox dedupe key.

Everything here is pure. The XML comes from the network, so no DTD is ever processed (a WeCom payload
never carries one): entity expansion ("billion laughs"), external entities (XXE) and external DTDs all
fail as `PayloadError` before anything is expanded or fetched.

Two parsers give the same tree (the test suite compares them on every fixture), for different inputs:

- defusedxml, which refuses any DTD while parsing. It has to use ElementTree's pure-Python parser,
  which costs two to three times as much as the C one.
- the C parser of `xml.etree.ElementTree`, but only for a document that provably contains no DTD:
  it starts with its root element (`<xml`: no XML declaration, so no encoding but UTF-8, and no
  prolog, the only place a DTD may stand) and every `<!` in it opens a CDATA section or a comment
  (a DTD and every declaration inside one start with `<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`...). The
  scan skips each CDATA section to its first `]]>` and each comment to its first `-->`, exactly where
  the parser ends them, so markup cannot hide inside what the scan skips. Without a DTD nothing can
  declare an entity: the parser knows only the five predefined ones and character references, and
  refuses any other reference as undefined. That is what defusedxml's checks guard against, so for
  such a document they have nothing left to refuse. This is every WeCom envelope and plaintext.

Anything else (a declaration, a BOM, leading space, any other `<!` markup) goes to defusedxml.
"""

from __future__ import annotations

import hashlib
from json.encoder import encode_basestring
from typing import Any, AnyStr
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeElementTree
from pydantic import BaseModel, ConfigDict, Field

# Plaintexts are small (a few hundred bytes); the HTTP body limit bounds the ciphertext already.
MAX_PLAINTEXT_CHARS = 1024 * 1024

# XML element -> attribute, for the fields typed on `WeComCallback` (doc path 92130, 96361, 92277,
# 90970 for the address book, 90239 for messages). Everything else stays in `fields`.
_TEXT_FIELDS = {
    "ToUserName": "to_user_name",
    "FromUserName": "from_user_name",
    "MsgType": "msg_type",
    "Event": "event",
    "ChangeType": "change_type",
    "AgentID": "agent_id",
    "SuiteId": "suite_id",
    "AuthCorpId": "auth_corp_id",
    "InfoType": "info_type",
    "UserID": "user_id",
    "ExternalUserID": "external_user_id",
    "State": "state",
    "WelcomeCode": "welcome_code",
    "Source": "source",
    "FailReason": "fail_reason",
    "ChatId": "chat_id",
    "UpdateDetail": "update_detail",
    "LastMemVer": "last_mem_ver",
    "CurMemVer": "cur_mem_ver",
    "Id": "id",
    "TagType": "tag_type",
    "NewUserID": "new_user_id",
    "TagId": "tag_id",
    "MsgId": "msg_id",
    "Content": "content",
}
_INT_FIELDS = {
    "CreateTime": "create_time",
    "TimeStamp": "timestamp",
    "JoinScene": "join_scene",
    "QuitScene": "quit_scene",
    "MemChangeCnt": "mem_change_cnt",
    "StrategyId": "strategy_id",
}
# Elements whose <Item> children form a list.
_LIST_FIELDS = {"MemChangeList": "mem_change_list"}


class PayloadError(ValueError):
    """The plaintext is not a WeCom callback we can read (malformed, hostile, or missing basics)."""


class WeComCallback(BaseModel):
    """One decrypted WeCom callback. `fields` holds every leaf element's text by tag (typed ones too)
    so mappings can read fields this model does not name (address-book attributes, message media)."""

    model_config = ConfigDict(frozen=True)

    to_user_name: str | None = None
    from_user_name: str | None = None
    create_time: int
    msg_type: str | None = None
    event: str | None = None
    change_type: str | None = None
    agent_id: str | None = None
    # Third-party (suite) callbacks carry these instead of ToUserName/CreateTime/MsgType.
    suite_id: str | None = None
    auth_corp_id: str | None = None
    info_type: str | None = None
    timestamp: int | None = None
    # change_external_contact
    user_id: str | None = None
    external_user_id: str | None = None
    state: str | None = None
    welcome_code: str | None = None
    source: str | None = None
    fail_reason: str | None = None
    # change_external_chat
    chat_id: str | None = None
    update_detail: str | None = None
    join_scene: int | None = None
    quit_scene: int | None = None
    mem_change_cnt: int | None = None
    mem_change_list: list[str] = Field(default_factory=list)
    last_mem_ver: str | None = None
    cur_mem_ver: str | None = None
    # change_external_tag
    id: str | None = None
    tag_type: str | None = None
    strategy_id: int | None = None
    # change_contact (address book)
    new_user_id: str | None = None
    tag_id: str | None = None
    # messages
    msg_id: str | None = None
    content: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)

    @property
    def corp_id(self) -> str | None:
        return self.to_user_name or self.auth_corp_id


def _declares_nothing(text: str | bytes) -> bool:
    """True if `text` cannot carry a DTD: it starts with `<xml` and every `<!` in it opens a CDATA
    section or a comment (see the module docstring). Works on str and on (UTF-8) bytes alike."""
    if isinstance(text, bytes):
        return text.startswith(b"<xml") and _only_sections(text, b"<!", b"<![CDATA[", b"]]>", b"<!--", b"-->")
    return text.startswith("<xml") and _only_sections(text, "<!", "<![CDATA[", "]]>", "<!--", "-->")


def _only_sections(
    text: AnyStr, markup: AnyStr, cdata: AnyStr, cdata_end: AnyStr, comment: AnyStr, comment_end: AnyStr
) -> bool:
    position = text.find(markup)
    while position != -1:
        if text.startswith(cdata, position):
            end = text.find(cdata_end, position + len(cdata))
            length = len(cdata_end)
        elif text.startswith(comment, position):
            end = text.find(comment_end, position + len(comment))
            length = len(comment_end)
        else:
            return False
        if end == -1:
            return False  # unterminated: malformed, and defusedxml says so as before
        position = text.find(markup, end + length)
    return True


def parse_xml(text: str | bytes) -> Element:
    """The root element of `text`; PayloadError for malformed or hostile XML (any DTD is refused)."""
    if len(text) > MAX_PLAINTEXT_CHARS:
        raise PayloadError("XML is too large")
    try:
        if _declares_nothing(text):
            root: Element = ElementTree.fromstring(text)
        else:
            root = SafeElementTree.fromstring(text, forbid_dtd=True)
    except Exception as error:  # ParseError, DefusedXmlException, bad encodings: all "not readable"
        raise PayloadError(f"unreadable XML: {type(error).__name__}") from None
    if root.tag != "xml":
        raise PayloadError(f"root element is <{root.tag}>, expected <xml>")
    return root


def _int(tag: str, value: str) -> int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise PayloadError(f"<{tag}> is not an integer") from None


def _callback_values(root: Element) -> dict[str, Any]:
    """`WeComCallback`'s arguments from a parsed plaintext; PayloadError when basics are missing or
    mistyped. Every check a callback must pass is here: the model itself cannot refuse these values."""
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _LIST_FIELDS:
            values[_LIST_FIELDS[child.tag]] = [
                (item.text or "").strip() for item in child if item.tag == "Item"
            ]
            continue
        if len(child):
            continue  # other nested structures (ExtAttr) stay in the raw payload
        text = child.text or ""
        if child.tag != "Content":
            text = text.strip()
        fields[child.tag] = text
        if child.tag in _TEXT_FIELDS:
            values[_TEXT_FIELDS[child.tag]] = text or None
        elif child.tag in _INT_FIELDS:
            values[_INT_FIELDS[child.tag]] = _int(child.tag, text)
    if values.get("create_time") is None:
        values["create_time"] = values.get("timestamp")
    if values.get("create_time") is None:
        raise PayloadError("neither <CreateTime> nor <TimeStamp> is present")
    if not (values.get("msg_type") or values.get("info_type")):
        raise PayloadError("neither <MsgType> nor <InfoType> is present")
    values["fields"] = fields
    return values


def check_callback(root: Element) -> None:
    """Raise PayloadError exactly when `callback_from_element` would, without building the model
    (the receiver refuses what the worker could not read, then stores the raw text)."""
    _callback_values(root)


def callback_from_element(root: Element) -> WeComCallback:
    """The typed callback of a parsed plaintext; PayloadError when basics are missing or mistyped."""
    return WeComCallback(**_callback_values(root))


def parse_callback(text: str) -> WeComCallback:
    return callback_from_element(parse_xml(text))


def _canonical_items(element: Element, prefix: str, out: list[tuple[str, str]]) -> None:
    seen: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        index = seen.get(child.tag, 0)
        seen[child.tag] = index + 1
        path = f"{prefix}{child.tag}[{index}]"
        if len(child):
            _canonical_items(child, path + "/", out)
        else:
            out.append((path, (child.text or "").strip()))


def dedupe_key(root: Element) -> str:
    """The inbox dedupe key of a callback plaintext.

    - A message carrying `MsgId` is keyed ``msg:<MsgId>``: WeCom's own rule, unique per app.
    - Any other callback (events) is keyed ``evt:<sha256>`` over its whole canonicalised field set:
      every element's path (with a sibling index, so list order counts) and stripped text, sorted and
      JSON-encoded. WeCom's retries re-send the same plaintext (only the envelope's ciphertext,
      timestamp, nonce and signature change), so a retry maps to the same key. Two different events
      differ in at least one field (another ExternalUserID or WelcomeCode for two customers added to
      one staff member in the same second; another UpdateDetail or member list for group changes),
      so they get different keys. Hashing every field rather than a chosen tuple like (ChangeType,
      UserID, ExternalUserID, CreateTime) means no event type can collide through a field the tuple
      forgot; canonicalising (rather than hashing raw bytes) keeps formatting (CDATA or not, spacing,
      element order) out of the key. Two byte-identical events are indistinguishable and stored once.
    """
    message_id = root.findtext("MsgId")
    if message_id and message_id.strip():
        return f"msg:{message_id.strip()[:150]}"
    items: list[tuple[str, str]] = []
    _canonical_items(root, "", items)
    digest = hashlib.sha256(_json_pairs(sorted(items)).encode()).hexdigest()
    return f"evt:{digest}"


def _json_pairs(pairs: list[tuple[str, str]]) -> str:
    """``json.dumps(pairs, ensure_ascii=False)``, character for character (the test suite checks it),
    at half the cost: `json.dumps` builds an encoder per call. Stored keys depend on this text."""
    return (
        "["
        + ", ".join(f"[{encode_basestring(path)}, {encode_basestring(text)}]" for path, text in pairs)
        + "]"
    )
