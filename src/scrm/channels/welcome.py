"""Welcome messages (欢迎语) of channel codes: variant choice, placeholders, WeCom's limits. Pure.

A code's welcome is a default text with up to 9 attachments (image, link, mini-program) and ordered
variants. The first variant whose conditions all hold at the add's local time (the code's time zone)
is used; none matching means the default. A variant's conditions:

- `days`: ISO weekdays (1 Monday .. 7 Sunday); empty means every day;
- `start`/`end`: a local time range, `[start, end)`; overnight ranges ("21:00"-"02:00") count after
  midnight for the day they started on (see `scrm.channels.calendar`);
- `from_date`/`to_date`: a local date range, both ends included (either may be open).

A variant's `text` and `attachments` replace the default's when given (None inherits the default).
Seed 000's example: a 06:00-10:30 variant with the breakfast offer and a 21:00-02:00 one with the
late-night offer, the default for the rest of the day.

Placeholders `{customer_name}`, `{staff_name}`, `{channel_name}` are replaced by plain substitution
(never `str.format`, so no attribute access); `{{` and `}}` write braces. An unknown name, a format
spec or a conversion is a validation error when the code is saved. A name we do not know yet (a
customer whose profile has not been fetched) becomes the empty string.

Sending, retries and the 20-second validity of the welcome code are the handler's business
(`scrm.channels.handlers`); this module only decides what is sent.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from scrm.channels.calendar import TimeRange, WeeklyWindow

WELCOME_PLACEHOLDERS = ("customer_name", "staff_name", "channel_name")
REMARK_PLACEHOLDERS = ("customer_name", "staff_name", "channel_name", "store", "region", "date")
MAX_ATTACHMENTS = 9
MAX_TEXT_BYTES = 4000
#: WeCom's byte limits per attachment field (platform-protocols.md §3.5).
FIELD_BYTE_LIMITS = {
    ("link", "title"): 128,
    ("link", "desc"): 512,
    ("miniprogram", "title"): 64,
}
REQUIRED_FIELDS = {
    "image": (),  # media_id or pic_url, checked below
    "link": ("title", "url"),
    "miniprogram": ("title", "appid", "page", "pic_media_id"),
}


@dataclass(frozen=True)
class Variant:
    name: str
    days: frozenset[int] = frozenset()
    time_range: TimeRange | None = None
    from_date: date | None = None
    to_date: date | None = None
    text: str | None = None
    attachments: tuple[Mapping[str, Any], ...] | None = None

    def matches(self, local: datetime) -> bool:
        if self.from_date is not None and local.date() < self.from_date:
            return False
        if self.to_date is not None and local.date() > self.to_date:
            return False
        if self.time_range is None:
            return not self.days or local.isoweekday() in self.days
        window = WeeklyWindow(days=self.days or frozenset(range(1, 8)), ranges=(self.time_range,))
        return window.contains(local)


@dataclass(frozen=True)
class WelcomeConfig:
    text: str = ""
    attachments: tuple[Mapping[str, Any], ...] = ()
    variants: tuple[Variant, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class WelcomeMessage:
    variant: str | None  # None: the default
    text: str
    attachments: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.attachments


def choose(config: WelcomeConfig, local: datetime) -> tuple[str | None, str, tuple[Mapping[str, Any], ...]]:
    """(variant name or None, text template, attachments) for an add at local time `local`."""
    for variant in config.variants:
        if variant.matches(local):
            text = config.text if variant.text is None else variant.text
            attachments = config.attachments if variant.attachments is None else variant.attachments
            return variant.name, text, attachments
    return None, config.text, config.attachments


def render(template: str, values: Mapping[str, str | None]) -> str:
    """`template` with `{name}` replaced by `values[name]` (missing or None: empty). Unknown names are
    kept literally; `template_errors` rejects them before anything is stored."""
    parts: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        if name in values and not spec and conversion is None:
            parts.append(values[name] or "")
        else:
            parts.append(
                "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            )
    return "".join(parts)


def template_errors(template: str, allowed: Sequence[str]) -> list[str]:
    """Why `template` is not acceptable (empty list: fine)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return [f"unbalanced braces: {error}"]
    errors = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            errors.append(f"unknown placeholder {{{name}}}; use " + ", ".join(f"{{{a}}}" for a in allowed))
        elif spec or conversion:
            errors.append(f"placeholder {{{name}}} takes no format spec or conversion")
    return errors


def message_for(config: WelcomeConfig, local: datetime, values: Mapping[str, str | None]) -> WelcomeMessage:
    """The message to send for an add at local time `local`, placeholders filled."""
    variant, template, attachments = choose(config, local)
    return WelcomeMessage(variant=variant, text=render(template, values), attachments=tuple(attachments))


def attachment_errors(attachment: Mapping[str, Any]) -> list[str]:
    """Why one attachment (`{"msgtype": "image"|"link"|"miniprogram", "<msgtype>": {...}}`, WeCom's
    shape) would be refused by WeCom."""
    kind = attachment.get("msgtype")
    if kind not in REQUIRED_FIELDS:
        return ["msgtype must be image, link or miniprogram"]
    body = attachment.get(kind)
    if not isinstance(body, Mapping):
        return [f"{kind} must be an object"]
    errors = [f"{kind}.{name} is required" for name in REQUIRED_FIELDS[kind] if not body.get(name)]
    if kind == "image" and not (body.get("media_id") or body.get("pic_url")):
        errors.append("image needs media_id or pic_url")
    for (limit_kind, name), limit in FIELD_BYTE_LIMITS.items():
        if limit_kind == kind and len(str(body.get(name) or "").encode()) > limit:
            errors.append(f"{kind}.{name} is longer than {limit} bytes")
    return errors


def text_errors(text: str) -> list[str]:
    """WeCom takes at most 4000 bytes of text; placeholders may add a little, so keep a margin."""
    if len(text.encode()) > MAX_TEXT_BYTES - 200:
        return [f"text is longer than {MAX_TEXT_BYTES - 200} bytes (WeCom's limit is {MAX_TEXT_BYTES})"]
    return []


def fit_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes without splitting a character."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode(errors="ignore")


def fit_chars(text: str, limit: int) -> str:
    """WeCom counts remark lengths in characters (remark ≤20, description ≤150)."""
    return text[:limit]
