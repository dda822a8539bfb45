"""History names rows as rows: values that held a bare key become `{"ref": type, "id": key}`

A history value that names a row (an account an opportunity moved to, a partner, a parent account,
the contact of a business role, ...) used to hold the row's bare key, which the API showed to every
reader of the history. The API now shows such a value with the reader's rules (its global id, or
null for a row the reader may not see), and it recognises it by this form, so the entries written
before are rewritten to it. Data only: no table changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (audited entity, field) -> the type of the row its value names, as the code wrote them up to 0005:
# the foreign keys of accounts, opportunities and quotes, and the links the workflows audit.
REFERENCES = {
    ("Account", "managerId"): "User",
    ("Account", "parentId"): "Account",
    ("Account", "createdById"): "User",
    ("Account", "partnerId"): "Partner",
    ("Account", "linkedAccounts"): "Account",
    ("Account", "favouriteOf"): "User",
    ("Opportunity", "accountId"): "Account",
    ("Opportunity", "ownerId"): "User",
    ("Opportunity", "partnerId"): "Partner",
    ("Opportunity", "campaignId"): "Campaign",
    ("Opportunity", "relatedAccounts"): "Account",
    ("Quote", "opportunityId"): "Opportunity",
    ("Quote", "priceBookId"): "PriceBook",
}
BUSINESS_ROLE = re.compile(r"^(?P<role>.*) \((?P<contact>[0-9]+)\)$")
FIELDS = sorted({field for _, field in REFERENCES} | {"businessRoles", "created", "deleted"})

entries = sa.table(
    "audit_entries",
    sa.column("id", sa.Integer),
    sa.column("entity_type", sa.String),
    sa.column("field", sa.String),
    sa.column("old_value", sa.JSON),
    sa.column("new_value", sa.JSON),
)


def _is_key(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_ref(entity_type: str, field: str, value: Any) -> Any:
    if field == "businessRoles":
        found = BUSINESS_ROLE.match(value) if isinstance(value, str) else None
        if found is None:
            return value
        return {"role": found["role"], "contact": {"ref": "Contact", "id": int(found["contact"])}}
    if field in ("created", "deleted"):
        # A row without a name was labelled with its own key.
        return {"ref": entity_type, "id": value} if _is_key(value) else value
    target = REFERENCES.get((entity_type, field))
    return {"ref": target, "id": value} if target and _is_key(value) else value


def _to_key(entity_type: str, field: str, value: Any) -> Any:
    if field == "businessRoles" and isinstance(value, dict) and isinstance(value.get("contact"), dict):
        return f"{value['role']} ({value['contact']['id']})"
    if isinstance(value, dict) and value.keys() == {"ref", "id"}:
        return value["id"]
    return value


def _rewrite(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(entries.c.id, entries.c.entity_type, entries.c.field, entries.c.old_value, entries.c.new_value)
        .where(entries.c.field.in_(FIELDS))
        .order_by(entries.c.id)
    ).all()
    updates = []
    for row in rows:
        old = change(row.entity_type, row.field, row.old_value)
        new = change(row.entity_type, row.field, row.new_value)
        if old != row.old_value or new != row.new_value:
            updates.append({"row_id": row.id, "old": old, "new": new})
    statement = (
        sa.update(entries)
        .where(entries.c.id == sa.bindparam("row_id"))
        .values(old_value=sa.bindparam("old", type_=sa.JSON), new_value=sa.bindparam("new", type_=sa.JSON))
    )
    for start in range(0, len(updates), 1000):
        bind.execute(statement, updates[start : start + 1000])


def upgrade() -> None:
    _rewrite(_to_ref)


def downgrade() -> None:
    _rewrite(_to_key)
