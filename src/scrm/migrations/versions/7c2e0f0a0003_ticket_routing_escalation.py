"""ticket routing: teams, members, agents, routing decisions; tickets' queue columns; escalation
levels of SLA policies; the next-response clock; customers' messages among comments

Revision ID: 7c2e0f0a0003
Revises: 7c2e0f0a0002
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import scrm.core.db


revision = '7c2e0f0a0003'
down_revision = '7c2e0f0a0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('tenant_id', BigId, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    ]


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('ticket_teams',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('strategy', sa.String(length=20), nullable=False),
    sa.Column('ticket_types', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('skills_by_category', sa.JSON(), nullable=False),
    sa.Column('lead_user_id', BigId, nullable=True),
    sa.Column('manager_user_id', BigId, nullable=True),
    sa.Column('overflow_team_id', BigId, nullable=True),
    sa.Column('overflow_after_minutes', sa.Integer(), nullable=True),
    *_tenant('ticket_teams'),
    *_timestamps(),
    sa.ForeignKeyConstraint(['overflow_team_id'], ['ticket_teams.id'], name=op.f('fk_ticket_teams_overflow_team_id_ticket_teams')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_ticket_teams_tenant_id_name'))
    )
    with op.batch_alter_table('ticket_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_teams_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ticket_team_members',
    sa.Column('team_id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    *_tenant('ticket_team_members'),
    sa.ForeignKeyConstraint(['team_id'], ['ticket_teams.id'], name=op.f('fk_ticket_team_members_team_id_ticket_teams'), ondelete='CASCADE'),
    sa.UniqueConstraint('tenant_id', 'team_id', 'user_id', name=op.f('uq_ticket_team_members_tenant_id_team_id_user_id'))
    )
    with op.batch_alter_table('ticket_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_team_members_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_team_members_tenant_id_user_id'), ['tenant_id', 'user_id'], unique=False)

    op.create_table('ticket_agents',
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('load', sa.Integer(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('last_assigned_at', scrm.core.db.UtcDateTime(timezone=True), nullable=True),
    *_tenant('ticket_agents'),
    *_timestamps(),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_ticket_agents_tenant_id_user_id'))
    )
    with op.batch_alter_table('ticket_agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_agents_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ticket_routing_decisions',
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('team_id', BigId, nullable=True),
    sa.Column('assignee_id', BigId, nullable=True),
    sa.Column('strategy', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    *_tenant('ticket_routing_decisions'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_routing_decisions_ticket_id_tickets')),
    )
    with op.batch_alter_table('ticket_routing_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_routing_decisions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_routing_decisions_tenant_id_ticket_id_id'), ['tenant_id', 'ticket_id', 'id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', scrm.core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('required_skills', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_index(batch_op.f('ix_tickets_tenant_id_team_id_queued_at'), ['tenant_id', 'team_id', 'queued_at'], unique=False)
        batch_op.add_column(sa.Column('due_next_response_at', scrm.core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('warn_next_response_at', scrm.core.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ticket_sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('ticket_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_customer', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('ticket_comments', schema=None) as batch_op:
        batch_op.drop_column('from_customer')
    with op.batch_alter_table('ticket_sla_policies', schema=None) as batch_op:
        batch_op.drop_column('escalation')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('warn_next_response_at')
        batch_op.drop_column('order_line_id')
        batch_op.drop_column('due_next_response_at')
        batch_op.drop_index(batch_op.f('ix_tickets_tenant_id_team_id_queued_at'))
        batch_op.drop_column('required_skills')
        batch_op.drop_column('queued_at')
    op.drop_table('ticket_routing_decisions')
    op.drop_table('ticket_agents')
    op.drop_table('ticket_team_members')
    op.drop_table('ticket_teams')
