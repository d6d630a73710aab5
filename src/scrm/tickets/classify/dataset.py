"""The bundled Chinese seed dataset (`seed_tickets.jsonl`): customer-service messages of a beauty and
apparel brand selling on Tmall, JD, Douyin, Youzan and Pinduoduo, hand-written for this project, each
with a category and an urgency. The demo's starter model and the classifier benchmark use it; its
fixed split is `bayes.is_held_out` (by a hash of the text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from scrm.tickets.classify.bayes import is_held_out

SEED_PATH = Path(__file__).with_name("seed_tickets.jsonl")


@dataclass(frozen=True)
class Sample:
    text: str
    category: str
    urgency: str  # "normal" | "urgent"
    platform: str = ""


@cache
def seed_samples() -> tuple[Sample, ...]:
    rows = SEED_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(Sample(**json.loads(row)) for row in rows if row.strip())


def seed_split() -> tuple[list[Sample], list[Sample]]:
    """(training part, held-out part) of the seed dataset."""
    train: list[Sample] = []
    held_out: list[Sample] = []
    for sample in seed_samples():
        (held_out if is_held_out(sample.text) else train).append(sample)
    return train, held_out
