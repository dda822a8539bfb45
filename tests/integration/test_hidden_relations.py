"""Filters on a relation are not oracles: for every role, every list and every filter that names a
related row, an id the caller may not see answers exactly like an id that does not exist (count and
rows), and `has…` filters count only related rows the caller may see. Before probing, rows the
caller sees are made to point at rows it does not (a hidden parent account, another partner, an
internal campaign, an opportunity out of sight), as ordinary admin activity would."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.integration.test_visibility import ROLES, Caller, World, listed

LOADED = ("users", "accounts", "opportunities", "quotes", "contracts", "contacts", "leads", "sales_activities")


def _first(rows: list, ok) -> object:
    found = next((r for r in rows if ok(r)), None)
    assert found is not None, "the seed has such a row"
    return found


async def load(writable, callers: dict[str, Caller]) -> World:
    rows: dict[str, list] = {}
    async with writable.engine.connect() as conn:
        for name in (*LOADED, "partners", "campaigns"):
            rows[name] = list(await conn.execute(select(getattr(tables, name))))
    return World(rows, callers)


@pytest.fixture(scope="module")
async def world(writable) -> World:
    """The seeded world after rows each caller sees were pointed at rows it may not see."""
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in users if u.role == role)
        token = await issue_token(writable.engine, name=f"{role} tests", user_id=user.id)
        callers[role] = Caller(role, token, user_id=user.id)
    seeded_world = await load(writable, callers)
    rows = seeded_world.rows
    partner = callers["PARTNER"]
    caller_users = {c.user_id for c in callers.values() if c.user_id is not None}
    # A private account nobody of the callers created: hidden from every one of them.
    hidden_account = _first(rows["accounts"], lambda a: a.is_private and a.created_by_id not in caller_users)
    async with writable.engine.begin() as conn:
        other_partner = (
            await conn.execute(
                insert(tables.partners)
                .values(name="Rival Partners AS", email="rival@example.com", country="NO")
                .returning(tables.partners.c.id)
            )
        ).scalar_one()
        campaign = (
            await conn.execute(select(tables.campaigns.c.id).order_by(tables.campaigns.c.id).limit(1))
        ).scalar_one_or_none()
        if campaign is None:
            campaign = (
                await conn.execute(
                    insert(tables.campaigns).values(name="Internal push").returning(tables.campaigns.c.id)
                )
            ).scalar_one()
        qualified: set[int] = set()  # one lead per caller, so no caller's activity undoes another's
        for role in ROLES:
            caller = callers[role]
            # A visible account gets a parent the caller may not see.
            account = _first(
                rows["accounts"],
                lambda a, caller=caller: a.id in seeded_world.accounts(caller) and a.id != hidden_account.id,
            )
            await conn.execute(
                update(tables.accounts).where(tables.accounts.c.id == account.id).values(parent_id=hidden_account.id)
            )
            # A visible lead was qualified into an opportunity the caller may not see.
            opportunity = _first(
                rows["opportunities"],
                lambda o, caller=caller: o.id not in seeded_world.opportunities(caller),
            )
            lead = _first(
                rows["leads"], lambda x, caller=caller: x.id in seeded_world.leads(caller) and x.id not in qualified
            )
            qualified.add(lead.id)
            await conn.execute(
                update(tables.leads).where(tables.leads.c.id == lead.id).values(opportunity_id=opportunity.id)
            )
        # An account the partner sees through its opportunity is handed to another partner, and so is an
        # opportunity it sees through its account (which also joins an internal campaign).
        accounts = {a.id: a for a in rows["accounts"]}
        assigned = _first(
            rows["opportunities"],
            lambda o: not accounts[o.account_id].is_private and o.account_id not in seeded_world.accounts(partner),
        )
        await conn.execute(
            update(tables.opportunities)
            .where(tables.opportunities.c.id == assigned.id)
            .values(partner_id=partner.partner_id)
        )
        await conn.execute(
            update(tables.accounts).where(tables.accounts.c.id == assigned.account_id).values(partner_id=other_partner)
        )
        through_account = _first(
            rows["opportunities"],
            lambda o: (
                o.id in seeded_world.opportunities(partner) and accounts[o.account_id].partner_id == partner.partner_id
            ),
        )
        await conn.execute(
            update(tables.opportunities)
            .where(tables.opportunities.c.id == through_account.id)
            .values(partner_id=other_partner, campaign_id=campaign)
        )
        mine = _first(rows["leads"], lambda x: x.assigned_partner_id == partner.partner_id)
        await conn.execute(update(tables.leads).where(tables.leads.c.id == mine.id).values(campaign_id=campaign))
    return await load(writable, callers)


def partners(world: World, caller) -> set[int]:
    every = {p.id for p in world.rows["partners"]}
    return {caller.partner_id} if caller.role == "PARTNER" else every


def campaigns(world: World, caller) -> set[int]:
    return set() if caller.role == "PARTNER" else {c.id for c in world.rows["campaigns"]}


VISIBLE = {
    "Account": World.accounts,
    "Opportunity": World.opportunities,
    "Lead": World.leads,
    "Partner": partners,
    "Campaign": campaigns,
}
TABLES = {
    "Account": "accounts",
    "Opportunity": "opportunities",
    "Lead": "leads",
    "Partner": "partners",
    "Campaign": "campaigns",
}

# (list, filter argument, the column it tests, the type of row it names)
RELATIONS = [
    ("accounts", "parentId", "parent_id", "Account"),
    ("accounts", "partnerId", "partner_id", "Partner"),
    ("opportunities", "accountId", "account_id", "Account"),
    ("opportunities", "partnerId", "partner_id", "Partner"),
    ("opportunities", "campaignId", "campaign_id", "Campaign"),
    ("contracts", "accountId", "account_id", "Account"),
    ("contracts", "opportunityId", "opportunity_id", "Opportunity"),
    ("contacts", "accountId", "account_id", "Account"),
    ("contacts", "partnerId", "partner_id", "Partner"),
    ("leads", "campaignId", "campaign_id", "Campaign"),
    ("leads", "assignedPartnerId", "assigned_partner_id", "Partner"),
    ("salesActivities", "leadId", "lead_id", "Lead"),
    ("salesActivities", "opportunityId", "opportunity_id", "Opportunity"),
    ("salesActivities", "accountId", "account_id", "Account"),
    ("salesActivities", "partnerId", "partner_id", "Partner"),
]
LISTED = {
    "accounts": ("accounts", World.accounts),
    "opportunities": ("opportunities", World.opportunities),
    "contracts": ("contracts", World.contracts),
    "contacts": ("contacts", World.contacts),
    "leads": ("leads", World.leads),
    "salesActivities": ("sales_activities", World.activities),
}


async def answer(api, field: str, argument: str, global_id: str, token: str) -> dict:
    return (
        await api.data(
            f"query($id: ID) {{ {field}(first: 100, filter: {{{argument}: $id}}) {{ totalCount nodes {{ id }} }} }}",
            {"id": global_id},
            token,
        )
    )[field]


@pytest.mark.parametrize("role", ROLES)
async def test_a_hidden_id_in_any_relation_filter_answers_like_a_missing_one(api, writable, world, role):
    caller = world.callers[role]
    async with writable.engine.connect() as conn:
        highest = max(
            [
                (await conn.execute(select(func.max(getattr(tables, name).c.id)))).scalar_one() or 0
                for name in TABLES.values()
            ]
        )
    missing = highest + 1000
    probed, leaks = 0, []
    for field, argument, column, type_name in RELATIONS:
        table, visible_rows = LISTED[field]
        visible_targets = VISIBLE[type_name](world, caller)
        seen = visible_rows(world, caller)
        hidden = [r.id for r in world.rows[TABLES[type_name]] if r.id not in visible_targets]
        # Prefer hidden rows a visible row refers to: those are the ones a count could reveal.
        referenced = [getattr(r, column) for r in world.rows[table] if r.id in seen and getattr(r, column) in hidden]
        for target in referenced[:2] or hidden[:1]:
            got = await answer(api, field, argument, ids.encode(type_name, target), caller.token)
            nothing = await answer(api, field, argument, ids.encode(type_name, missing), caller.token)
            if not got == nothing == {"totalCount": 0, "nodes": []}:
                leaks.append((field, argument))
            probed += 1
        # A visible related row still filters as before.
        shown = [
            getattr(r, column) for r in world.rows[table] if r.id in seen and getattr(r, column) in visible_targets
        ]
        if shown:
            target = shown[0]
            got = await answer(api, field, argument, ids.encode(type_name, target), caller.token)
            expected = {r.id for r in world.rows[table] if r.id in seen and getattr(r, column) == target}
            assert {ids.decode(n["id"])[1] for n in got["nodes"]} == expected and got["totalCount"] == len(expected)
    assert probed and leaks == []


# (list, has-filter, the columns it tests, the type of row each names)
HAS = [
    ("accounts", "hasParent", [("parent_id", "Account")]),
    ("accounts", "hasPartner", [("partner_id", "Partner")]),
    ("opportunities", "hasPartner", [("partner_id", "Partner")]),
    ("leads", "hasOpportunity", [("opportunity_id", "Opportunity")]),
    ("leads", "hasAssignee", [("assigned_partner_id", "Partner"), ("assigned_user_id", None)]),
]


@pytest.mark.parametrize("role", ROLES)
async def test_has_filters_on_a_relation_count_only_related_rows_the_role_may_see(api, world, role):
    caller = world.callers[role]
    leaks = []
    for field, argument, columns in HAS:
        table, visible_rows = LISTED[field]
        seen = visible_rows(world, caller)

        def related(row, columns=columns) -> bool:
            return any(
                getattr(row, column) is not None
                and (type_name is None or getattr(row, column) in VISIBLE[type_name](world, caller))
                for column, type_name in columns
            )

        expected = {r.id for r in world.rows[table] if r.id in seen and related(r)}
        with_, total = await listed(api, field, caller.token, f", filter: {{{argument}: true}}")
        without, total_without = await listed(api, field, caller.token, f", filter: {{{argument}: false}}")
        if (with_, total, without, total_without) != (expected, len(expected), seen - expected, len(seen - expected)):
            leaks.append((field, argument))
    assert leaks == []
