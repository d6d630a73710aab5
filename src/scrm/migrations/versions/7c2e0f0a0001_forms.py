"""forms, form versions, form submissions; tickets.form_version_id; the built-in roles of existing
tenants get the form permissions

Revision ID: 7c2e0f0a0001
Revises: 6b1157fbc1a1
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scrm.core.db


revision = '7c2e0f0a0001'
down_revision = '6b1157fbc1a1'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('forms',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ticket_type', sa.String(length=64), nullable=True),
    sa.Column('public_key', sa.String(length=40), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('on_submit', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', BIG_ID, nullable=False),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_forms_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms')),
    sa.UniqueConstraint('public_key', name=op.f('uq_forms_public_key')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_forms_tenant_id_name')),
    sa.UniqueConstraint('tenant_id', 'ticket_type', name=op.f('uq_forms_tenant_id_ticket_type'))
    )
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forms_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('form_versions',
    sa.Column('form_id', BIG_ID, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('schema', sa.JSON(), nullable=False),
    sa.Column('ui', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_versions_form_id_forms')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_form_versions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('tenant_id', 'form_id', 'version', name=op.f('uq_form_versions_tenant_id_form_id_version'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('form_submissions',
    sa.Column('form_id', BIG_ID, nullable=False),
    sa.Column('form_version_id', BIG_ID, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=True),
    sa.Column('ticket_id', BIG_ID, nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', scrm.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_submissions_form_id_forms')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_form_submissions_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_form_submissions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions'))
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submissions_ip_created_at'), ['ip', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submissions_tenant_id_form_id_id'), ['tenant_id', 'form_id', 'id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_version_id', BIG_ID, nullable=True))

    _grant_to_builtin_roles(FORM_GRANTS)


# What `scrm.identity.permissions.BUILTIN_ROLES` grants new tenants, given to existing ones too.
FORM_GRANTS = {
    "admin": ["forms.view", "forms.manage"],
    "operator": ["forms.view", "forms.manage"],
    "agent": ["forms.view"],
}


def _grant_to_builtin_roles(grants: dict[str, list[str]]) -> None:
    roles = sa.table(
        "roles",
        sa.column("id", sa.BigInteger()),
        sa.column("key", sa.String()),
        sa.column("is_builtin", sa.Boolean()),
        sa.column("permissions", sa.JSON()),
    )
    connection = op.get_bind()
    found = connection.execute(
        sa.select(roles.c.id, roles.c.key, roles.c.permissions).where(
            roles.c.is_builtin == sa.true(), roles.c.key.in_(list(grants))
        )
    ).all()
    for role_id, key, permissions in found:
        held = list(permissions or [])
        wanted = held + [code for code in grants[key] if code not in held]
        if wanted != held:
            connection.execute(roles.update().where(roles.c.id == role_id).values(permissions=wanted))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('form_version_id')

    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_tenant_id_form_id_id'))
        batch_op.drop_index(batch_op.f('ix_form_submissions_ip_created_at'))
        batch_op.drop_index(batch_op.f('ix_form_submissions_tenant_id'))

    op.drop_table('form_submissions')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_tenant_id'))

    op.drop_table('form_versions')
    with op.batch_alter_table('forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forms_tenant_id'))

    op.drop_table('forms')
