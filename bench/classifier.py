"""Ticket classifier: accuracy on the held-out part of the bundled seed dataset, beside baselines in
the same run, and how fast it classifies and trains.

    .venv/bin/python -m bench.classifier [--repeat 20] [--tickets 500]

- Quality, on the fixed held-out split (`bayes.is_held_out`) of `seed_tickets.jsonl`, the model
  trained on the training part: category accuracy and macro-F1; baselines: the majority class, and
  the demo's keyword rules alone (a rule's category, else the majority class); the combination the
  service runs (a rule's category wins, else the model); urgency accuracy beside always-normal.
- Speed of one classification in process (jieba features, the rules, both model heads): p50/p99
  latency and classifications per second over `--repeat` passes of the held-out texts.
- Through the database (SQLite): training as the service runs it (the job's steps until the model
  is stored), then `classify_new_ticket` on `--tickets` new tickets (rules query, active model
  lookup, timeline row): p50/p99 per ticket.
- Training time (counting the training part in process, and the stored training), jieba's first
  load, and peak memory.
Figures only, never pass/fail.
"""

from __future__ import annotations

import argparse
import time
from itertools import cycle

from bench.support import peak_rss_mb, percentile, prepare_database, sqlite_database
from scrm.core.jobs import Job, start_job
from scrm.demo.ticket_classify import RULES
from scrm.tickets.classify import tokens
from scrm.tickets.classify.bayes import accuracy, macro_f1
from scrm.tickets.classify.dataset import seed_split
from scrm.tickets.classify.evaluation import train_and_evaluate
from scrm.tickets.classify.models import ClassificationRule
from scrm.tickets.classify.on_create import classify_new_ticket
from scrm.tickets.classify.rules import Rule, evaluate
from scrm.tickets.classify.training import JOB_KIND, training_step
from scrm.tickets.models import Ticket


def _rules() -> list[Rule]:
    return [
        Rule(id=index, name=rule.name, phrases=tuple(rule.phrases), match_mode=rule.match_mode.value,
             category=rule.category, priority=rule.priority.value if rule.priority else None,
             urgent=rule.urgent, position=rule.position)
        for index, rule in enumerate(RULES, start=1)
    ]  # fmt: skip


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def quality(repeat: int) -> None:
    started = time.perf_counter()
    tokens.tokenizer()
    print(f"jieba first load (dictionary + our words): {time.perf_counter() - started:.2f} s\n")
    train, held_out = seed_split()
    started = time.perf_counter()
    evaluation = train_and_evaluate(train, held_out)
    train_seconds = time.perf_counter() - started
    rules = _rules()
    majority_label = evaluation.majority_label
    rule_only = [evaluate(s.text, rules).category or majority_label for s in held_out]
    combined = [
        evaluate(s.text, rules).category or predicted
        for s, predicted in zip(held_out, evaluation.predicted, strict=True)
    ]
    truth = evaluation.truth
    labels = evaluation.category.labels
    print(f"seed dataset: {len(train)} training, {len(held_out)} held-out texts, {len(labels)} categories")
    print(f"{'category classifier (held-out)':<46}{'accuracy':>10}{'macro-F1':>10}")
    for name, predicted in (
        ("baseline: majority class", [majority_label] * len(truth)),
        ("baseline: keyword rules only (demo rules)", rule_only),
        ("naive Bayes (jieba words + bigrams)", evaluation.predicted),
        ("rules first, then naive Bayes (as served)", combined),
    ):
        print(f"  {name:<44}{accuracy(truth, predicted):>10.3f}{macro_f1(truth, predicted):>10.3f}")
    covered = sum(1 for s in held_out if evaluate(s.text, rules).category)
    print(f"  (the demo rules decide {covered} of {len(held_out)} held-out texts)")
    print(
        f"urgency (held-out): accuracy {evaluation.urgency_accuracy:.3f}, "
        f"baseline always-normal {evaluation.urgency_baseline_accuracy:.3f}"
    )
    mean_confidence = sum(evaluation.confidences) / len(evaluation.confidences)
    print(
        f"confidence: temperature {evaluation.category.temperature}, mean {mean_confidence:.3f} "
        f"vs accuracy {evaluation.accuracy:.3f}"
    )
    threshold = 0.6
    sure = [(t, p) for t, p, c in zip(truth, evaluation.predicted, evaluation.confidences, strict=True)
            if c >= threshold]  # fmt: skip
    print(
        f"at the default triage threshold {threshold}: {len(sure)}/{len(truth)} classified without triage, "
        f"{accuracy([t for t, _ in sure], [p for _, p in sure]):.3f} of them right"
    )
    print("\nper category F1:")
    for label in labels:
        tp = sum(1 for t, p in zip(truth, evaluation.predicted, strict=True) if t == label == p)
        fp = sum(1 for t, p in zip(truth, evaluation.predicted, strict=True) if p == label != t)
        fn = sum(1 for t, p in zip(truth, evaluation.predicted, strict=True) if t == label != p)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        print(f"  {label:<14}{f1:6.2f}  ({tp + fn} held-out)")
    print(
        f"\ntraining in process (features + counts of {len(train)} texts, temperature fit): "
        f"{train_seconds:.2f} s"
    )

    latencies: list[float] = []
    texts = [s.text for s in held_out]
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            found = tokens.features(text)
            evaluate(text, rules)
            evaluation.category.predict(found)
            evaluation.urgency.predict(found)
            latencies.append(time.perf_counter() - started)
    latencies.sort()
    total = sum(latencies)
    print(
        f"classification in process ({len(latencies)}): p50 {_ms(percentile(latencies, 0.5))}, "
        f"p99 {_ms(percentile(latencies, 0.99))}, {len(latencies) / total:,.0f}/s on one core"
    )


