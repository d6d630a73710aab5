"""Training the classifier as a durable job (`tickets.classifier_training`, `scrm.core.jobs`).

The samples are the tenant's resolved and closed tickets with a category, plus every ticket an agent
corrected or confirmed (its category is the agent's); the text is the title and description, the
urgency label is `urgent` for high and urgent priority. Or, with `source="seed"`, the bundled seed
dataset. The fixed split `bayes.is_held_out` holds one text in five out.

Each step handles one batch, so progress shows and a restarted worker resumes where the last
committed step left off (the counts so far live in the job's state):
1. `train`: count the features of the training part (category and urgency);
2. `evaluate`: score the held-out part with the model trained without it (accuracy, macro-F1, the
   majority baseline, urgency accuracy, and the scores the confidence's temperature is fitted on),
   and count its features too;
3. at the end, the stored model, with the fitted temperature, becomes the tenant's active version and
   earlier versions step back. Trained on the tenant's tickets it learns both parts (naive Bayes
   counts add up); trained on the seed dataset, only its training part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from scrm.core.jobs import Job, JobKind, StepOutcome
from scrm.tickets.classify.bayes import (
    Counts,
    NaiveBayes,
    accuracy,
    fit_temperature,
    is_held_out,
    macro_f1,
    majority,
)
from scrm.tickets.classify.dataset import seed_samples
from scrm.tickets.classify.models import ClassificationCorrection, ClassifierModel
from scrm.tickets.classify.on_create import ticket_text
from scrm.tickets.classify.tokens import features
from scrm.tickets.models import Ticket

JOB_KIND = "tickets.classifier_training"
BATCH = 400
MIN_TRAINING_SAMPLES = 10
URGENT_PRIORITIES = ("urgent", "high")


class TrainingImpossible(Exception):
    """Too little to learn from; the job fails with this message (not retried)."""

    retryable = False


@dataclass(frozen=True)
class LabelledText:
    key: int
    text: str
    category: str
    urgency: str


def _ticket_query(tenant_id: int) -> Any:
    corrected = select(ClassificationCorrection.ticket_id).where(
        ClassificationCorrection.tenant_id == tenant_id
    )
    return select(Ticket.id, Ticket.title, Ticket.description, Ticket.category, Ticket.priority).where(
        Ticket.tenant_id == tenant_id,
        Ticket.category.is_not(None),
        or_(Ticket.status.in_(["resolved", "closed"]), Ticket.id.in_(corrected)),
    )


def count_samples(session: Session, tenant_id: int, source: str) -> tuple[int, int]:
    """(how many samples a training would read, the highest key among them)."""
    if source == "seed":
        return len(seed_samples()), len(seed_samples()) - 1
    query = _ticket_query(tenant_id).subquery()
    total, highest = session.execute(select(func.count(), func.max(query.c.id))).one()
    return int(total), int(highest or 0)


def read_samples(
    session: Session, tenant_id: int, source: str, *, after: int, up_to: int, limit: int
) -> list[LabelledText]:
    """The next `limit` samples with keys in (after, up_to], in key order."""
    if source == "seed":
        return [
            LabelledText(index, sample.text, sample.category, sample.urgency)
            for index, sample in enumerate(seed_samples())
            if after < index <= up_to
        ][:limit]
    rows = session.execute(
        _ticket_query(tenant_id).where(Ticket.id > after, Ticket.id <= up_to).order_by(Ticket.id).limit(limit)
    ).all()
    return [
        LabelledText(
            row.id,
            ticket_text(row.title, row.description),
            row.category,
            "urgent" if row.priority in URGENT_PRIORITIES else "normal",
        )
        for row in rows
    ]


def training_step(session: Session, job: Job) -> StepOutcome:
    """One batch of a training (see the module doc)."""
    started = time.perf_counter()
    source = job.params.get("source", "tickets")
    state = dict(job.state or {})
    if "phase" not in state:
        total, highest = count_samples(session, job.tenant_id, source)
        state.update(phase="train", cursor=-1, up_to=highest, total=total, done=0, seconds=0.0)
    batch = read_samples(
        session, job.tenant_id, source, after=state["cursor"], up_to=state["up_to"], limit=BATCH
    )
    if state["phase"] == "train":
        _train_batch(state, batch)
    else:
        _evaluate_batch(state, batch)
    state["done"] += len(batch)
    state["cursor"] = batch[-1].key if batch else state["cursor"]
    finished_pass = len(batch) < BATCH
    result = None
    if finished_pass and state["phase"] == "train":
        _check_enough(state)
        state.update(phase="evaluate", cursor=-1)
    elif finished_pass:
        result = _save(session, job, state, source, seconds=state["seconds"] + time.perf_counter() - started)
    state["seconds"] += time.perf_counter() - started
    job.state = state
    phase_zh = "统计训练集" if state["phase"] == "train" else "评估留出集"
    progress = f"{phase_zh}：{state['done']}/{2 * state['total']}"
    return StepOutcome(
        done=result is not None,
        progress_done=state["done"],
        progress_total=2 * state["total"],
        message=f"模型 v{result['version']} 已训练完成" if result else progress,
        result=result,
    )


def _train_batch(state: dict[str, Any], batch: list[LabelledText]) -> None:
    categories = Counts.from_json(state.get("categories"))
    urgency = Counts.from_json(state.get("urgency"))
    for sample in batch:
        if is_held_out(sample.text):
            state["held_out"] = state.get("held_out", 0) + 1
            continue
        found = features(sample.text)
        categories.add(found, sample.category)
        urgency.add(found, sample.urgency)
    state["categories"], state["urgency"] = categories.to_json(), urgency.to_json()


def _check_enough(state: dict[str, Any]) -> None:
    categories = Counts.from_json(state.get("categories"))
    if categories.total < MIN_TRAINING_SAMPLES or len(categories.docs) < 2:
        raise TrainingImpossible(
            f"需要至少 {MIN_TRAINING_SAMPLES} 条已解决并有分类的工单、至少两个分类才能训练"
            f"（现有训练样本 {categories.total} 条，{len(categories.docs)} 个分类）"
        )


def _evaluate_batch(state: dict[str, Any], batch: list[LabelledText]) -> None:
    held = [sample for sample in batch if is_held_out(sample.text)]
    if not held:
        return
    category_model = NaiveBayes.from_counts(Counts.from_json(state["categories"]))
    urgency_counts = Counts.from_json(state["urgency"])
    urgency_model = NaiveBayes.from_counts(urgency_counts) if len(urgency_counts.docs) > 1 else None
    held_categories = Counts.from_json(state.get("held_categories"))
    held_urgency = Counts.from_json(state.get("held_urgency"))
    evaluation = state.setdefault("evaluation", {"truth": [], "predicted": [], "scored": [], "urgency": []})
    for sample in held:
        found = features(sample.text)
        scores = category_model.scores(found)
        labels = category_model.labels
        truth = labels.index(sample.category) if sample.category in labels else -1
        evaluation["truth"].append(sample.category)
        evaluation["predicted"].append(category_model.predict(found).label)
        evaluation["scored"].append([[round(score, 4) for score in scores], truth])
        urgency_label = urgency_model.predict(found).label if urgency_model else "normal"
        evaluation["urgency"].append([sample.urgency, urgency_label])
        held_categories.add(found, sample.category)
        held_urgency.add(found, sample.urgency)
    state["held_categories"], state["held_urgency"] = held_categories.to_json(), held_urgency.to_json()


def _save(
    session: Session, job: Job, state: dict[str, Any], source: str, *, seconds: float
) -> dict[str, Any]:
    evaluation = state.get("evaluation") or {"truth": [], "predicted": [], "scored": [], "urgency": []}
    training = Counts.from_json(state["categories"])
    urgency_counts = Counts.from_json(state["urgency"])
    if source == "tickets":
        # A tenant's own tickets are few and precious: the stored model learns the held-out part too.
        # The seed dataset's model keeps to its training part, so its held-out part stays unseen.
        training = training.merged(Counts.from_json(state.get("held_categories")))
        urgency_counts = urgency_counts.merged(Counts.from_json(state.get("held_urgency")))
    temperature = fit_temperature([(scores, truth) for scores, truth in evaluation["scored"]])
    category_model = NaiveBayes(training, temperature=temperature)
    urgency_model = NaiveBayes(urgency_counts) if len(urgency_counts.docs) > 1 else None
    truth, predicted = evaluation["truth"], evaluation["predicted"]
    baseline = majority(
        [label for label, count in Counts.from_json(state["categories"]).docs.items() for _ in range(count)]
    )
    has_held_out = bool(truth)
    version = (
        session.scalar(
            select(func.max(ClassifierModel.version)).where(ClassifierModel.tenant_id == job.tenant_id)
        )
        or 0
    ) + 1
    session.execute(
        update(ClassifierModel)
        .where(ClassifierModel.tenant_id == job.tenant_id, ClassifierModel.active.is_(True))
        .values(active=False),
        execution_options={"synchronize_session": False},
    )
    model = ClassifierModel(
        tenant_id=job.tenant_id,
        version=version,
        active=True,
        source=source,
        params={
            "category": category_model.to_json(),
            "urgency": urgency_model.to_json() if urgency_model else None,
        },
        labels=category_model.labels,
        vocabulary_size=category_model.vocabulary_size,
        sample_count=category_model.counts.total,
        held_out_count=len(truth),
        accuracy=round(accuracy(truth, predicted), 4) if has_held_out else None,
        macro_f1=round(macro_f1(truth, predicted), 4) if has_held_out else None,
        baseline_accuracy=round(accuracy(truth, [baseline] * len(truth)), 4) if has_held_out else None,
        urgency_accuracy=(
            round(accuracy([t for t, _ in evaluation["urgency"]], [p for _, p in evaluation["urgency"]]), 4)
            if has_held_out
            else None
        ),
        training_seconds=round(seconds, 3),
        job_id=job.id,
        trained_by=job.created_by or "system",
    )
    session.add(model)
    session.flush()
    # The counts live on in the model; the job's state keeps only the summary.
    for key in ("categories", "urgency", "held_categories", "held_urgency", "evaluation"):
        state.pop(key, None)
    return {
        "model_id": model.id,
        "version": version,
        "accuracy": model.accuracy,
        "macro_f1": model.macro_f1,
        "baseline_accuracy": model.baseline_accuracy,
        "urgency_accuracy": model.urgency_accuracy,
        "sample_count": model.sample_count,
        "held_out_count": model.held_out_count,
        "temperature": temperature,
    }


JOB_KINDS = [JobKind(JOB_KIND, training_step)]
