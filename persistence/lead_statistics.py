"""Lead statistics: per source and campaign, of the leads created in a period that the caller may see,
how many there are, how many were qualified and disqualified, the conversion rate and the time to
qualify. One statement, whatever the number of leads or groups.

A lead counts in the period it was created in (a cohort): `qualified` are those of the cohort that are
QUALIFIED now, and their time to qualify is from creation to the status change, in whole seconds (each
instant's epoch second, so SQLite and PostgreSQL sum the same integers). Leads merged into another are
duplicates folded away and do not count. A partner reads no campaigns: its leads are not split by one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, cast, func, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence import tables
from persistence.visibility import PARTNER, Viewer


def _epoch(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.strftime("%s", column), Integer)


async def lead_statistics(
    conn: AsyncConnection, viewer: Viewer, since: datetime, until: datetime, by_source: bool, by_campaign: bool
) -> list[dict[str, Any]]:
    """Rows of {source, campaign_id, created, qualified, disqualified, qualify_seconds, qualify_count} for
    the leads created in [since, until) that `viewer` may see, one per group present, ordered by group."""
    lead = tables.leads
    dialect = conn.dialect.name
    by_campaign = by_campaign and viewer.role != PARTNER
    source = lead.c.utm_source if by_source else null()
    campaign = lead.c.campaign_id if by_campaign else null()
    qualified = lead.c.status == "QUALIFIED"
    timed = qualified & lead.c.status_changed_at.is_not(None)
    seconds = _epoch(lead.c.status_changed_at, dialect) - _epoch(lead.c.created_at, dialect)
    rule = viewer.rule(lead)
    stmt = (
        select(
            source.label("source"),
            campaign.label("campaign_id"),
            func.count().label("created"),
            func.sum(case((qualified, 1), else_=0)).label("qualified"),
            func.sum(case((lead.c.status == "DISQUALIFIED", 1), else_=0)).label("disqualified"),
            func.sum(case((timed, seconds), else_=0)).label("qualify_seconds"),
            func.sum(case((timed, 1), else_=0)).label("qualify_count"),
        )
        .where(
            lead.c.created_at >= since,
            lead.c.created_at < until,
            lead.c.merged_into_id.is_(None),
            *([rule] if rule is not None else []),
        )
        .group_by(*([lead.c.utm_source] if by_source else []), *([lead.c.campaign_id] if by_campaign else []))
    )
    rows = [dict(r._mapping) for r in await conn.execute(stmt, viewer.params)]
    rows = [r for r in rows if r["created"]]
    return sorted(rows, key=lambda r: (r["source"] is None, r["source"] or "", r["campaign_id"] or 0))
