"""Training and evaluating on labelled texts in one go (the benchmark and the tests use it; the
training job does the same step by step): counts of the training part, the held-out part scored by
that model, the confidence's temperature fitted on those scores, and the figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scrm.tickets.classify.bayes import (
    Counts,
    NaiveBayes,
    accuracy,
    fit_temperature,
    macro_f1,
    majority,
)
from scrm.tickets.classify.dataset import Sample
from scrm.tickets.classify.tokens import features


@dataclass(frozen=True)
class Evaluation:
    category: NaiveBayes  # trained on the training part, with the fitted temperature
    urgency: NaiveBayes
    truth: list[str]
    predicted: list[str]
    confidences: list[float]
    urgency_truth: list[str]
    urgency_predicted: list[str]
    majority_label: str
    majority_urgency: str

    @property
    def accuracy(self) -> float:
        return accuracy(self.truth, self.predicted)

    @property
    def macro_f1(self) -> float:
        return macro_f1(self.truth, self.predicted)

    @property
    def baseline_accuracy(self) -> float:
        return accuracy(self.truth, [self.majority_label] * len(self.truth))

    @property
    def baseline_macro_f1(self) -> float:
        return macro_f1(self.truth, [self.majority_label] * len(self.truth))

    @property
    def urgency_accuracy(self) -> float:
        return accuracy(self.urgency_truth, self.urgency_predicted)

    @property
    def urgency_baseline_accuracy(self) -> float:
        return accuracy(self.urgency_truth, [self.majority_urgency] * len(self.urgency_truth))


def train_and_evaluate(train: Sequence[Sample], held_out: Sequence[Sample]) -> Evaluation:
    categories, urgency = Counts(), Counts()
    for sample in train:
        found = features(sample.text)
        categories.add(found, sample.category)
        urgency.add(found, sample.urgency)
    raw = NaiveBayes.from_counts(categories)
    urgency_model = NaiveBayes.from_counts(urgency)
    held_features = [features(sample.text) for sample in held_out]
    scored = [
        (raw.scores(found), raw.labels.index(s.category) if s.category in raw.labels else -1)
        for found, s in zip(held_features, held_out, strict=True)
    ]
    model = NaiveBayes(categories, temperature=fit_temperature(scored))
    predictions = [model.predict(found) for found in held_features]
    return Evaluation(
        category=model,
        urgency=urgency_model,
        truth=[sample.category for sample in held_out],
        predicted=[prediction.label for prediction in predictions],
        confidences=[prediction.confidence for prediction in predictions],
        urgency_truth=[sample.urgency for sample in held_out],
        urgency_predicted=[urgency_model.predict(found).label for found in held_features],
        majority_label=majority([sample.category for sample in train]),
        majority_urgency=majority([sample.urgency for sample in train]),
    )
