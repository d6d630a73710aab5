"""Multinomial naive Bayes over token features, in pure Python, with a calibrated confidence.

Counts are Boolean per document (a feature counts once per ticket: in short texts a repeated word
says little more), smoothed with `alpha`. The raw naive Bayes posterior is famously over-confident
(its features are not independent: a word and the bigrams inside it count the same evidence twice),
so the confidence is the top class's probability after temperature scaling: scores divided by a
temperature fitted on the held-out part (the one with the least negative log-likelihood on a grid).

Counts are plain JSON-able dicts (`Counts`) so a training can accumulate them step by step in a job's
state and add the held-out part's counts to the final model (naive Bayes counts add up).
Everything here is pure: no database, no clock.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ALPHA = 0.5
HELD_OUT_BUCKETS = 5  # one in five texts is held out
TEMPERATURES = tuple(round(1.0 * 1.25**step, 3) for step in range(0, 30))


def is_held_out(text: str) -> bool:
    """The fixed split: a text is held out when its SHA-1 falls in one bucket of five (the same text
    always falls on the same side, so a duplicate cannot leak into the held-out part)."""
    digest = hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % HELD_OUT_BUCKETS == 0


@dataclass
class Counts:
    """Documents per label and, per label, how many documents had each feature."""

    docs: dict[str, int] = field(default_factory=dict)
    features: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, features: Iterable[str], label: str) -> None:
        self.docs[label] = self.docs.get(label, 0) + 1
        per_label = self.features.setdefault(label, {})
        for feature in set(features):
            per_label[feature] = per_label.get(feature, 0) + 1

    def merged(self, other: Counts) -> Counts:
        result = Counts(dict(self.docs), {label: dict(counts) for label, counts in self.features.items()})
        for label, count in other.docs.items():
            result.docs[label] = result.docs.get(label, 0) + count
        for label, counts in other.features.items():
            target = result.features.setdefault(label, {})
            for feature, count in counts.items():
                target[feature] = target.get(feature, 0) + count
        return result

    def to_json(self) -> dict[str, Any]:
        return {"docs": self.docs, "features": self.features}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Counts:
        data = data or {}
        return cls(dict(data.get("docs", {})), {k: dict(v) for k, v in data.get("features", {}).items()})

    @property
    def total(self) -> int:
        return sum(self.docs.values())


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    # Every label's calibrated probability, highest first.
    ranked: tuple[tuple[str, float], ...]


class NaiveBayes:
    """A trained model; build it with `from_counts` (training) or `from_json` (stored)."""

    def __init__(self, counts: Counts, *, alpha: float = DEFAULT_ALPHA, temperature: float = 1.0) -> None:
        self.counts = counts
        self.alpha = alpha
        self.temperature = temperature
        self.labels: list[str] = sorted(label for label, count in counts.docs.items() if count > 0)
        vocabulary: set[str] = set()
        for label in self.labels:
            vocabulary.update(counts.features.get(label, {}))
        self.vocabulary_size = len(vocabulary)
        total_docs = sum(counts.docs[label] for label in self.labels)
        self._log_prior = [math.log(counts.docs[label] / total_docs) for label in self.labels]
        # Boolean multinomial: P(feature | label) ∝ documents of the label with the feature + alpha.
        denominators = [
            sum(counts.features.get(label, {}).values()) + alpha * (self.vocabulary_size + 1)
            for label in self.labels
        ]
        self._log_unseen = [math.log(alpha / denominator) for denominator in denominators]
        self._log_likelihood: dict[str, list[float]] = {}
        for feature in vocabulary:
            self._log_likelihood[feature] = [
                math.log((counts.features.get(label, {}).get(feature, 0) + alpha) / denominator)
                for label, denominator in zip(self.labels, denominators, strict=True)
            ]

    @classmethod
    def from_counts(cls, counts: Counts, *, alpha: float = DEFAULT_ALPHA) -> NaiveBayes:
        return cls(counts, alpha=alpha)

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "temperature": self.temperature, "counts": self.counts.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NaiveBayes:
        return cls(Counts.from_json(data["counts"]), alpha=data["alpha"], temperature=data["temperature"])

    def scores(self, features: Iterable[str]) -> list[float]:
        """Log prior plus log likelihood of each label (features outside the vocabulary ignored)."""
        scores = list(self._log_prior)
        for feature in set(features):
            likelihood = self._log_likelihood.get(feature)
            if likelihood is None:
                continue
            for index, value in enumerate(likelihood):
                scores[index] += value
        return scores

    def predict(self, features: Iterable[str]) -> Prediction:
        if not self.labels:
            raise ValueError("the model has no labels")
        probabilities = softmax(self.scores(features), self.temperature)
        ranked = tuple(
            sorted(
                ((label, round(p, 4)) for label, p in zip(self.labels, probabilities, strict=True)),
                key=lambda item: -item[1],
            )
        )
        return Prediction(label=ranked[0][0], confidence=ranked[0][1], ranked=ranked)


def softmax(scores: Sequence[float], temperature: float = 1.0) -> list[float]:
    scaled = [score / temperature for score in scores]
    top = max(scaled)
    exps = [math.exp(value - top) for value in scaled]
    total = sum(exps)
    return [value / total for value in exps]


def fit_temperature(scored: Sequence[tuple[Sequence[float], int]]) -> float:
    """The temperature (from `TEMPERATURES`) with the least negative log-likelihood of the true labels,
    given (scores, true label's index; -1 when the model does not know the label) pairs. 1.0 when
    there is nothing to fit on."""
    usable = [(scores, truth) for scores, truth in scored if truth >= 0]
    if not usable:
        return 1.0
    best, best_loss = 1.0, math.inf
    for temperature in TEMPERATURES:
        loss = 0.0
        for scores, truth in usable:
            loss -= math.log(max(softmax(scores, temperature)[truth], 1e-12))
        if loss < best_loss:
            best, best_loss = temperature, loss
    return best


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    if not truth:
        return 0.0
    return sum(1 for t, p in zip(truth, predicted, strict=True) if t == p) / len(truth)


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """The mean over the true labels of each label's F1 (a label never predicted scores 0)."""
    labels = sorted(set(truth))
    if not labels:
        return 0.0
    total = 0.0
    for label in labels:
        true_positive = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        predicted_positive = sum(1 for p in predicted if p == label)
        actual_positive = sum(1 for t in truth if t == label)
        precision = true_positive / predicted_positive if predicted_positive else 0.0
        recall = true_positive / actual_positive if actual_positive else 0.0
        total += 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return total / len(labels)


def majority(labels: Sequence[str]) -> str:
    """The most frequent label (ties: the first in sorted order)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return sorted(counts, key=lambda label: (-counts[label], label))[0]
