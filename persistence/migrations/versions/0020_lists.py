"""Configurable lists (issue 17, item 5): `list_values` holds the activity types, account types, campaign
statuses, contract categories and contact categories. Today's values become rows with the key rows already
store (the enum names; every distinct free-text category stored, and what status monitors name), so no row
of data is rewritten. The
contact categories take the "activate lead status" switch of `category_settings` (a category without a
setting had it on, and keeps it on), which is dropped.

Revision ID: 0020_lists
Revises: 0019_board
Create Date: 2026-12-08
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0020_lists'
down_revision = '0019_board'
branch_labels = None
depends_on = None

# Today's values (domain/lists.py DEFAULTS at this revision, copied so the migration never changes with the code).
DEFAULTS = {
    'ACTIVITY_TYPE': [
        ('CALL', 'Call', None), ('EMAIL', 'Email', None), ('MEETING', 'Meeting', None), ('TASK', 'Task', None),
        ('FOLLOW_UP', 'Follow up', None), ('REQUEST', 'Request', None),
    ],
    'ACCOUNT_TYPE': [('PERSON', 'Person', True), ('ORGANIZATION', 'Organization', False), ('LOGIN', 'Login', False)],
    'CAMPAIGN_STATUS': [('ACTIVE', 'Active', False), ('ARCHIVED', 'Archived', True)],
    'CONTRACT_CATEGORY': [
        ('IMPLEMENTATION_SERVICE', 'Implementation service', None), ('SOFTWARE', 'Software', None),
        ('SUPPORT_SERVICE', 'Support service', None), ('HARDWARE', 'Hardware', None), ('TRAINING', 'Training', None),
        ('OTHER', 'Other', None),
    ],
    'CONTACT_CATEGORY': [],
}
ATTRIBUTE = {'ACCOUNT_TYPE': 'person_name', 'CAMPAIGN_STATUS': 'archived', 'CONTACT_CATEGORY': 'lead_status'}
# A stored value no default names (a free-text category, or a value written outside the API) gets this attribute.
ATTRIBUTE_DEFAULT = {'person_name': False, 'archived': False, 'lead_status': True}
# Where each list's values are stored today.
STORED = {
    'ACTIVITY_TYPE': [('sales_activities', 'type')],
    'ACCOUNT_TYPE': [('accounts', 'kind')],
    'CAMPAIGN_STATUS': [('campaigns', 'status')],
    'CONTRACT_CATEGORY': [('products', 'category'), ('contracts', 'category')],
    'CONTACT_CATEGORY': [('accounts', 'category'), ('category_settings', 'category')],
}


def upgrade() -> None:
    op.create_table('list_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_name', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('person_name', sa.Boolean(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=True),
    sa.Column('lead_status', sa.Boolean(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_values')),
    sa.UniqueConstraint('list_name', 'key', name=op.f('uq_list_values_list_name')),
    sqlite_autoincrement=True
    )
    conn = op.get_bind()
    # What status monitors name: activity types in their rules, categories in their scopes.
    named = {'ACTIVITY_TYPE': set(), 'CONTACT_CATEGORY': set()}
    for rule, scope in conn.execute(sa.text('SELECT rule, scope FROM status_monitors')):
        rule = json.loads(rule) if isinstance(rule, str) else rule
        scope = json.loads(scope) if isinstance(scope, str) else scope
        named['ACTIVITY_TYPE'] |= set((rule or {}).get('activity_types') or ())
        named['CONTACT_CATEGORY'] |= set((scope or {}).get('categories') or ())
    switched = {
        row.category: bool(row.lead_status)
        for row in conn.execute(sa.text('SELECT category, lead_status FROM category_settings'))
    }
    values = sa.table(
        'list_values', *(sa.column(c) for c in (
            'list_name', 'key', 'label', 'position', 'active', 'person_name', 'archived', 'lead_status'
        ))
    )
    rows = []
    for list_name, defaults in DEFAULTS.items():
        attribute = ATTRIBUTE.get(list_name)
        keys = {key: (label, flag) for key, label, flag in defaults}
        stored = set(named.get(list_name, ()))
        for table, column in STORED[list_name]:
            stored |= {
                value for (value,) in conn.execute(
                    sa.text(f'SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL')
                )
            }
        for key in sorted(stored - keys.keys()):
            flag = ATTRIBUTE_DEFAULT.get(attribute) if attribute else None
            if list_name == 'CONTACT_CATEGORY':
                flag = switched.get(key, True)
            keys[key] = (key, flag)
        for position, (key, (label, flag)) in enumerate(keys.items()):
            row = {
                'list_name': list_name, 'key': key, 'label': label, 'position': position, 'active': True,
                'person_name': None, 'archived': None, 'lead_status': None,
            }
            if attribute:
                row[attribute] = flag
            rows.append(row)
    if rows:
        op.bulk_insert(values, rows)
    op.drop_table('category_settings')


def downgrade() -> None:
    op.create_table('category_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('lead_status', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_settings')),
    sa.UniqueConstraint('category', name=op.f('uq_category_settings_category')),
    sqlite_autoincrement=True
    )
    op.execute(
        "INSERT INTO category_settings (category, lead_status) SELECT key, lead_status FROM list_values "
        "WHERE list_name = 'CONTACT_CATEGORY' AND lead_status IS NOT NULL"
    )
    op.drop_table('list_values')
