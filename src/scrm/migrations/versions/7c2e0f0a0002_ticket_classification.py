"""ticket classification: rules, classifier models, corrections, settings; tickets' classification columns

Revision ID: 7c2e0f0a0002
Revises: 7c2e0f0a0001
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scrm.core.db


revision = '7c2e0f0a0002'
down_revision = '7c2e0f0a0001'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _tenant_columns() -> list[sa.Column]:
    return [
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', BIG_ID, nullable=False),
    ]


def upgrade() -> None:
    op.create_table('ticket_classification_rules',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phrases', sa.JSON(), nullable=False),
    sa.Column('match_mode', sa.String(length=3), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('creates_ticket_from_chat', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    *_tenant_columns(),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_classification_rules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_classification_rules')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_ticket_classification_rules_tenant_id_name'))
    )
    with op.batch_alter_table('ticket_classification_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_classification_rules_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_classification_rules_tenant_id_position_id'), ['tenant_id', 'position', 'id'], unique=False)

    op.create_table('ticket_classifier_models',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('vocabulary_size', sa.Integer(), nullable=False),
    sa.Column('sample_count', sa.Integer(), nullable=False),
    sa.Column('held_out_count', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.Column('macro_f1', sa.Float(), nullable=True),
    sa.Column('baseline_accuracy', sa.Float(), nullable=True),
    sa.Column('urgency_accuracy', sa.Float(), nullable=True),
    sa.Column('training_seconds', sa.Float(), nullable=False),
    sa.Column('job_id', BIG_ID, nullable=True),
    sa.Column('trained_by', sa.String(length=100), nullable=False),
    sa.Column('trained_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    *_tenant_columns(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_classifier_models_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_classifier_models')),
    sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_ticket_classifier_models_tenant_id_version'))
    )
    with op.batch_alter_table('ticket_classifier_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_classifier_models_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_classifier_models_tenant_id_active'), ['tenant_id', 'active'], unique=False)

    op.create_table('ticket_classification_corrections',
    sa.Column('ticket_id', BIG_ID, nullable=False),
    sa.Column('predicted_category', sa.String(length=64), nullable=True),
    sa.Column('predicted_by', sa.String(length=10), nullable=False),
    sa.Column('predicted_confidence', sa.Float(), nullable=True),
    sa.Column('corrected_category', sa.String(length=64), nullable=False),
    sa.Column('previous_priority', sa.String(length=10), nullable=False),
    sa.Column('corrected_priority', sa.String(length=10), nullable=True),
    sa.Column('by_user_id', BIG_ID, nullable=True),
    sa.Column('by_label', sa.String(length=100), nullable=False),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    *_tenant_columns(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_classification_corrections_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_classification_corrections_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_classification_corrections'))
    )
    with op.batch_alter_table('ticket_classification_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_classification_corrections_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_classification_corrections_tenant_id_ticket_id_id'), ['tenant_id', 'ticket_id', 'id'], unique=False)

    op.create_table('ticket_classifier_settings',
    sa.Column('triage_threshold', sa.Float(), nullable=False),
    sa.Column('urgency_threshold', sa.Float(), nullable=False),
    *_tenant_columns(),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_classifier_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_classifier_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_ticket_classifier_settings_tenant_id'))
    )
    with op.batch_alter_table('ticket_classifier_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_classifier_settings_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('classified_by', sa.String(length=10), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('classification_confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('needs_triage', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_tickets_tenant_id_needs_triage_id'), ['tenant_id', 'needs_triage', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_tenant_id_needs_triage_id'))
        batch_op.drop_column('needs_triage')
        batch_op.drop_column('classification_confidence')
        batch_op.drop_column('classified_by')

    with op.batch_alter_table('ticket_classifier_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_classifier_settings_tenant_id'))
    op.drop_table('ticket_classifier_settings')

    with op.batch_alter_table('ticket_classification_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_classification_corrections_tenant_id_ticket_id_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_classification_corrections_tenant_id'))
    op.drop_table('ticket_classification_corrections')

    with op.batch_alter_table('ticket_classifier_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_classifier_models_tenant_id_active'))
        batch_op.drop_index(batch_op.f('ix_ticket_classifier_models_tenant_id'))
    op.drop_table('ticket_classifier_models')

    with op.batch_alter_table('ticket_classification_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_classification_rules_tenant_id_position_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_classification_rules_tenant_id'))
    op.drop_table('ticket_classification_rules')
