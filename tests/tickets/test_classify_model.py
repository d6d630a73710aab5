"""The classifier on the bundled seed dataset: trained on its training part, it beats the majority
baseline on the held-out part by a clear margin, its urgency head does no worse than always saying
normal, and its temperature-scaled confidence is closer to its accuracy than the raw posterior."""

from __future__ import annotations

from statistics import mean

from scrm.tickets.classify.bayes import NaiveBayes
from scrm.tickets.classify.dataset import seed_samples, seed_split
from scrm.tickets.classify.evaluation import train_and_evaluate
from scrm.tickets.classify.tokens import features


def test_the_seed_dataset_is_large_varied_and_split_once() -> None:
    samples = seed_samples()
    assert len(samples) >= 600
    assert len({sample.text for sample in samples}) == len(samples)
    categories = {sample.category for sample in samples}
    assert len(categories) >= 10
    assert {sample.urgency for sample in samples} == {"normal", "urgent"}
    assert {sample.platform for sample in samples} == {"tmall", "jd", "douyin", "youzan", "pdd"}
    train, held_out = seed_split()
    assert len(train) + len(held_out) == len(samples)
    assert not {sample.text for sample in train} & {sample.text for sample in held_out}
    assert 0.1 < len(held_out) / len(samples) < 0.3
    assert {sample.category for sample in held_out} == categories


def test_the_classifier_beats_the_majority_baseline_on_held_out_data() -> None:
    evaluation = train_and_evaluate(*seed_split())
    chance = 1 / len(evaluation.category.labels)
    # A clear margin over both the majority class and chance, computed from this run.
    assert evaluation.accuracy >= evaluation.baseline_accuracy + 0.3, evaluation.accuracy
    assert evaluation.accuracy >= 3 * chance
    assert evaluation.macro_f1 >= evaluation.baseline_macro_f1 + 0.3
    assert evaluation.urgency_accuracy >= evaluation.urgency_baseline_accuracy


def test_the_confidence_is_calibrated_by_the_fitted_temperature() -> None:
    evaluation = train_and_evaluate(*seed_split())
    model = evaluation.category
    assert model.temperature > 1.0  # naive Bayes alone is over-confident
    raw = NaiveBayes(model.counts)
    _, held_out = seed_split()
    raw_confidence = mean(raw.predict(features(sample.text)).confidence for sample in held_out)
    calibrated = mean(evaluation.confidences)
    assert abs(calibrated - evaluation.accuracy) < abs(raw_confidence - evaluation.accuracy)
    assert all(0.0 < confidence <= 1.0 for confidence in evaluation.confidences)
    # Confident answers are right more often than unsure ones.
    right = [
        c
        for c, t, p in zip(evaluation.confidences, evaluation.truth, evaluation.predicted, strict=True)
        if t == p
    ]
    wrong = [
        c
        for c, t, p in zip(evaluation.confidences, evaluation.truth, evaluation.predicted, strict=True)
        if t != p
    ]
    assert mean(right) > mean(wrong)
