"""Ticket classification's public functions: rules, settings, model versions and trainings, agents'
corrections (the triage queue's answers) and tickets from chat messages. Keyword-only, typed, never
commits; every function checks the actor's permission and stays in the actor's tenant.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import as_utc
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.jobs import Job, progress_percent, start_job
from scrm.core.tenancy import get_in_tenant, require_in_tenant, tenant_select
from scrm.customers.service import customer_names
from scrm.identity.audit import record_audit
from scrm.tickets import service as ticket_service
from scrm.tickets.classify import store
from scrm.tickets.classify.models import (
    ClassificationCorrection,
    ClassificationRule,
    ClassifierModel,
    ClassifierSettings,
)
from scrm.tickets.classify.rules import RuleHit, evaluate
from scrm.tickets.classify.schemas import (
    CorrectionIn,
    CorrectionOut,
    FromMessageIn,
    FromMessageOut,
    MatchedRuleOut,
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
from scrm.tickets.classify.tokens import features
from scrm.tickets.classify.training import JOB_KIND
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket
from scrm.tickets.named_rows import save_named_row
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import TicketIn, TicketOut, TicketSource
from scrm.tickets.sla import clocks
from scrm.tickets.timeline import record

TITLE_CHARS = 60

# --- rules ------------------------------------------------------------------------------------------


def list_rules(session: Session, *, actor: Actor) -> list[RuleOut]:
    actor.require(TicketPermission.VIEW)
    rows = session.scalars(
        tenant_select(ClassificationRule, actor.tenant_id).order_by(
            ClassificationRule.position, ClassificationRule.id
        )
    )
    return [RuleOut.model_validate(row) for row in rows]


def save_rule(session: Session, *, actor: Actor, data: RuleIn, rule_id: int | None = None) -> RuleOut:
    """Create a rule, or replace the one with `rule_id` (404 when absent); names are unique (409); a
    rule must do something (422)."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    if not (data.category or data.priority or data.urgent or data.creates_ticket_from_chat):
        raise ValidationFailed(
            "the rule does nothing",
            field_errors=[
                {
                    "field": "category",
                    "message": "set a category, a priority, urgent or creates_ticket_from_chat",
                }
            ],
        )
    row = save_named_row(
        session,
        actor=actor,
        model=ClassificationRule,
        row_id=rule_id,
        values=data.model_dump(mode="json"),
        audit="classification_rule",
    )
    return RuleOut.model_validate(row)


def delete_rule(session: Session, *, actor: Actor, rule_id: int) -> None:
    actor.require(TicketPermission.SETTINGS_MANAGE)
    row = require_in_tenant(session, ClassificationRule, actor.tenant_id, rule_id)
    session.delete(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="tickets.classification_rule_deleted",
        target_type="ticket_classification_rule",
        target_id=rule_id,
        detail={"name": row.name},
    )


def _matched(hits: Iterable[RuleHit]) -> list[MatchedRuleOut]:
    return [
        MatchedRuleOut(rule_id=hit.rule_id, name=hit.name, phrases=list(hit.phrases), reason=hit.reason)
        for hit in hits
    ]


def test_rules(session: Session, *, actor: Actor, data: RuleTestIn) -> RuleTestOut:
    """What the enabled rules, and the active model, make of `data.text` (changes nothing)."""
    actor.require(TicketPermission.VIEW)
    match = evaluate(data.text, store.load_rules(session, actor.tenant_id))
    model = store.active_model(session, actor.tenant_id)
    prediction = model.category.predict(features(data.text)) if model else None
    return RuleTestOut(
        matched_rules=_matched(match.hits),
        category=match.category,
        priority=match.priority,
        urgent=match.urgent,
        creates_ticket_from_chat=match.creates_ticket,
        model_category=prediction.label if prediction else None,
        model_confidence=prediction.confidence if prediction else None,
    )


# --- settings, models, trainings --------------------------------------------------------------------


def get_settings(session: Session, *, actor: Actor) -> SettingsOut:
    actor.require(TicketPermission.VIEW)
    limits = store.thresholds(session, actor.tenant_id)
    return SettingsOut(triage_threshold=limits.triage, urgency_threshold=limits.urgency)


