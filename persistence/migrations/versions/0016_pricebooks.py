"""Price-book rules (issue 18, item 3): the accounts a price book is for (price_book_accounts), prices per
brand and product version ('' for any, in the unique key of an entry), and a bundle's description.

Revision ID: 0016_pricebooks
Revises: 0015_files
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0016_pricebooks'
down_revision = '0015_files'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('price_book_accounts',
    sa.Column('price_book_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_price_book_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_price_book_accounts_price_book_id_price_books'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('price_book_id', 'account_id', name=op.f('pk_price_book_accounts'))
    )
    with op.batch_alter_table('price_book_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_book_accounts_account_id'), ['account_id'], unique=False)
    # SQLite copies the table to change its unique key: keep AUTOINCREMENT (migration 0003).
    with op.batch_alter_table('price_entries', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column('brand', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('product_version', sa.String(length=100), server_default='', nullable=False))
        batch_op.drop_constraint('uq_price_entries_book_unit_currency', type_='unique')
        batch_op.create_unique_constraint(
            'uq_price_entries_book_unit_currency_brand_version',
            ['price_book_id', 'unit_id', 'price_currency', 'brand', 'product_version'],
        )
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.drop_column('description')
    op.execute("DELETE FROM price_entries WHERE brand <> '' OR product_version <> ''")
    with op.batch_alter_table('price_entries', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint('uq_price_entries_book_unit_currency_brand_version', type_='unique')
        batch_op.create_unique_constraint(
            'uq_price_entries_book_unit_currency', ['price_book_id', 'unit_id', 'price_currency']
        )
        batch_op.drop_column('product_version')
        batch_op.drop_column('brand')
    with op.batch_alter_table('price_book_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_book_accounts_account_id'))
    op.drop_table('price_book_accounts')
