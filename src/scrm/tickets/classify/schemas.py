"""API shapes of ticket classification: rules, settings, model versions, trainings, corrections and
tickets from chat messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from scrm.tickets.schemas import Priority, TicketOut

MAX_PHRASES = 50
MAX_MESSAGE_CHARS = 5000


class MatchMode(StrEnum):
    ANY = "any"
    ALL = "all"


class RuleIn(BaseModel):
    """`phrases`: any (or all) must occur; `category`: set it; `priority`: raise to at least it;
    `urgent`: raise to urgent; `creates_ticket_from_chat`: a chat message it matches opens a ticket."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    phrases: list[str] = Field(min_length=1, max_length=MAX_PHRASES)
    match_mode: MatchMode = MatchMode.ANY
    category: str | None = Field(default=None, max_length=64)
    priority: Priority | None = None
    urgent: bool = False
    creates_ticket_from_chat: bool = False
    enabled: bool = True
    position: int = Field(default=0, ge=0, le=10_000)

    @field_validator("phrases")
    @classmethod
    def _clean_phrases(cls, phrases: list[str]) -> list[str]:
        cleaned: list[str] = []
        for phrase in phrases:
            phrase = " ".join(phrase.split())
            if not phrase:
                raise ValueError("a phrase must not be blank")
            if len(phrase) > 50:
                raise ValueError("a phrase has at most 50 characters")
            if phrase not in cleaned:
                cleaned.append(phrase)
        return cleaned

    @field_validator("category")
    @classmethod
    def _blank_category_is_none(cls, category: str | None) -> str | None:
        return category.strip() or None if category is not None else None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phrases: list[str]
    match_mode: str
    category: str | None
    priority: str | None
    urgent: bool
    creates_ticket_from_chat: bool
    enabled: bool
    position: int
    created_at: datetime
    updated_at: datetime


class RuleTestIn(BaseModel):
    """Try the tenant's rules (or the given, unsaved ones) on a text."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class MatchedRuleOut(BaseModel):
    rule_id: int
    name: str
    phrases: list[str]
    reason: str


class RuleTestOut(BaseModel):
    matched_rules: list[MatchedRuleOut]
    category: str | None
    priority: str | None
    urgent: bool
    creates_ticket_from_chat: bool
    # What the active model says (None without a model).
    model_category: str | None
    model_confidence: float | None


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    triage_threshold: float = Field(ge=0.0, le=1.0)
    urgency_threshold: float = Field(ge=0.5, le=1.0)


class SettingsOut(BaseModel):
    triage_threshold: float
    urgency_threshold: float


class ModelOut(BaseModel):
    """A trained version; `accuracy`/`macro_f1` on the held-out part, beside the majority baseline."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    active: bool
    source: str
    labels: list[str]
    vocabulary_size: int
    sample_count: int
    held_out_count: int
    accuracy: float | None
    macro_f1: float | None
    baseline_accuracy: float | None
    urgency_accuracy: float | None
    training_seconds: float
    job_id: int | None
    trained_by: str
    trained_at: datetime


class TrainingSource(StrEnum):
    # The tenant's resolved and closed tickets plus agents' corrections.
    TICKETS = "tickets"
    # The bundled seed dataset's training part (a starter model).
    SEED = "seed"


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: TrainingSource = TrainingSource.TICKETS


class TrainingOut(BaseModel):
    """A training run (a durable job): poll `GET .../trainings/{id}` until `status` is finished."""

    id: int
    status: str
    source: str
    progress_done: int
    progress_total: int | None
    percent: float | None
    message: str | None
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    model: ModelOut | None = None


class CorrectionIn(BaseModel):
    """An agent's category (the same as predicted: a confirmation) and, optionally, priority."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=64)
    priority: Priority | None = None

    @field_validator("category")
    @classmethod
    def _not_blank(cls, category: str) -> str:
        if not category.strip():
            raise ValueError("the category must not be blank")
        return category.strip()


class CorrectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    predicted_category: str | None
    predicted_by: str
    predicted_confidence: float | None
    corrected_category: str
    previous_priority: str
    corrected_priority: str | None
    by_label: str
    created_at: datetime


class FromMessageIn(BaseModel):
    """A customer's chat message; `message_id` is the chat's id for it (a repeat gives the same ticket)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int
    message_id: str = Field(min_length=1, max_length=90, pattern=r"^[A-Za-z0-9_.:@\-]+$")
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    sent_at: AwareDatetime | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the message text must not be blank")
        return text.strip()


class FromMessageOut(BaseModel):
    ticket: TicketOut | None
    matched_rules: list[MatchedRuleOut]
