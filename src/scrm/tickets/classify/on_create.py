"""Classifying a new ticket, called by `tickets.service.create_ticket` before its SLA clocks start
(so the priority raised here is the one the clocks run on).

1. The tenant's rules: a matching rule's category wins (confidence 1.0); urgent phrases (订单丢失,
   丢件, 投诉, 12315, 曝光...) raise the priority, never lower it.
2. Otherwise the active model predicts the category with a calibrated confidence.
3. A category the caller gave is kept (`classified_by="agent"`).
4. The model's urgency head raises a normal ticket to high when it says urgent with at least the
   tenant's urgency threshold (rules alone may raise to urgent: a rule is an explicit decision).
`needs_triage` is set when the category came from the model below the triage threshold, or nobody
could classify the ticket. A decision made here (a category from a rule or the model, a raised
priority) goes on the ticket's timeline with its reasons.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.tickets.classify import store
from scrm.tickets.classify.rules import PRIORITY_RANK, evaluate, raised
from scrm.tickets.classify.tokens import features
from scrm.tickets.models import Ticket
from scrm.tickets.timeline import record

CLASSIFIED_BY_ZH = {"rule": "规则", "model": "模型", "agent": "人工", "none": "未分类"}


def ticket_text(title: str, description: str) -> str:
    return f"{title}\n{description}" if description else title


def classify_new_ticket(session: Session, ticket: Ticket, *, actor_label: str) -> None:
    """Set the new (flushed) ticket's category, classification fields and priority; record why."""
    text = ticket_text(ticket.title, ticket.description)
    match = evaluate(text, store.load_rules(session, ticket.tenant_id))
    limits = store.thresholds(session, ticket.tenant_id)
    previous_priority = ticket.priority
    reasons = list(match.reasons)
    model = None
    confidence: float | None
    if ticket.category is not None:
        classified_by, confidence = "agent", 1.0
    elif match.category is not None:
        ticket.category, classified_by, confidence = match.category, "rule", 1.0
    else:
        model = store.active_model(session, ticket.tenant_id)
        if model is None:
            classified_by, confidence = "none", None
            reasons.append("没有规则命中，也还没有训练好的模型")
        else:
            prediction = model.category.predict(features(text))
            ticket.category, classified_by, confidence = prediction.label, "model", prediction.confidence
            reasons.append(
                f"模型 v{model.version} 预测「{prediction.label}」，置信度 {prediction.confidence:.0%}"
            )
    priority = raised(ticket.priority, match.priority)
    if PRIORITY_RANK[priority] < PRIORITY_RANK["high"]:
        model = model or store.active_model(session, ticket.tenant_id)
        if model is not None and model.urgency is not None:
            urgency = model.urgency.predict(features(text))
            if urgency.label == "urgent" and urgency.confidence >= limits.urgency:
                priority = raised(priority, "high")
                reasons.append(f"模型判断紧急（置信度 {urgency.confidence:.0%}），优先级提升为 high")
    ticket.priority = priority
    ticket.classified_by = classified_by
    ticket.classification_confidence = None if confidence is None else round(confidence, 4)
    ticket.needs_triage = classified_by == "none" or (
        classified_by == "model" and (confidence or 0.0) < limits.triage
    )
    if classified_by in ("none", "agent") and priority == previous_priority:
        return  # nothing was decided here: the ticket's "created" entry says it all
    parts = [f"分类：{ticket.category or '无'}（{CLASSIFIED_BY_ZH[classified_by]}"]
    if confidence is not None and classified_by == "model":
        parts[0] += f"，置信度 {confidence:.0%}"
    parts[0] += "）"
    if priority != previous_priority:
        parts.append(f"优先级 {previous_priority} → {priority}")
    if ticket.needs_triage:
        parts.append("进入待分拣")
    record(
        session,
        ticket,
        "classified",
        "；".join(parts),
        actor_label if classified_by == "agent" else "system",
        category=ticket.category,
        classified_by=classified_by,
        confidence=ticket.classification_confidence,
        needs_triage=ticket.needs_triage,
        rule_ids=match.rule_ids,
        reasons=reasons,
        previous_priority=previous_priority,
        priority=priority,
        model_version=None if model is None else model.version,
    )
