"""Who an incoming lead may be (domain/identity.py says what matches): the earliest lead, contact and
account sharing one of its keys, found in SQL and checked against the keys in Python.

Leads carry their keys in indexed columns (email_key, phone_key, company_key). Contacts and accounts do
not: their candidates are found by the e-mail lower-cased, by the phone number's last digits once the
usual separators are removed, and by the first word of the company's name, then each candidate's own
keys are computed here and compared. That reads contacts and accounts without an index (a known cost,
docs/decisions.md), in one statement per incoming lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.identity import Identity, Known, MatchKey, company_key, email_key, phone_key
from persistence import tables

_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")


def _digits(column: Any) -> Any:
    for separator in _SEPARATORS:
        column = func.replace(column, separator, "")
    return column


def _reasons(identity: Identity, email: str | None, phone: str | None, company: str | None) -> tuple[MatchKey, ...]:
    found = []
    if identity.email and email_key(email) == identity.email:
        found.append(MatchKey.EMAIL)
    if identity.phone and phone_key(phone) == identity.phone:
        found.append(MatchKey.PHONE)
    if identity.company and company_key(company) == identity.company:
        found.append(MatchKey.COMPANY)
    return tuple(found)


def _phone_clause(column: Any, identity: Identity) -> Any:
    if not identity.phone:
        return false()
    tail = identity.phone.lstrip("+")[-6:]
    return and_(column.is_not(None), _digits(column).like(f"%{tail}"))


async def known(conn: AsyncConnection, identity: Identity, exclude_lead: int | None = None) -> list[Known]:
    """The earliest lead (not merged away, not anonymized), contact and account sharing a key with
    `identity`, each with the keys it shares: one statement (the three candidate reads in a UNION ALL)."""
    if not identity:
        return []
    lead = tables.leads
    either = [
        lead.c.email_key == identity.email if identity.email else false(),
        lead.c.phone_key == identity.phone if identity.phone else false(),
        lead.c.company_key == identity.company if identity.company else false(),
    ]
    # Every lead found shares a key: the earliest is the one (a subquery, for its ORDER BY and LIMIT).
    earliest = (
        select(lead.c.id, lead.c.email, lead.c.phone, lead.c.company)
        .where(
            or_(*either),
            lead.c.merged_into_id.is_(None),
            lead.c.anonymized.is_(False),
            *([lead.c.id != exclude_lead] if exclude_lead is not None else []),
        )
        .order_by(lead.c.id)
        .limit(1)
        .subquery()
    )
    c, a = tables.contacts, tables.accounts
    first_word = identity.company.split()[0] if identity.company else None
    candidates = union_all(
        select(literal("Lead").label("kind"), earliest.c.id, earliest.c.email, earliest.c.phone, earliest.c.company),
        select(literal("Contact"), c.c.id, c.c.email, c.c.phone, null()).where(
            or_(
                func.lower(c.c.email) == identity.email if identity.email else false(),
                _phone_clause(c.c.phone, identity),
            )
        ),
        select(literal("Account"), a.c.id, a.c.email, a.c.phone, a.c.name).where(
            or_(
                func.lower(a.c.email) == identity.email if identity.email else false(),
                _phone_clause(a.c.phone, identity),
                func.lower(a.c.name).startswith(first_word, autoescape=True) if first_word else false(),
            )
        ),
    )
    rows = sorted(await conn.execute(candidates), key=lambda r: (r[0], r[1]))
    found: dict[str, Known] = {}
    for kind, key, email, phone, name in rows:
        if kind in found:
            continue
        if reasons := _reasons(identity, email, phone, name):
            found[kind] = Known(kind, key, reasons)
    return list(found.values())
