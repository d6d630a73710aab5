"""The classification domain's background work: the training job (listed in `scrm.registry`)."""

from __future__ import annotations

from scrm.tickets.classify.training import JOB_KINDS

__all__ = ["JOB_KINDS"]
