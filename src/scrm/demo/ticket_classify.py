"""The demo's ticket classification: a handful of keyword rules (lost parcels and complaints jump the
queue and open tickets from chat, as seed 003 describes) and, when the workspace has no model yet, a
training on the bundled seed dataset's training part, run by the worker like any training.
Idempotent: checked on every start."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.tickets.classify import service
from scrm.tickets.classify.schemas import MatchMode, RuleIn, TrainingIn, TrainingSource
from scrm.tickets.schemas import Priority

RULES = [
    RuleIn(
        name="订单丢失 / 丢件",
        phrases=["订单丢失", "丢件", "快递丢了", "包裹丢了", "空包"],
        category="丢件/未收到",
        urgent=True,
        creates_ticket_from_chat=True,
        position=0,
    ),
    RuleIn(
        name="投诉与曝光",
        phrases=["投诉", "12315", "曝光", "消协", "黑猫投诉", "市场监管"],
        category="投诉",
        urgent=True,
        creates_ticket_from_chat=True,
        position=1,
    ),
    RuleIn(
        name="过敏与安全",
        phrases=["过敏", "烂脸", "红肿", "刺痛", "划破", "去医院"],
        category="质量问题",
        urgent=True,
        creates_ticket_from_chat=True,
        position=2,
    ),
    RuleIn(
        name="包装破损",
        phrases=["破损", "压坏", "压扁", "碎了", "漏液"],
        category="包装破损",
        priority=Priority.HIGH,
        creates_ticket_from_chat=True,
        position=3,
    ),
    RuleIn(
        name="色号发错",
        phrases=["色号", "发错"],
        match_mode=MatchMode.ALL,
        category="色号/尺码不符",
        position=4,
    ),
    RuleIn(name="发票", phrases=["发票", "开票", "专票", "税号"], category="发票", position=5),
]


def seed_ticket_classification(session: Session, *, tenant_id: int) -> None:
    actor = Actor.system(tenant_id)
    if not service.list_rules(session, actor=actor):
        for rule in RULES:
            service.save_rule(session, actor=actor, data=rule)
    if not service.list_models(session, actor=actor):
        # Answers the unfinished training if a previous start queued one already.
        service.start_training(session, actor=actor, data=TrainingIn(source=TrainingSource.SEED))
