"""API shapes of the tickets domain (so far: business calendars, SLA policies, the deadline preview)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# A year of business minutes is far beyond any service target; larger values are typos.
MAX_TARGET_MINUTES = 525_600

Interval = list[str]


class CalendarIn(BaseModel):
    """`weekly`: working intervals per weekday, e.g. {"mon": [["09:00","12:00"],["13:30","18:00"]]};
    `holidays` and `extra_workdays` (调休上班) as YYYY-MM-DD; an extra working day has
    `makeup_intervals`, or Monday's."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    weekly: dict[str, list[Interval]]
    holidays: list[str] = Field(default_factory=list, max_length=1000)
    extra_workdays: list[str] = Field(default_factory=list, max_length=1000)
    makeup_intervals: list[Interval] | None = None


class CalendarOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    weekly: dict[str, list[Interval]]
    holidays: list[str]
    extra_workdays: list[str]
    makeup_intervals: list[Interval] | None
    created_at: datetime
    updated_at: datetime


class Targets(BaseModel):
    """Business minutes until each clock is due; None: no target."""

    model_config = ConfigDict(extra="forbid")

    first_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    next_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    resolution_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)


class EscalationRole(StrEnum):
    ASSIGNEE = "assignee"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"


class EscalationLevel(BaseModel):
    """What a level of escalation does, `after_minutes` business minutes after the breach (level 1:
    0, at the breach): notify people, raise the priority one step, reassign within the team."""

    model_config = ConfigDict(extra="forbid")

    after_minutes: int = Field(ge=0, le=MAX_TARGET_MINUTES)
    notify: list[EscalationRole] = Field(default_factory=list, max_length=3)
    raise_priority: bool = False
    reassign: bool = False


def default_escalation() -> list[EscalationLevel]:
    return [EscalationLevel(after_minutes=0, notify=[EscalationRole.ASSIGNEE])]


class SlaPolicyIn(BaseModel):
    """`escalation`: the levels that act when a clock breaches, the first at the breach, the others
    later in increasing business minutes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    calendar_id: int
    ticket_type: str | None = Field(default=None, max_length=64)
    targets: dict[Priority, Targets]
    warning_percent: int = Field(default=80, ge=1, le=99)
    escalation: list[EscalationLevel] = Field(default_factory=default_escalation, min_length=1, max_length=5)


class SlaPolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    calendar_id: int
    ticket_type: str | None
    targets: dict[Priority, Targets]
    warning_percent: int
    escalation: list[EscalationLevel]
    created_at: datetime
    updated_at: datetime


class DeadlinePreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    minutes: int = Field(ge=0, le=MAX_TARGET_MINUTES)


class DeadlinePreviewOut(BaseModel):
    due_at: datetime
    # The same instant in the calendar's time zone, for people.
    due_at_local: datetime
    timezone: str


class ClockAttainmentOut(BaseModel):
    """One SLA clock over the window's tickets that have a target for it."""

    met: int
    breached: int
    running: int
    # met / (met + breached); None before any clock has ended either way.
    attainment: float | None


class DayCountOut(BaseModel):
    day: str  # YYYY-MM-DD in the stats' time zone
    created: int
    resolved: int


class RegionCountOut(BaseModel):
    region: str
    count: int


class TicketStatsOut(BaseModel):
    """The SLA dashboard's figures. Counts are of the tickets created within the window (the last
    `days` local days, today included), except `breaching_soon` and `overdue` (every open ticket now)
    and `daily[].resolved` (tickets resolved on that day)."""

    days: int
    timezone: str
    since: datetime
    generated_at: datetime
    total: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_type: dict[str, int]
    by_category: dict[str, int]
    sla: dict[str, ClockAttainmentOut]
    # Open tickets with a running clock due within the next hour, and those already past due.
    breaching_soon: int
    overdue: int
    daily: list[DayCountOut]
    # Tickets per region (a province such as 广东省), most first; `no_region`: those without one.
    by_region: list[RegionCountOut]
    no_region: int


class TicketSource(StrEnum):
    CHAT = "chat"
    ORDER_ANOMALY = "order_anomaly"
    REFUND = "refund"
    FORM = "form"
    API = "api"
    MANUAL = "manual"


