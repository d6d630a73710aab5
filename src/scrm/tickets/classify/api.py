"""HTTP endpoints of ticket classification: rules, settings, model versions and trainings, corrections
(the triage queue's answers) and tickets from chat messages.

Paths sit under `/api/v1/tickets/classifier/...` (two segments: `/api/v1/tickets/{ticket_id}` would
otherwise take a one-segment GET), plus `/api/v1/tickets/from-message` and
`/api/v1/tickets/{ticket_id}/classification`."""

from __future__ import annotations

from fastapi import APIRouter, status

from scrm.identity.deps import CurrentActor, DbSession
from scrm.tickets.classify import service
from scrm.tickets.classify.schemas import (
    CorrectionIn,
    CorrectionOut,
    FromMessageIn,
    FromMessageOut,
    ModelOut,
    RuleIn,
    RuleOut,
    RuleTestIn,
    RuleTestOut,
    SettingsIn,
    SettingsOut,
    TrainingIn,
    TrainingOut,
)
from scrm.tickets.schemas import TicketOut

router = APIRouter(prefix="/api/v1/tickets", tags=["ticket classification"])


@router.get("/classifier/rules", response_model=list[RuleOut])
def list_rules(actor: CurrentActor, session: DbSession) -> list[RuleOut]:
    return service.list_rules(session, actor=actor)


@router.post("/classifier/rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
def create_rule(data: RuleIn, actor: CurrentActor, session: DbSession) -> RuleOut:
    return service.save_rule(session, actor=actor, data=data)


@router.put("/classifier/rules/{rule_id}", response_model=RuleOut)
def replace_rule(rule_id: int, data: RuleIn, actor: CurrentActor, session: DbSession) -> RuleOut:
    return service.save_rule(session, actor=actor, data=data, rule_id=rule_id)


@router.delete("/classifier/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_rule(session, actor=actor, rule_id=rule_id)


@router.post("/classifier/test", response_model=RuleTestOut)
def test_text(data: RuleTestIn, actor: CurrentActor, session: DbSession) -> RuleTestOut:
    """What the rules and the active model make of a text (changes nothing)."""
    return service.test_rules(session, actor=actor, data=data)


@router.get("/classifier/settings", response_model=SettingsOut)
def get_settings(actor: CurrentActor, session: DbSession) -> SettingsOut:
    return service.get_settings(session, actor=actor)


@router.put("/classifier/settings", response_model=SettingsOut)
def save_settings(data: SettingsIn, actor: CurrentActor, session: DbSession) -> SettingsOut:
    return service.save_settings(session, actor=actor, data=data)


@router.get("/classifier/models", response_model=list[ModelOut])
def list_models(actor: CurrentActor, session: DbSession) -> list[ModelOut]:
    """Model versions, newest first, with held-out accuracy beside the majority baseline."""
    return service.list_models(session, actor=actor)


@router.post("/classifier/trainings", response_model=TrainingOut, status_code=status.HTTP_202_ACCEPTED)
def start_training(actor: CurrentActor, session: DbSession, data: TrainingIn | None = None) -> TrainingOut:
    """Start a training in the worker; poll `GET /api/v1/tickets/classifier/trainings/{id}`."""
    return service.start_training(session, actor=actor, data=data or TrainingIn())


@router.get("/classifier/trainings", response_model=list[TrainingOut])
def list_trainings(actor: CurrentActor, session: DbSession) -> list[TrainingOut]:
    return service.list_trainings(session, actor=actor)


@router.get("/classifier/trainings/{training_id}", response_model=TrainingOut)
def get_training(training_id: int, actor: CurrentActor, session: DbSession) -> TrainingOut:
    return service.get_training(session, actor=actor, training_id=training_id)


@router.post("/from-message", response_model=FromMessageOut)
def create_from_message(data: FromMessageIn, actor: CurrentActor, session: DbSession) -> FromMessageOut:
    """A chat message opens a ticket when a rule marked `creates_ticket_from_chat` matches it (the
    same `message_id` again answers the same ticket); otherwise `{ticket: null, matched_rules: []}`."""
    return service.create_from_message(session, actor=actor, data=data)


@router.post("/{ticket_id}/classification", response_model=TicketOut)
def correct_classification(
    ticket_id: int, data: CorrectionIn, actor: CurrentActor, session: DbSession
) -> TicketOut:
    """Confirm or correct the ticket's category (and priority); it leaves the triage queue."""
    return service.correct_classification(session, actor=actor, ticket_id=ticket_id, data=data)


@router.get("/{ticket_id}/classification/corrections", response_model=list[CorrectionOut])
def list_corrections(ticket_id: int, actor: CurrentActor, session: DbSession) -> list[CorrectionOut]:
    return service.list_corrections(session, actor=actor, ticket_id=ticket_id)