def save_settings(session: Session, *, actor: Actor, data: SettingsIn) -> SettingsOut:
    actor.require(TicketPermission.SETTINGS_MANAGE)
    row = session.scalars(
        tenant_select(ClassifierSettings, actor.tenant_id)
    ).one_or_none() or ClassifierSettings(tenant_id=actor.tenant_id)
    row.triage_threshold, row.urgency_threshold = data.triage_threshold, data.urgency_threshold
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="tickets.classifier_settings_changed",
        target_type="ticket_classifier_settings",
        target_id=row.id,
        detail=data.model_dump(),
    )
    return SettingsOut(triage_threshold=row.triage_threshold, urgency_threshold=row.urgency_threshold)


def list_models(session: Session, *, actor: Actor) -> list[ModelOut]:
    """The tenant's model versions, newest first."""
    actor.require(TicketPermission.VIEW)
    rows = session.scalars(
        tenant_select(ClassifierModel, actor.tenant_id).order_by(ClassifierModel.version.desc())
    )
    return [ModelOut.model_validate(row) for row in rows]


def _training_out(session: Session, job: Job) -> TrainingOut:
    model_id = (job.result or {}).get("model_id")
    model = get_in_tenant(session, ClassifierModel, job.tenant_id, model_id) if model_id else None
    return TrainingOut(
        id=job.id,
        status=job.status,
        source=job.params.get("source", "tickets"),
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        percent=progress_percent(job),
        message=job.message,
        error=job.error.strip().splitlines()[-1] if job.error else None,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        model=ModelOut.model_validate(model) if model else None,
    )


def start_training(session: Session, *, actor: Actor, data: TrainingIn) -> TrainingOut:
    """Queue a training (a durable job the worker runs step by step). While one is unfinished, asking
    again answers that one."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    job, created = start_job(
        session,
        tenant_id=actor.tenant_id,
        kind=JOB_KIND,
        title="训练工单分类模型" + ("（种子数据）" if data.source == "seed" else ""),
        params={"source": data.source.value},
        dedupe_key=JOB_KIND,
        created_by=actor.label,
    )
    if created:
        record_audit(
            session,
            actor=actor,
            action="tickets.classifier_training_started",
            target_type="job",
            target_id=job.id,
            detail={"source": data.source.value},
        )
    return _training_out(session, job)


def get_training(session: Session, *, actor: Actor, training_id: int) -> TrainingOut:
    actor.require(TicketPermission.VIEW)
    job = get_in_tenant(session, Job, actor.tenant_id, training_id)
    if job is None or job.kind != JOB_KIND:
        raise NotFound(f"training {training_id} not found")
    return _training_out(session, job)


def list_trainings(session: Session, *, actor: Actor, limit: int = 20) -> list[TrainingOut]:
    """The latest trainings, newest first."""
    actor.require(TicketPermission.VIEW)
    jobs = session.scalars(
        tenant_select(Job, actor.tenant_id).where(Job.kind == JOB_KIND).order_by(Job.id.desc()).limit(limit)
    )
    return [_training_out(session, job) for job in jobs]


# --- corrections (triage) ---------------------------------------------------------------------------


def correct_classification(
    session: Session, *, actor: Actor, ticket_id: int, data: CorrectionIn
) -> TicketOut:
    """An agent confirms or corrects a ticket's category (and may change its priority): the decision is
    kept as a correction for the next training, the ticket leaves the triage queue. A new priority
    restarts the SLA clocks from the ticket's creation on that priority's targets; a resolved or
    closed ticket's priority no longer changes (409)."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    new_priority = data.priority.value if data.priority else None
    priority_changes = new_priority is not None and new_priority != ticket.priority
    if priority_changes and TicketStatus(ticket.status) in DONE:
        raise Conflict(
            f"a {ticket.status} ticket's priority does not change",
            field_errors=[{"field": "priority", "message": "the ticket is done"}],
        )
    correction = ClassificationCorrection(
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        predicted_category=ticket.category,
        predicted_by=ticket.classified_by,
        predicted_confidence=ticket.classification_confidence,
        corrected_category=data.category,
        previous_priority=ticket.priority,
        corrected_priority=new_priority,
        by_user_id=actor.user_id,
        by_label=actor.label,
    )
    session.add(correction)
    confirmed = ticket.category == data.category
    summary = (
        f"确认分类：{data.category}"
        if confirmed
        else f"纠正分类：{ticket.category or '无'} → {data.category}"
    )
    previous_priority = ticket.priority
    ticket.category = data.category
    ticket.classified_by, ticket.classification_confidence, ticket.needs_triage = "agent", 1.0, False
    if priority_changes:
        assert new_priority is not None
        ticket.priority = new_priority
        summary += f"；优先级 {previous_priority} → {new_priority}"
        clocks.start(session, ticket, now=as_utc(ticket.created_at))
    record(
        session,
        ticket,
        "classification.confirmed" if confirmed else "classification.corrected",
        summary,
        actor.label,
        predicted=correction.predicted_category,
        predicted_by=correction.predicted_by,
        confidence=correction.predicted_confidence,
        category=data.category,
        previous_priority=previous_priority,
        priority=ticket.priority,
    )
    session.flush()
    return ticket_service.render(ticket)