class Outcome(StrEnum):
    """What completing the ticket meant for the order (settlement reads it). `merged`: closed as a
    duplicate of another ticket (only by a merge; settlement treats it as no outcome)."""

    REFUND = "refund"
    RESEND = "resend"
    COMPENSATION = "compensation"
    NONE = "none"
    MERGED = "merged"


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    customer_id: int | None = None
    # The order (and one of its lines) the ticket is about; the order's buyer is the customer when
    # none is given.
    order_id: int | None = None
    order_line_id: int | None = None
    source: TicketSource = TicketSource.MANUAL
    ticket_type: str = Field(default="general", min_length=1, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    priority: Priority = Priority.NORMAL
    region: str | None = Field(default=None, max_length=50)
    custom: dict[str, Any] = Field(default_factory=dict)
    # Route to this team's queue (else the team serving the ticket's type and region).
    team_id: int | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome | None = None
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("outcome")
    @classmethod
    def _not_merged(cls, value: Outcome | None) -> Outcome | None:
        if value == Outcome.MERGED:
            raise ValueError("a ticket is merged only by POST /api/v1/tickets/{id}/merge")
        return value


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20_000)
    internal: bool = False
    # A message from the customer (recorded by staff, or brought in from chat): it starts a round of
    # the next-response clock, and a ticket waiting on the customer resumes.
    from_customer: bool = False


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    summary: str
    detail: dict[str, Any]
    actor: str
    occurred_at: datetime


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: str
    body: str
    internal: bool
    from_customer: bool
    created_at: datetime


class AttachmentOut(BaseModel):
    """`content_type` is what the content was sniffed to be; `url` downloads it (with the bearer)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    comment_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime
    url: str = ""


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    customer_id: int | None
    order_id: int | None
    order_line_id: int | None
    source: str
    ticket_type: str
    category: str | None
    # rule, model, agent or none; the model's calibrated confidence; waiting in the triage queue.
    classified_by: str = "none"
    classification_confidence: float | None = None
    needs_triage: bool = False
    priority: str
    status: str
    team_id: int | None
    assignee_id: int | None
    region: str | None
    queued_at: datetime | None
    required_skills: list[str]
    custom: dict[str, Any]
    # The form version `custom` follows (its labels: `TicketDetailOut.form`).
    form_version_id: int | None = None
    sla_policy_id: int | None
    due_first_response_at: datetime | None
    due_next_response_at: datetime | None
    due_resolution_at: datetime | None
    first_responded_at: datetime | None
    paused_at: datetime | None
    sla_marks: dict[str, str]
    resolved_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    # Set when the ticket was closed as a duplicate of that ticket.
    merged_into_id: int | None = None
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # The transitions the ticket accepts now.
    actions: list[str] = Field(default_factory=list)


class TicketFormOut(BaseModel):
    """The form version a ticket's custom fields follow: its JSON Schema and UI hints (labels)."""

    model_config = ConfigDict(populate_by_name=True)

    form_id: int
    version: int
    schema_: dict[str, Any] = Field(alias="schema")
    ui: dict[str, Any]


class TicketDetailOut(TicketOut):
    comments: list[CommentOut]
    timeline: list[TimelineEntryOut]
    form: TicketFormOut | None = None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class DuplicateOut(BaseModel):
    """A likely duplicate and why: `reasons` among `same_customer`, `same_order`, `same_type`,
    `created_within_14_days` (always); `hours_apart` between the two tickets' creation."""

    ticket: TicketOut
    reasons: list[str]
    hours_apart: float


class TicketMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into_ticket_id: int
    note: str | None = Field(default=None, max_length=2000)


class TicketMergeOut(BaseModel):
    """The closed duplicate (`source`) and the ticket it now lives on (`target`)."""

    source: TicketOut
    target: TicketOut


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class RatingLinkOut(BaseModel):
    """`token` goes in the public rating endpoints; `url` is the customer's page for it."""

    token: str
    url: str
    expires_at: datetime


class PublicRatingOut(BaseModel):
    """What the customer's rating page shows: no personal data, only the ticket's title and status."""

    title: str
    status: str
    rated: bool
    score: int | None
    expires_at: datetime
