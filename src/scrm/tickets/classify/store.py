"""Reading what classification needs from the database: the tenant's rules, thresholds and active
model. Trained models are immutable, so a parsed model is cached per process by its id (a ticket's
creation then costs one small query for the active model's id, not a parse of its counts; the
cache key also holds the tenant, version and training time: ids restart in a recreated database)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.tickets.classify.bayes import NaiveBayes
from scrm.tickets.classify.models import ClassificationRule, ClassifierModel, ClassifierSettings
from scrm.tickets.classify.rules import Rule

DEFAULT_TRIAGE_THRESHOLD = 0.6
DEFAULT_URGENCY_THRESHOLD = 0.7
_CACHE_SIZE = 32


@dataclass(frozen=True)
class Thresholds:
    triage: float = DEFAULT_TRIAGE_THRESHOLD
    urgency: float = DEFAULT_URGENCY_THRESHOLD


@dataclass(frozen=True)
class LoadedModel:
    id: int
    version: int
    category: NaiveBayes
    urgency: NaiveBayes | None


def rule_of(row: ClassificationRule) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        phrases=tuple(row.phrases),
        match_mode=row.match_mode,
        category=row.category,
        priority=row.priority,
        urgent=row.urgent,
        creates_ticket_from_chat=row.creates_ticket_from_chat,
        enabled=row.enabled,
        position=row.position,
    )


def load_rules(session: Session, tenant_id: int) -> list[Rule]:
    """The tenant's enabled rules."""
    rows = session.scalars(
        select(ClassificationRule).where(
            ClassificationRule.tenant_id == tenant_id, ClassificationRule.enabled.is_(True)
        )
    )
    return [rule_of(row) for row in rows]


def thresholds(session: Session, tenant_id: int) -> Thresholds:
    row = session.scalars(
        select(ClassifierSettings).where(ClassifierSettings.tenant_id == tenant_id)
    ).one_or_none()
    return Thresholds() if row is None else Thresholds(row.triage_threshold, row.urgency_threshold)


_models: OrderedDict[tuple[object, ...], LoadedModel] = OrderedDict()
_lock = threading.Lock()


def active_model(session: Session, tenant_id: int) -> LoadedModel | None:
    """The tenant's active (newest successful) model, or None when it has never trained one."""
    found = session.execute(
        select(ClassifierModel.id, ClassifierModel.version, ClassifierModel.trained_at)
        .where(ClassifierModel.tenant_id == tenant_id, ClassifierModel.active.is_(True))
        .order_by(ClassifierModel.version.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    model_id, version, trained_at = found
    key = (model_id, tenant_id, version, trained_at)
    with _lock:
        cached = _models.get(key)
        if cached is not None:
            _models.move_to_end(key)
            return cached
    params = session.scalar(select(ClassifierModel.params).where(ClassifierModel.id == model_id))
    assert params is not None
    loaded = LoadedModel(
        id=model_id,
        version=version,
        category=NaiveBayes.from_json(params["category"]),
        urgency=NaiveBayes.from_json(params["urgency"]) if params.get("urgency") else None,
    )
    with _lock:
        _models[key] = loaded
        while len(_models) > _CACHE_SIZE:
            _models.popitem(last=False)
    return loaded
