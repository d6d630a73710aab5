"""Training through the API and the worker: a durable job whose status and progress the console
polls, which stores a versioned model (newest active) with its held-out accuracy; new tickets are
then classified by the model with a calibrated confidence, low confidence going to triage; agents'
corrections feed the next training; a tenant with too little data gets a failed training that says
why; and nothing crosses tenants."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import build_registry
from scrm.tickets.classify.dataset import seed_split
from scrm.tickets.classify.training import BATCH
from tests.conftest import Persona

TRAININGS = "/api/v1/tickets/classifier/trainings"


def run_worker_until_finished(
    client: Any, persona: Persona, factory: sessionmaker[Session], training_id: int
) -> list[dict[str, Any]]:
    """Run worker rounds (one training step each) until the training finishes; what each poll saw."""
    worker = Worker(factory, build_registry(), WorkerConfig(batch_size=10), worker_id="test")
    seen = []
    for _ in range(40):
        worker.run_once()
        polled = client.get(f"{TRAININGS}/{training_id}", headers=persona.headers).json()
        seen.append(polled)
        if polled["status"] in ("succeeded", "failed", "cancelled"):
            return seen
    pytest.fail(f"the training did not finish: {seen[-1]}")


def test_a_training_runs_in_the_worker_with_progress_and_yields_an_active_model(
    client: Any,
    owner: Persona,
    agent: Persona,
    other_tenant: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    assert client.post(TRAININGS, json={"source": "seed"}, headers=agent.headers).status_code == 403
    assert client.post(TRAININGS, json={"source": "web"}, headers=owner.headers).status_code == 422
    started = client.post(TRAININGS, json={"source": "seed"}, headers=owner.headers)
    assert started.status_code == 202, started.text
    training = started.json()
    assert training["status"] == "queued" and training["model"] is None
    # Asking again while it runs answers the same training.
    assert (
        client.post(TRAININGS, json={"source": "seed"}, headers=owner.headers).json()["id"] == training["id"]
    )
    assert client.get(f"{TRAININGS}/{training['id']}", headers=other_tenant.headers).status_code == 404
    seen = run_worker_until_finished(client, owner, committing_factory, training["id"])
    train, held_out = seed_split()
    samples = len(train) + len(held_out)
    steps = 2 * (samples // BATCH + 1)
    assert len(seen) == steps  # one batch per step: progress shows while it runs
    assert seen[0]["status"] == "running" and 0 < seen[0]["percent"] < 50
    done = [poll["progress_done"] for poll in seen]
    assert done == sorted(done) and seen[-1]["percent"] == 100.0
    final = seen[-1]
    assert final["status"] == "succeeded", final
    model = final["model"]
    assert (model["version"], model["active"], model["source"]) == (1, True, "seed")
    # The seed's model learns its training part only; the held-out part stays unseen.
    assert model["sample_count"] == len(train) and model["held_out_count"] == len(held_out)
    assert model["accuracy"] >= model["baseline_accuracy"] + 0.3
    assert model["urgency_accuracy"] is not None and model["macro_f1"] > 0.5
    assert len(model["labels"]) >= 10
    models = client.get("/api/v1/tickets/classifier/models", headers=agent.headers).json()
    assert [(m["version"], m["active"]) for m in models] == [(1, True)]
    assert client.get("/api/v1/tickets/classifier/models", headers=other_tenant.headers).json() == []
    assert [t["id"] for t in client.get(TRAININGS, headers=owner.headers).json()] == [training["id"]]

    # New tickets are classified by the model, with a confidence; unsure ones go to triage.
    confident = client.post(
        "/api/v1/tickets", json={"title": "发票抬头开错了，麻烦重新开一张电子发票"}, headers=owner.headers
    ).json()
    assert (confident["category"], confident["classified_by"]) == ("发票", "model")
    assert confident["classification_confidence"] >= 0.6 and confident["needs_triage"] is False
    vague = client.post("/api/v1/tickets", json={"title": "嗯嗯好的"}, headers=owner.headers).json()
    assert vague["classified_by"] == "model" and vague["classification_confidence"] < 0.6
    assert vague["needs_triage"] is True
    # Brand B has no model: its tickets stay unclassified.
    theirs = client.post(
        "/api/v1/tickets",
        json={"title": "发票抬头开错了，麻烦重新开一张电子发票"},
        headers=other_tenant.headers,
    ).json()
    assert (theirs["classified_by"], theirs["category"]) == ("none", None)

    # A tenant without enough resolved tickets cannot train on its own tickets (and says why).
    failed = client.post(TRAININGS, json={"source": "tickets"}, headers=owner.headers).json()
    final_failed = run_worker_until_finished(client, owner, committing_factory, failed["id"])[-1]
    assert final_failed["status"] == "failed" and "至少" in final_failed["message"]
    assert [
        m["version"] for m in client.get("/api/v1/tickets/classifier/models", headers=owner.headers).json()
    ] == [1]


def test_resolved_tickets_and_corrections_feed_the_next_training(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    texts = {
        "物流查询": [
            "快递到哪了",
            "什么时候发货",
            "物流一直不更新",
            "能发顺丰吗",
            "快递停在中转站",
            "催一下快递",
        ],
        "发票": ["开一张发票", "发票抬头错了", "电子发票在哪下载", "能开专票吗", "发票税号", "发票还没开"],
        "退换货": ["我要退货", "七天无理由退款", "换一个大码", "退货地址发我", "退款没到账", "申请换货"],
    }
    for category, titles in texts.items():
        for title in titles:
            ticket = client.post(
                "/api/v1/tickets", json={"title": title, "category": category}, headers=owner.headers
            ).json()
            assert (
                client.post(f"/api/v1/tickets/{ticket['id']}/resolve", headers=owner.headers).status_code
                == 200
            )
    # An open ticket counts once an agent corrected it; an uncorrected open one does not.
    corrected = client.post("/api/v1/tickets", json={"title": "包裹丢了"}, headers=owner.headers).json()
    client.post(
        f"/api/v1/tickets/{corrected['id']}/classification", json={"category": "丢件"}, headers=owner.headers
    )
    client.post("/api/v1/tickets", json={"title": "还没处理的", "category": "发票"}, headers=owner.headers)
    training = client.post(TRAININGS, headers=owner.headers).json()
    final = run_worker_until_finished(client, owner, committing_factory, training["id"])[-1]
    assert final["status"] == "succeeded", final
    model = final["model"]
    assert model["source"] == "tickets" and model["sample_count"] == 19
    assert set(model["labels"]) == {"物流查询", "发票", "退换货", "丢件"}
    predicted = client.post("/api/v1/tickets", json={"title": "发票抬头开错了"}, headers=owner.headers).json()
    assert (predicted["category"], predicted["classified_by"]) == ("发票", "model")
