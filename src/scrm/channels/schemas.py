"""API shapes of channel codes, code groups, presence, problems and analytics."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from scrm.channels.calendar import parse_clock, zone
from scrm.channels.routing import Strategy
from scrm.channels.welcome import (
    MAX_ATTACHMENTS,
    REMARK_PLACEHOLDERS,
    WELCOME_PLACEHOLDERS,
    attachment_errors,
    template_errors,
    text_errors,
)

STATE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,30}$")
MAX_STAFF = 100  # WeCom: at most 100 users on a contact way (41041)


def _clock(value: str) -> str:
    parse_clock(value)
    return value


Clock = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["09:00"])]


class WindowIn(BaseModel):
    """Weekly hours: ISO weekdays (1 Monday .. 7 Sunday; empty: every day) and a local time range
    `[start, end)`; `end` before `start` runs overnight, "24:00" is the end of the day."""

    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=list)
    start: Clock
    end: Clock

    @field_validator("start", "end")
    @classmethod
    def _valid_clock(cls, value: str) -> str:
        return _clock(value)


class RangeIn(BaseModel):
    start: Clock
    end: Clock

    @field_validator("start", "end")
    @classmethod
    def _valid_clock(cls, value: str) -> str:
        return _clock(value)

    @model_validator(mode="after")
    def _within_day(self) -> RangeIn:
        if self.end != "24:00" and parse_clock(self.end) <= parse_clock(self.start):
            raise ValueError("a special date's hours stay within the day: end after start")
        return self


class SpecialDateIn(BaseModel):
    """A date with its own hours (no hours: closed), for everyone or the listed members."""

    date: date
    hours: list[RangeIn] = Field(default_factory=list)
    userids: list[str] = Field(default_factory=list)


class StaffEntryIn(BaseModel):
    userid: str = Field(min_length=1, max_length=64)
    weight: int = Field(default=1, ge=1, le=100)
    daily_cap: int | None = Field(default=None, ge=1, le=100_000)
    backup: bool = False
    store: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    schedule: list[WindowIn] | None = Field(default=None, max_length=50)


def _staff_entry(value: Any) -> Any:
    return {"userid": value} if isinstance(value, str) else value


StaffItem = Annotated[StaffEntryIn, BeforeValidator(_staff_entry)]


class RoutingIn(BaseModel):
    strategy: Strategy = Strategy.ROUND_ROBIN
    timezone: str = "Asia/Shanghai"
    schedule: list[WindowIn] | None = Field(default=None, max_length=50)
    special_dates: list[SpecialDateIn] = Field(default_factory=list, max_length=400)
    match_location: bool = False
    sticky: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value


class VariantIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=list)
    start: Clock | None = None
    end: Clock | None = None
    from_date: date | None = None
    to_date: date | None = None
    text: str | None = None
    attachments: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_ATTACHMENTS)

    @model_validator(mode="after")
    def _check(self) -> VariantIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        for value in (self.start, self.end):
            if value is not None:
                _clock(value)
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise ValueError("to_date is before from_date")
        return self

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            problems = template_errors(value, WELCOME_PLACEHOLDERS) + text_errors(value)
            if problems:
                raise ValueError("; ".join(problems))
        return value

    @field_validator("attachments")
    @classmethod
    def _attachments(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for index, attachment in enumerate(value or []):
            problems = attachment_errors(attachment)
            if problems:
                raise ValueError(f"attachment {index}: " + "; ".join(problems))
        return value


class WelcomeIn(BaseModel):
    """The welcome message: text with `{customer_name}`, `{staff_name}`, `{channel_name}`, up to 9
    attachments in WeCom's shape (`{"msgtype": "link", "link": {"title", "url", ...}}`), and variants
    tried in order (the first matching the add's local time wins)."""

    enabled: bool = True
    text: str = ""
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    variants: list[VariantIn] = Field(default_factory=list, max_length=20)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        problems = template_errors(value, WELCOME_PLACEHOLDERS) + text_errors(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("attachments")
    @classmethod
    def _attachments(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, attachment in enumerate(value):
            problems = attachment_errors(attachment)
            if problems:
                raise ValueError(f"attachment {index}: " + "; ".join(problems))
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> WelcomeIn:
        names = [variant.name for variant in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must differ")
        return self


def _remark_template(value: str | None) -> str | None:
    if value is not None:
        problems = template_errors(value, REMARK_PLACEHOLDERS)
        if problems:
            raise ValueError("; ".join(problems))
    return value


class _CodeFields(BaseModel):
    """Fields shared by create and update (all optional here)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    staff: list[StaffItem] | None = Field(default=None, min_length=1, max_length=MAX_STAFF)
    routing: RoutingIn | None = None
    tags: list[int | str] | None = Field(default=None, max_length=50)
    welcome: WelcomeIn | None = None
    group_id: int | None = None
    store: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    skip_verify: bool | None = None
    skip_verify_windows: list[WindowIn] | None = Field(default=None, max_length=50)
    remark_template: str | None = Field(default=None, max_length=100)
    description_template: str | None = Field(default=None, max_length=300)

    @field_validator("remark_template", "description_template")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        return _remark_template(value)

    @field_validator("staff")
    @classmethod
    def _distinct_staff(cls, value: list[StaffEntryIn] | None) -> list[StaffEntryIn] | None:
        if value is not None:
            userids = [entry.userid for entry in value]
            if len(set(userids)) != len(userids):
                raise ValueError("a member is listed twice")
        return value


class ChannelCreate(_CodeFields):
    connection_id: int
    name: str = Field(min_length=1, max_length=100)
    staff: list[StaffItem] = Field(min_length=1, max_length=MAX_STAFF)
    routing: RoutingIn = Field(default_factory=RoutingIn)
    tags: list[int | str] = Field(default_factory=list, max_length=50)
    skip_verify: bool = True
    skip_verify_windows: list[WindowIn] = Field(default_factory=list, max_length=50)
    state: str | None = Field(
        default=None, description="≤30 of A-Z a-z 0-9 _ . -; generated when absent", examples=["store-sh-01"]
    )

    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is not None and not STATE_PATTERN.match(value):
            raise ValueError("1-30 characters among letters, digits, _ . -")
        return value


class ChannelUpdate(_CodeFields):
    """Only the fields given change. `status` switches a code between active and disabled."""

    status: str | None = Field(default=None, pattern="^(active|disabled)$")


class TagRef(BaseModel):
    id: int
    name: str
    wecom_tag_id: str | None


class StaffEntryOut(StaffEntryIn):
    name: str | None = None
    is_online: bool = True
    adds_today: int = 0


class WayOut(BaseModel):
    """The contact way as last pushed to WeCom."""

    users: list[str]
    skip_verify: bool | None
    synced_at: datetime | None
    error: str | None


class ProblemSummary(BaseModel):
    total: int
    by_kind: dict[str, int]
    last_at: datetime | None


class ChannelOut(BaseModel):
    id: int
    connection_id: int
    name: str
    description: str | None
    status: str
    state: str
    config_id: str | None
    qr_url: str | None
    qr_png_url: str
    qr_svg_url: str
    group_id: int | None
    store: str | None
    region: str | None
    staff: list[StaffEntryOut]
    routing: RoutingIn
    tags: list[TagRef]
    welcome: WelcomeIn | None
    skip_verify: bool
    skip_verify_windows: list[WindowIn]
    remark_template: str | None
    description_template: str | None
    way: WayOut
    adds_today: int
    adds_total: int
    problems: ProblemSummary
    created_at: datetime
    updated_at: datetime


class GroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class GroupUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class GroupOut(BaseModel):
    id: int
    name: str
    description: str | None
    code_count: int
    created_at: datetime


class PresenceIn(BaseModel):
    is_online: bool


class PresenceOut(BaseModel):
    connection_id: int
    userid: str
    name: str | None
    is_online: bool
    code_ids: list[int]
    changed_at: datetime | None


class ProblemOut(BaseModel):
    id: int
    code_id: int | None
    kind: str
    state: str | None
    message: str
    detail: dict[str, Any]
    occurred_at: datetime


class UnknownStateOut(BaseModel):
    connection_id: int
    state: str
    count: int
    last_seen_at: datetime


class DecisionOut(BaseModel):
    id: int
    decided_at: datetime
    trigger: str
    users: list[str]
    skip_verify: bool
    mode: str
    reason: str
    excluded: dict[str, str]
    is_pushed: bool
    error: str | None


class AddOut(BaseModel):
    id: int
    code_id: int
    staff_userid: str
    staff_name: str | None
    external_userid: str
    customer_id: int | None
    store: str | None
    region: str | None
    occurred_at: datetime
    local_day: str
    is_returning: bool
    is_half: bool
    was_listed: bool
    #: Sticky routing: the previous guide this returning customer was handed back to.
    routed_to: str | None
    #: Whether the member had already reached their daily cap on this code before this add
    #: (an add that raced the way's update), counted from rows.
    over_cap: bool


class WelcomeResultOut(BaseModel):
    id: int
    code_id: int
    customer_id: int | None
    staff_userid: str
    variant: str | None
    status: str
    attempts: int
    text: str | None
    error: str | None
    created_at: datetime


# --- analytics -------------------------------------------------------------------------------------


class CodeStats(BaseModel):
    code_id: int
    name: str
    store: str | None
    region: str | None
    adds: int
    returning: int
    deletions_by_staff: int
    deletions_by_customer: int
    net: int


class StoreStats(BaseModel):
    store: str | None
    region: str | None
    adds: int
    deletions: int
    net: int


class SummaryOut(BaseModel):
    from_day: str
    to_day: str
    codes: list[CodeStats]
    stores: list[StoreStats]
    adds: int
    deletions: int
    net: int


class SeriesPoint(BaseModel):
    key: str  # "2026-11-23", or "2026-11-23 14" by hour
    adds: int
    deletions: int
    net: int


class SeriesOut(BaseModel):
    bucket: str
    points: list[SeriesPoint]


class StaffStats(BaseModel):
    staff_userid: str
    name: str | None
    adds: int
    returning: int
    deletions: int
    net: int


class LiveScan(BaseModel):
    id: int
    code_id: int
    code_name: str
    store: str | None
    region: str | None
    staff_userid: str
    occurred_at: datetime
    is_returning: bool


class LiveStore(BaseModel):
    store: str | None
    adds_last_minute: int
    adds_today: int


class LiveOut(BaseModel):
    items: list[LiveScan]
    cursor: int
    stores: list[LiveStore]
    server_time: datetime