def through_the_database(tickets: int) -> None:
    with sqlite_database() as url:
        engine, factory, tenant_id = prepare_database(url)
        with factory.begin() as session:
            for index, rule in enumerate(_rules(), start=1):
                session.add(
                    ClassificationRule(
                        tenant_id=tenant_id, name=rule.name, phrases=list(rule.phrases), position=index,
                        match_mode=rule.match_mode, category=rule.category, priority=rule.priority,
                        urgent=rule.urgent, creates_ticket_from_chat=False, enabled=True,
                    )
                )  # fmt: skip
            job, _ = start_job(
                session, tenant_id=tenant_id, kind=JOB_KIND, title="bench", params={"source": "seed"}
            )
            job_id = job.id
        started = time.perf_counter()
        steps = 0
        while True:
            with factory.begin() as session:
                job = session.get(Job, job_id)
                assert job is not None
                outcome = training_step(session, job)
                steps += 1
                if outcome.done:
                    result = outcome.result or {}
                    break
        print(
            f"\nstored training (SQLite, the job's {steps} steps): {time.perf_counter() - started:.2f} s; "
            f"model v{result.get('version')}: held-out accuracy {result.get('accuracy')}, "
            f"macro-F1 {result.get('macro_f1')}, majority baseline {result.get('baseline_accuracy')}"
        )
        _, held_out = seed_split()
        texts = cycle(s.text for s in held_out)
        latencies: list[float] = []
        for _ in range(tickets):
            with factory.begin() as session:
                text = next(texts)
                ticket = Ticket(tenant_id=tenant_id, title=text[:200], description="", source="chat",
                                priority="normal", status="new", sla_marks={}, custom={})  # fmt: skip
                session.add(ticket)
                session.flush()
                started = time.perf_counter()
                classify_new_ticket(session, ticket, actor_label="bench")
                session.flush()
                latencies.append(time.perf_counter() - started)
        latencies.sort()
        print(
            f"classify_new_ticket through SQLite ({tickets} tickets): p50 {_ms(percentile(latencies, 0.5))}, "
            f"p99 {_ms(percentile(latencies, 0.99))}, {len(latencies) / sum(latencies):,.0f}/s"
        )
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.classifier", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the held-out texts for speed")
    parser.add_argument("--tickets", type=int, default=500, help="tickets classified through the database")
    arguments = parser.parse_args(argv)
    quality(arguments.repeat)
    through_the_database(arguments.tickets)
    own, _ = peak_rss_mb()
    print(f"\npeak RSS: {own:.0f} MiB")


if __name__ == "__main__":
    main()
