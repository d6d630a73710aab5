"""The demo's classification seeding: its rules and a seed-dataset training, once however often the
demo starts; the worker trains the model and chat messages about lost parcels open urgent tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.jobs import Job
from scrm.core.worker import Worker, WorkerConfig
from scrm.customers.models import Customer
from scrm.demo.ticket_classify import RULES, seed_ticket_classification
from scrm.registry import build_registry
from scrm.tickets.classify.models import ClassificationRule, ClassifierModel
from tests.conftest import Persona


def test_the_demo_seeds_rules_and_a_starter_model_once(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    for _ in range(2):
        with committing_factory.begin() as session:
            seed_ticket_classification(session, tenant_id=owner.tenant_id)
    with committing_factory() as session:
        assert session.scalar(select(func.count()).select_from(ClassificationRule)) == len(RULES)
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    worker = Worker(committing_factory, build_registry(), WorkerConfig(batch_size=10), worker_id="demo")
    for _ in range(10):
        worker.run_once()
    with committing_factory.begin() as session:
        seed_ticket_classification(session, tenant_id=owner.tenant_id)
    with committing_factory() as session:
        models = session.scalars(select(ClassifierModel)).all()
        assert [(model.version, model.source, model.active) for model in models] == [(1, "seed", True)]
        assert session.scalar(select(func.count()).select_from(Job)) == 1
        customer = Customer(tenant_id=owner.tenant_id, name="小周")
        session.add(customer)
        session.commit()
        customer_id = customer.id
    answer = client.post(
        "/api/v1/tickets/from-message",
        json={
            "customer_id": customer_id,
            "message_id": "demo-1",
            "text": "快递显示签收了，但我没收到，是不是丢件了",
        },
        headers=owner.headers,
    ).json()
    assert answer["ticket"]["priority"] == "urgent" and answer["ticket"]["category"] == "丢件/未收到"
    model_classified = client.post(
        "/api/v1/tickets", json={"title": "请问满减券怎么用不了"}, headers=owner.headers
    ).json()
    assert (model_classified["classified_by"], model_classified["category"]) == ("model", "价格/优惠")