def list_corrections(session: Session, *, actor: Actor, ticket_id: int) -> list[CorrectionOut]:
    actor.require(TicketPermission.VIEW)
    require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    rows = session.scalars(
        tenant_select(ClassificationCorrection, actor.tenant_id)
        .where(ClassificationCorrection.ticket_id == ticket_id)
        .order_by(ClassificationCorrection.id)
    )
    return [CorrectionOut.model_validate(row) for row in rows]


# --- tickets from chat messages ---------------------------------------------------------------------


def _title(text: str) -> str:
    first_line = " ".join(text.splitlines()[0].split()) if text.strip() else ""
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


def create_from_message(session: Session, *, actor: Actor, data: FromMessageIn) -> FromMessageOut:
    """A customer's chat message opens a ticket when one of the enabled rules marked
    `creates_ticket_from_chat` matches it: source `chat`, `source_ref` `chat:<message_id>` (the same
    message again answers the same ticket), classified like any new ticket. Otherwise nothing
    happens: `{ticket: null, matched_rules: []}`. The customer must be the tenant's (422)."""
    actor.require(TicketPermission.EDIT)
    if not customer_names(session, tenant_id=actor.tenant_id, ids=[data.customer_id]):
        raise ValidationFailed(
            "unknown customer",
            field_errors=[{"field": "customer_id", "message": f"no customer {data.customer_id} here"}],
        )
    match = evaluate(data.text, store.load_rules(session, actor.tenant_id))
    chat_hits = tuple(hit for hit in match.hits if hit.rule_id in match.chat_rule_ids)
    if not chat_hits:
        return FromMessageOut(ticket=None, matched_rules=[])
    source_ref = f"chat:{data.message_id}"
    existing = ticket_service.find_by_source(session, actor.tenant_id, source_ref)
    if existing is not None:
        return FromMessageOut(ticket=ticket_service.render(existing), matched_rules=_matched(chat_hits))
    # The message's details go on the timeline, not in `custom`: that follows the type's form.
    ticket = ticket_service.create_ticket(
        session,
        actor=actor,
        data=TicketIn(
            title=_title(data.text),
            description=data.text,
            customer_id=data.customer_id,
            source=TicketSource.CHAT,
        ),
        source_ref=source_ref,
    )
    row = require_in_tenant(session, Ticket, actor.tenant_id, ticket.id)
    record(
        session,
        row,
        "chat.message",
        "聊天消息建单：" + "、".join(hit.name for hit in chat_hits),
        actor.label,
        message_id=data.message_id,
        sent_at=as_utc(data.sent_at).isoformat() if data.sent_at else None,
        rule_ids=[hit.rule_id for hit in chat_hits],
    )
    return FromMessageOut(ticket=ticket, matched_rules=_matched(chat_hits))
