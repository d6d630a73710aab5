"""forms (filled in by the change that adds these tables)

Revision ID: 7c2e0f0a0001
Revises: 6b1157fbc1a1
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import scrm.core.db  # noqa: F401


revision = '7c2e0f0a0001'
down_revision = '6b1157fbc1a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
