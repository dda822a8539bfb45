"""Custom fields (issue 17, item 5): admin-defined field definitions per entity type
(`custom_field_definitions`), and a `custom_fields` JSON object of values on accounts, contacts,
opportunities and leads. The accounts' free `custom_attributes` become their `custom_fields` (the column is
renamed; no value is rewritten), and every key they held becomes an ACCOUNT definition of type STRING,
labelled with its key, active and not mandatory, so every value stays readable and writable.

Revision ID: 0021_customfields
Revises: 0020_lists
Create Date: 2026-12-08
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0021_customfields'
down_revision = '0020_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'custom_field_definitions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entity_type', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=8), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('mandatory', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_definitions')),
        sa.UniqueConstraint('entity_type', 'key', name='uq_custom_field_definitions_key'),
    )
    # Both databases rename a column in place (SQLite since 3.25): no table is copied, no value rewritten.
    op.execute('ALTER TABLE accounts RENAME COLUMN custom_attributes TO custom_fields')
    for table in ('contacts', 'opportunities', 'leads'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('custom_fields', sa.JSON(), server_default='{}', nullable=False))

    bind = op.get_bind()
    # Every key any account holds, read by the database (no account row travels to Python).
    if bind.dialect.name == 'postgresql':
        found = (
            "SELECT DISTINCT json_object_keys(custom_fields) FROM accounts WHERE json_typeof(custom_fields) = 'object'"
        )
    else:
        found = (
            'SELECT DISTINCT found.key FROM accounts, json_each(accounts.custom_fields) AS found '
            "WHERE json_type(accounts.custom_fields) = 'object'"
        )
    keys = {key for (key,) in bind.execute(sa.text(found)) if key is not None}
    definitions = sa.table(
        'custom_field_definitions',
        sa.column('entity_type', sa.String), sa.column('key', sa.String), sa.column('label', sa.String),
        sa.column('type', sa.String), sa.column('options', sa.JSON), sa.column('mandatory', sa.Boolean),
        sa.column('active', sa.Boolean), sa.column('position', sa.Integer),
    )
    if keys:
        op.bulk_insert(definitions, [
            {'entity_type': 'ACCOUNT', 'key': key, 'label': key[:200], 'type': 'STRING', 'options': [],
             'mandatory': False, 'active': True, 'position': index}
            for index, key in enumerate(sorted(keys))
        ])


def downgrade() -> None:
    for table in ('leads', 'opportunities', 'contacts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('custom_fields')
    op.execute('ALTER TABLE accounts RENAME COLUMN custom_fields TO custom_attributes')
    op.drop_table('custom_field_definitions')
