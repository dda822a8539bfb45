"""The demo data is deterministic, covers every kind of thing, and keeps the sales rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domain.enums import AccountKind, ActivityType, LeadStatus, Stage
from persistence import tables
from persistence.db import create_engine
from persistence.seed import SeedError, parse_size, seed
from persistence.tables import metadata

ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)


async def _fresh(path) -> object:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


async def _dump(engine) -> dict[str, list[tuple]]:
    async with engine.connect() as conn:
        return {
            table.name: [tuple(r) for r in await conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in metadata.sorted_tables
        }


async def test_the_same_size_and_anchor_give_the_same_rows(tmp_path):
    first, second = await _fresh(tmp_path / "a.sqlite3"), await _fresh(tmp_path / "b.sqlite3")
    await seed(first, "small", anchor=ANCHOR)
    await seed(second, "small", anchor=ANCHOR)
    assert await _dump(first) == await _dump(second)
    await first.dispose()
    await second.dispose()


@pytest.fixture
async def seeded(tmp_path):
    engine = await _fresh(tmp_path / "seed.sqlite3")
    summary = await seed(engine, "small", anchor=ANCHOR)
    yield engine, summary
    await engine.dispose()


async def _values(engine, column) -> set:
    async with engine.connect() as conn:
        return set((await conn.execute(select(column).distinct())).scalars())


async def test_every_stage_status_kind_and_activity_type_appears(seeded):
    engine, summary = seeded
    assert summary.counts["opportunities"] == 200
    assert await _values(engine, tables.opportunities.c.stage) == {s.value for s in Stage}
    assert await _values(engine, tables.leads.c.status) == {s.value for s in LeadStatus}
    assert await _values(engine, tables.accounts.c.kind) == {k.value for k in AccountKind}
    assert await _values(engine, tables.sales_activities.c.type) == {a.value for a in ActivityType}
    assert await _values(engine, tables.price_entries.c.price_currency) == {"EUR", "USD", "NOK"}


async def test_won_deals_have_contracts_adding_up_to_the_active_quote_and_the_actual_revenue(seeded):
    engine, _ = seeded
    async with engine.connect() as conn:
        won = list(await conn.execute(select(tables.opportunities).where(tables.opportunities.c.stage == "WON")))
        contracts = defaultdict(Decimal)
        for row in await conn.execute(select(tables.contracts.c.opportunity_id, tables.contracts.c.value_amount)):
            contracts[row.opportunity_id] += row.value_amount
        active_totals = defaultdict(Decimal)
        stmt = (
            select(tables.quotes.c.opportunity_id, tables.quote_items.c.total)
            .join(tables.quote_items, tables.quote_items.c.quote_id == tables.quotes.c.id)
            .where(tables.quotes.c.is_active.is_(True))
        )
        for row in await conn.execute(stmt):
            active_totals[row.opportunity_id] += row.total
        two_active = list(
            await conn.execute(
                select(tables.quotes.c.opportunity_id)
                .where(tables.quotes.c.is_active.is_(True))
                .group_by(tables.quotes.c.opportunity_id)
                .having(func.count() > 1)
            )
        )
    assert won
    for opportunity in won:
        assert opportunity.locked
        assert contracts[opportunity.id] == active_totals[opportunity.id] == opportunity.actual_revenue_amount
    assert two_active == []


async def test_each_account_has_1_to_10_opportunities_and_deals_in_late_stages_have_one_active_quote(seeded):
    engine, _ = seeded
    async with engine.connect() as conn:
        per_account = dict(
            list(
                await conn.execute(
                    select(tables.accounts.c.id, func.count(tables.opportunities.c.id))
                    .join(tables.opportunities, tables.opportunities.c.account_id == tables.accounts.c.id, isouter=True)
                    .group_by(tables.accounts.c.id)
                )
            )
        )
        active = dict(
            list(
                await conn.execute(
                    select(tables.opportunities.c.id, func.count(tables.quotes.c.id))
                    .join(
                        tables.quotes,
                        (tables.quotes.c.opportunity_id == tables.opportunities.c.id)
                        & tables.quotes.c.is_active.is_(True),
                        isouter=True,
                    )
                    .where(tables.opportunities.c.stage.in_(["WON", "NEGOTIATION", "PROPOSAL"]))
                    .group_by(tables.opportunities.c.id)
                )
            )
        )
    assert sum(per_account.values()) == 200
    assert min(per_account.values()) >= 1 and max(per_account.values()) <= 10
    assert active and set(active.values()) == {1}


async def test_qualified_leads_point_at_the_account_and_opportunity_they_became(seeded):
    engine, _ = seeded
    async with engine.connect() as conn:
        qualified = list(
            await conn.execute(
                select(tables.leads.c.account_id, tables.opportunities.c.account_id.label("opportunity_account"))
                .join(tables.opportunities, tables.opportunities.c.id == tables.leads.c.opportunity_id, isouter=True)
                .where(tables.leads.c.status == "QUALIFIED")
            )
        )
        disqualified_without_reason = (
            await conn.execute(
                select(func.count())
                .select_from(tables.leads)
                .where(tables.leads.c.status == "DISQUALIFIED", tables.leads.c.disqualification_reason.is_(None))
            )
        ).scalar_one()
    assert qualified
    assert all(row.account_id is not None and row.account_id == row.opportunity_account for row in qualified)
    assert disqualified_without_reason == 0


async def test_the_summary_names_the_demo_admin_and_partner(seeded):
    engine, summary = seeded
    async with engine.connect() as conn:
        admin = (await conn.execute(select(tables.users).where(tables.users.c.id == summary.admin_user_id))).one()
        partner = (await conn.execute(select(tables.partners).where(tables.partners.c.id == summary.partner_id))).one()
        admins = (
            await conn.execute(select(func.count()).select_from(tables.users).where(tables.users.c.role == "ADMIN"))
        ).scalar_one()
    assert (admin.name, admin.email, admin.role, admins) == ("Ada Admin", "admin@salesgraph.example", "ADMIN", 1)
    assert (partner.name, partner.email) == ("Nordic Partners AS", "portal@nordicpartners.example")


async def test_a_single_opportunity_is_a_valid_size(tmp_path):
    engine = await _fresh(tmp_path / "one.sqlite3")
    summary = await seed(engine, 1, anchor=ANCHOR)
    await engine.dispose()
    assert summary.counts["opportunities"] == 1


async def test_the_bundle_weights_sum_to_100(seeded):
    engine, _ = seeded
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.sum(tables.bundle_components.c.weight)))).scalar_one()
    assert total == 100


async def test_seeding_a_database_that_has_data_is_refused(seeded):
    engine, _ = seeded
    with pytest.raises(SeedError, match="already has accounts"):
        await seed(engine, "small", anchor=ANCHOR)


def test_sizes_are_words_or_positive_numbers():
    assert parse_size("medium") == 10_000 and parse_size("large") == 100_000 and parse_size("1234") == 1234
    for bad in ("huge", "0", "-3", ""):
        with pytest.raises(ValueError):
            parse_size(bad)
