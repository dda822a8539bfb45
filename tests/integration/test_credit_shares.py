"""Credit shares over HTTP on SQLite and PostgreSQL (issue 18, item 2: the guide's sharing splitter). A lead
shared among co-workers by percentage, by hand or by a SHARE splitter, carries its shares to the opportunity it
is qualified into; the scoreboard then counts each user's percentage of the deal and of its revenue, on every
viewer's board by the same rules as an owner's deal. Bad shares (not adding up to 100, a user twice, a user
who may not see the row) are a typed error and change nothing; a partner may not set them; a sold deal is
locked. Mutations on deals without shares cost the statements they cost before shares existed."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import aggregates, tables
from tests.conftest import GraphQLClient, statements
from tests.integration.mutations.test_leads import INGEST as INGEST_PLAIN
from tests.integration.mutations.test_leads import QUALIFY
from tests.integration.mutations.test_opportunities import CREATE, LOST, STAGE, UPDATE, an_account, new_opportunity
from tests.integration.mutations.test_quotes_and_sales import ADD_ITEMS, CREATE_QUOTE, SELL
from tests.support.live import live_server
from tests.support.ws import TRANSPORT_WS, GraphQLSocket

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
SHARES = "creditShares { percent user { id } }"
CREATE_LEAD = f"""mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ __typename ... on LeadPayload {{ lead {{ id version assignedUser {{ id }} }} }} {ERRORS} }}
}}"""
SET_LEAD = f"""mutation($input: SetLeadCreditSharesInput!) {{
  setLeadCreditShares(input: $input) {{ __typename ... on LeadPayload {{ lead {{ id version {SHARES} }} }} {ERRORS} }}
}}"""
SET_OPPORTUNITY = f"""mutation($input: SetOpportunityCreditSharesInput!) {{
  setOpportunityCreditShares(input: $input) {{
    __typename ... on OpportunityPayload {{ opportunity {{ id version {SHARES} }} }} {ERRORS}
  }}
}}"""
LEAD = f"query($id: ID!) {{ node(id: $id) {{ ... on Lead {{ id version {SHARES} }} }} }}"
OPPORTUNITY = f"query($id: ID!) {{ node(id: $id) {{ ... on Opportunity {{ id version {SHARES} }} }} }}"
BOARD = """query { scoreboard(period: {preset: ALL_TIME}) {
  wonRevenue { amount } dealsWon dealsWonCredit openDealsCredit
  reps { user { id } wonRevenue { amount } dealsWon dealsWonCredit openDealsCredit }
} }"""
SPLITTER = f"""mutation($input: CreateLeadSplitterInput!) {{
  createLeadSplitter(input: $input) {{
    __typename ... on LeadSplitterPayload {{ splitter {{ id mode shares {{ weight user {{ id }} }} }} }} {ERRORS}
  }}
}}"""
RULE = f"""mutation($input: CreateLeadRoutingRuleInput!) {{
  createLeadRoutingRule(input: $input) {{ __typename ... on LeadRoutingRulePayload {{ rule {{ id }} }} {ERRORS} }}
}}"""
INGEST = f"""mutation($input: IngestLeadInput!) {{
  ingestLead(input: $input) {{
    __typename ... on IngestLeadPayload {{ lead {{ id assignedUser {{ id }} {SHARES} }} }} {ERRORS}
  }}
}}"""


def uid(pk: int) -> str:
    return ids.encode("User", pk)


async def people(writable) -> dict:
    """A director with two reps of its team, and the admin; a token for the first rep."""
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
    director = next(u for u in users if u.role == "SALES_DIRECTOR" and u.team_id is not None)
    reps = [u.id for u in users if u.role == "SALES_REP" and u.team_id == director.team_id]
    rep_token = await issue_token(writable.engine, name="tests rep", user_id=reps[0])
    return {"admin": writable.summary.admin_user_id, "director": director.id, "reps": reps, "rep_token": rep_token}


async def new_lead(api, **values) -> dict:
    made = (await api.data(CREATE_LEAD, {"input": {"company": "Fjordkraft AS", "country": "NO", **values}}))[
        "createLead"
    ]
    assert made["__typename"] == "LeadPayload", made
    return made["lead"]


def shares(*pairs: tuple[int, int]) -> list[dict]:
    return [{"userId": uid(user), "percent": percent} for user, percent in pairs]


def shown(node: dict) -> list[tuple[int, int]]:
    return [(ids.decode(s["user"]["id"])[1], s["percent"]) for s in node["creditShares"]]


def figures(board: dict) -> dict[int, tuple[Decimal, Decimal]]:
    return {
        ids.decode(r["user"]["id"])[1]: (Decimal(r["wonRevenue"]["amount"]), Decimal(r["dealsWonCredit"]))
        for r in board["reps"]
    }


async def sell(api, opportunity_id: str, price: str) -> Decimal:
    quote = (
        await api.data(CREATE_QUOTE, {"input": {"opportunityId": opportunity_id, "name": "Offer", "currency": "EUR"}})
    )["createQuote"]["quote"]
    items = [{"name": "Implementation", "unitPrice": price, "currency": "EUR", "quantity": "1"}]
    await api.data(ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": items}})
    sold = (await api.data(SELL, {"input": {"id": opportunity_id}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    return Decimal(sold["opportunity"]["actualRevenue"]["amount"])


# Measured on main at 38fd1e3 (before credit shares) with this same sequence, on both databases. On PostgreSQL since: the buckets of every table are written in one statement (one
# fewer for a mutation that moves buckets, two fewer when it also empties some), and the monitors are those the
# process read last, checked when the events are written (one fewer for every mutation that records an event).
BEFORE_SHARES = {
    "createOpportunity": {"sqlite": 11, "postgresql": 9},  # after a warm-up (the first in a process paid 12 and 10)
    "updateOpportunity name": {"sqlite": 7, "postgresql": 6},
    "updateOpportunity amount": {"sqlite": 11, "postgresql": 9},
    "changeOpportunityStage": {"sqlite": 11, "postgresql": 10},
    "markOpportunitySold": {"sqlite": 16, "postgresql": 13},
    "createOpportunity again": {"sqlite": 11, "postgresql": 9},
    "markOpportunityLost": {"sqlite": 13, "postgresql": 10},
    "qualifyLead": {"sqlite": 17, "postgresql": 15},
    "ingestLead": {"sqlite": 7, "postgresql": 7},
}
# Custom fields (issue 17, item 5) cost nothing here: a new opportunity or lead checks its values against this
# process's copy of the definitions (read by the warm-up).


async def test_mutations_on_deals_without_shares_cost_what_they_did(api, writable):
    """Exact statement counts of existing mutations on rows without shares equal those measured on main before
    shares existed: a deal's and a lead's shares are a column read with the row, so nothing more is read or
    written for them (the scoreboard's tracker reads the deal in the statement it already ran)."""
    found = {}

    async def run(name: str, document: str, values: dict) -> dict:
        response = await api.post(document, {"input": values})
        body = response.json()
        assert "errors" not in body, body
        found[name] = statements(response)
        return body["data"]

    account = await an_account(writable)
    revenue = {"amount": "12000.00", "currency": "EUR"}
    await api.data(CREATE, {"input": {"name": "Warm-up", "accountId": account}})  # (PostgreSQL: reads the monitors)
    made = await run("createOpportunity", CREATE, {"name": "X", "accountId": account, "estimatedRevenue": revenue})
    deal = made["createOpportunity"]["opportunity"]["id"]
    await run("updateOpportunity name", UPDATE, {"id": deal, "name": "Y"})
    await run("updateOpportunity amount", UPDATE, {"id": deal, "estimatedRevenue": {**revenue, "amount": "13000.00"}})
    await run("changeOpportunityStage", STAGE, {"id": deal, "stage": "NEGOTIATION"})
    quote = await api.data(CREATE_QUOTE, {"input": {"opportunityId": deal, "name": "Offer", "currency": "EUR"}})
    items = [{"name": "I", "unitPrice": "10.00", "currency": "EUR", "quantity": "1"}]
    await api.data(ADD_ITEMS, {"input": {"quoteId": quote["createQuote"]["quote"]["id"], "items": items}})
    await run("markOpportunitySold", SELL, {"id": deal})
    made = await run("createOpportunity again", CREATE, {"name": "Z", "accountId": account})
    await run("markOpportunityLost", LOST, {"id": made["createOpportunity"]["opportunity"]["id"], "reason": "Price"})
    lead = (await new_lead(api, company="Acme AS"))["id"]
    await run("qualifyLead", QUALIFY, {"id": lead, "createAccount": True})
    await run("ingestLead", INGEST_PLAIN, {"company": "Beta AS", "country": "SE"})
    expected = {k: v[writable.name] if isinstance(v, dict) else v for k, v in BEFORE_SHARES.items()}
    assert found == expected


async def test_a_shared_lead_becomes_a_shared_deal_that_the_scoreboard_counts_by_percentage(api, writable):
    who = await people(writable)
    rep, director, admin = who["reps"][0], who["director"], who["admin"]
    lead = await new_lead(api, assignedUserId=uid(rep))
    split = [(rep, 34), (director, 33), (admin, 33)]
    done = (await api.data(SET_LEAD, {"input": {"id": lead["id"], "shares": shares(*split)}}))["setLeadCreditShares"]
    assert done["__typename"] == "LeadPayload", done
    assert shown(done["lead"]) == sorted(split) and done["lead"]["version"] == lead["version"] + 1

    before = (await api.data(BOARD))["scoreboard"]
    rep_before = (await api.data(BOARD, token=who["rep_token"]))["scoreboard"]
    qualified = (await api.data(QUALIFY, {"input": {"id": lead["id"], "createAccount": True, "ownerId": uid(rep)}}))[
        "qualifyLead"
    ]
    opportunity = qualified["opportunity"]["id"]
    carried = (await api.data(OPPORTUNITY, {"id": opportunity}))["node"]
    assert shown(carried) == sorted(split)
    revenue = await sell(api, opportunity, "90000.01")
    after = (await api.data(BOARD))["scoreboard"]

    # Each credited user's won revenue and deals won grow by its percentage of the deal, nobody else's.
    old, new = figures(before), figures(after)
    for user, percent in split:
        part = Decimal(percent) / 100
        was = old.get(user, (Decimal(0), Decimal(0)))
        assert new[user][1] - was[1] == part, (user, new[user], was)
        assert new[user][0] - was[0] == (revenue * part).quantize(Decimal("0.01")), (user, new[user], was)
    assert {u: f for u, f in new.items() if u not in dict(split)} == {
        u: f for u, f in old.items() if u not in dict(split) and u in new
    }
    assert Decimal(after["dealsWonCredit"]) - Decimal(before["dealsWonCredit"]) == 1
    assert after["dealsWon"] - before["dealsWon"] == 1

    # The rep owns the deal and manages its new account: by the rules it sees the whole deal, every part.
    rep_after = (await api.data(BOARD, token=who["rep_token"]))["scoreboard"]
    assert Decimal(rep_after["dealsWonCredit"]) - Decimal(rep_before["dealsWonCredit"]) == 1

    # On an account someone else manages, the rep's board holds only its own part of a deal it shares.
    async with writable.engine.connect() as conn:
        a = tables.accounts.c
        account = (
            await conn.execute(
                select(a.id).where(a.is_private.is_(False), a.manager_id.is_not(None), a.manager_id != rep).limit(1)
            )
        ).scalar_one()
    deal = await new_opportunity(api, writable, ownerId=uid(rep), accountId=ids.encode("Account", account))
    split = [(rep, 50), (admin, 50)]
    done = (await api.data(SET_OPPORTUNITY, {"input": {"id": deal["id"], "shares": shares(*split)}}))[
        "setOpportunityCreditShares"
    ]
    assert shown(done["opportunity"]) == sorted(split)
    revenue = await sell(api, deal["id"], "1000.03")
    rep_last = (await api.data(BOARD, token=who["rep_token"]))["scoreboard"]
    assert Decimal(rep_last["dealsWonCredit"]) - Decimal(rep_after["dealsWonCredit"]) == Decimal("0.5")
    assert Decimal(rep_last["wonRevenue"]["amount"]) - Decimal(rep_after["wonRevenue"]["amount"]) == (
        revenue / 2
    ).quantize(Decimal("0.01"))
    assert figures(rep_last).get(admin) == figures(rep_after).get(admin)  # the admin's part is not the rep's


async def test_bad_shares_get_a_typed_error_and_change_nothing(api, writable):
    who = await people(writable)
    rep, other, admin = who["reps"][0], who["reps"][1], who["admin"]
    lead = await new_lead(api, assignedUserId=uid(rep))
    cases = [
        (shares((rep, 60), (admin, 30)), "add up to 90 %"),
        (shares((rep, 50), (rep, 50)), "each user has one share"),
        (shares((rep, 100)), "two users or more"),
        (shares((rep, 101), (admin, -1)), "whole percentage from 1 to 100"),
        (shares((rep, 50), (other, 50)), "may not see this lead"),  # another rep: the lead is not its
    ]
    for given, reason in cases:
        result = (await api.data(SET_LEAD, {"input": {"id": lead["id"], "shares": given}}))["setLeadCreditShares"]
        assert result["__typename"] == "ValidationError" and result["field"] == "shares", result
        assert reason in result["message"], result
    missing = (await api.data(SET_LEAD, {"input": {"id": lead["id"], "shares": shares((rep, 50), (999_999, 50))}}))[
        "setLeadCreditShares"
    ]
    assert missing["__typename"] == "NotFoundError", missing
    unchanged = (await api.data(LEAD, {"id": lead["id"]}))["node"]
    assert unchanged == {"id": lead["id"], "version": lead["version"], "creditShares": []}

    opportunity = await new_opportunity(api, writable, ownerId=uid(rep))
    result = (
        await api.data(SET_OPPORTUNITY, {"input": {"id": opportunity["id"], "shares": shares((rep, 50), (other, 50))}})
    )["setOpportunityCreditShares"]
    assert result["__typename"] == "ValidationError" and "may not see this opportunity" in result["message"], result
    assert (await api.data(OPPORTUNITY, {"id": opportunity["id"]}))["node"]["creditShares"] == []


async def test_a_partner_may_not_share_credit_and_a_sold_deal_is_locked(api, writable):
    who = await people(writable)
    rep, admin = who["reps"][0], who["admin"]
    partner = ids.encode("Partner", writable.summary.partner_id)
    lead = await new_lead(api, assignedPartnerId=partner, assignedUserId=None)
    refused = (
        await api.data(
            SET_LEAD,
            {"input": {"id": lead["id"], "shares": shares((rep, 50), (admin, 50))}},
            token=writable.partner_token,
        )
    )["setLeadCreditShares"]
    assert refused["__typename"] == "PermissionDeniedError", refused
    assert (await api.data(LEAD, {"id": lead["id"]}))["node"]["creditShares"] == []

    opportunity = await new_opportunity(api, writable, ownerId=uid(rep))
    await sell(api, opportunity["id"], "100.00")
    locked = (
        await api.data(SET_OPPORTUNITY, {"input": {"id": opportunity["id"], "shares": shares((rep, 50), (admin, 50))}})
    )["setOpportunityCreditShares"]
    assert locked["__typename"] == "LockedError", locked


async def test_a_sharing_splitter_shares_each_lead_it_routes(api, writable):
    who = await people(writable)
    rep, director, admin = who["reps"][0], who["director"], who["admin"]
    weights = [(rep, 34), (director, 33), (admin, 33)]
    bad = [
        ([{"userId": uid(rep), "weight": 50}, {"userId": uid(admin), "weight": 30}], "add up to 80 %"),
        (
            [
                {"userId": uid(rep), "weight": 50},
                {"partnerId": ids.encode("Partner", writable.summary.partner_id), "weight": 50},
            ],
            "among users, not partners",
        ),
    ]
    for given, reason in bad:
        result = (await api.data(SPLITTER, {"input": {"name": "Big deals", "mode": "SHARE", "shares": given}}))[
            "createLeadSplitter"
        ]
        assert result["__typename"] == "ValidationError" and reason in result["message"], result
    given = [{"userId": uid(u), "weight": w} for u, w in weights]
    made = (await api.data(SPLITTER, {"input": {"name": "Big deals", "mode": "SHARE", "shares": given}}))[
        "createLeadSplitter"
    ]
    assert made["__typename"] == "LeadSplitterPayload" and made["splitter"]["mode"] == "SHARE", made
    rule = {
        "name": "Iceland's big ones",
        "position": 0,
        "target": {"splitterId": made["splitter"]["id"]},
        "conditions": [{"field": "COUNTRY", "values": ["IS"]}],
    }
    assert (await api.data(RULE, {"input": rule}))["createLeadRoutingRule"]["__typename"] == "LeadRoutingRulePayload"
    for n in range(2):
        ingested = (await api.data(INGEST, {"input": {"company": f"Landsvirkjun {n}", "country": "IS"}}))["ingestLead"]
        assert ingested["__typename"] == "IngestLeadPayload", ingested
        assert ids.decode(ingested["lead"]["assignedUser"]["id"])[1] == rep  # the largest share works it
        assert shown(ingested["lead"]) == sorted(weights)


async def test_check_aggregates_recomputes_shared_deals_and_names_a_credited_users_bucket(api, writable):
    """`salesgraph check-aggregates` (`aggregates.differences`) recomputes a shared deal's parts: the buckets agree
    after shares are set and the deal is sold, and a credited user's bucket that drifts is named."""
    who = await people(writable)
    rep, director = who["reps"][0], who["director"]
    deal = await new_opportunity(api, writable, ownerId=uid(rep))
    await api.data(SET_OPPORTUNITY, {"input": {"id": deal["id"], "shares": shares((rep, 70), (director, 30))}})
    await sell(api, deal["id"], "333.33")
    async with writable.engine.connect() as conn:
        assert await conn.run_sync(aggregates.differences) == []
    b = tables.scoreboard_buckets.c
    drifted = [b.slice == "OWNER", b.grain == "ALL", b.kind == "WON", b.owner_id == director, b.currency == "EUR"]
    drifted += [b.manager_id == 0, b.partner_id == 0, b.account_partner_id == 0, b.is_private.is_(False)]
    async with writable.engine.begin() as conn:
        await conn.execute(tables.scoreboard_buckets.update().where(*drifted).values(credit=b.credit + 1))
    async with writable.engine.connect() as conn:
        found = await conn.run_sync(aggregates.differences)
    assert [(d.key.owner_id, d.found[0] - d.expected[0]) for d in found] == [(director, 1)]
    async with writable.engine.begin() as conn:
        await conn.execute(tables.scoreboard_buckets.update().where(*drifted).values(credit=b.credit - 1))


LIVE = """subscription { scoreboardUpdated(period: {preset: ALL_TIME}) {
  openDealsCredit reps { user { id } openDealsCredit openPipeline { amount } }
} }"""


async def test_a_live_board_moves_the_credit_when_a_deal_is_shared(writable):
    """Over a real WebSocket: sharing an open deal pushes a board where the deal's open credit and pipeline
    moved from its owner to the users sharing it, and the push equals the `scoreboard` query."""
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        who = await people(writable)
        rep, admin = who["reps"][0], who["admin"]
        deal = await new_opportunity(api, writable, ownerId=uid(rep))
        socket = await GraphQLSocket.open(server.url, writable.admin_token, TRANSPORT_WS)
        op = await socket.subscribe(LIVE, {})
        first = (await socket.next(op))["data"]["scoreboardUpdated"]
        await api.data(SET_OPPORTUNITY, {"input": {"id": deal["id"], "shares": shares((rep, 60), (admin, 40))}})
        pushed = (await socket.next(op))["data"]["scoreboardUpdated"]
        before, after = ({ids.decode(r["user"]["id"])[1]: r for r in b["reps"]} for b in (first, pushed))

        def moved(user: int, field: str) -> Decimal:
            def value(row: dict) -> Decimal:
                return Decimal(row[field]["amount"] if field == "openPipeline" else row[field])

            return value(after[user]) - (value(before[user]) if user in before else 0)

        assert (moved(rep, "openDealsCredit"), moved(admin, "openDealsCredit")) == (Decimal("-0.4"), Decimal("0.4"))
        assert (moved(rep, "openPipeline"), moved(admin, "openPipeline")) == (Decimal("-4800"), Decimal("4800"))
        assert pushed["openDealsCredit"] == first["openDealsCredit"]
        board = await api.data(LIVE.replace("subscription", "query").replace("scoreboardUpdated", "scoreboard"))
        assert board["scoreboard"] == pushed
        await socket.close()
