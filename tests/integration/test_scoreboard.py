"""The scoreboard over HTTP: its figures equal what the rows say (computed here, independently, from
the opportunities, goals and rates in the database), a sale moves them, amounts convert, bad
arguments are errors with no data, and one scoreboard costs the same statements at any size."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from broadcaster import Broadcast
from sqlalchemy import func, select

from domain.stages import DEFAULT_CATALOG, StageKind
from gql import ids
from persistence import tables
from persistence.outbox import OutboxDispatcher
from tests.conftest import statements
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.mutations.test_quotes_and_sales import ADD_ITEMS, CREATE_QUOTE, SELL

MONEY = "{ amount currency }"
BOARD = f"""query($period: PeriodInput!, $teamId: ID, $currency: String) {{
  scoreboard(period: $period, teamId: $teamId, currency: $currency) {{
    preset periodStart periodEnd asOf timeLeft changesAt currency eventId missingRates team {{ id }}
    wonRevenue {MONEY} dealsWon dealsLost winRate guideWinRate averageDealSize {MONEY} openPipeline {MONEY} openDeals
    goal {MONEY} progress projected {MONEY} onTrack
    reps {{ rank user {{ id name }} wonRevenue {MONEY} dealsWon dealsLost openPipeline {MONEY} openDeals
            goal {MONEY} progress projected {MONEY} onTrack }}
  }}
}}"""
JUNE = {"from": "2026-06-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}  # the seed's anchor month


def cents(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


async def board(api, period: dict, team_id: str | None = None, currency: str | None = None) -> dict:
    return (await api.data(BOARD, {"period": period, "teamId": team_id, "currency": currency}))["scoreboard"]


async def expected(writable, shown: dict, team: int | None = None, currency: str = "EUR") -> dict:
    """The figures, computed from the rows for the period the scoreboard says it shows."""
    start, end = moment(shown["periodStart"]), moment(shown["periodEnd"])
    sliding = shown["preset"] in ("LAST_24_HOURS", "LAST_7_DAYS")
    o, u = tables.opportunities.c, tables.users.c
    async with writable.engine.connect() as conn:
        rates = {r.currency: r.rate for r in await conn.execute(select(tables.exchange_rates))}
        members = None
        if team:
            members = {r.id: r.name for r in await conn.execute(select(u.id, u.name).where(u.team_id == team))}
        # The admin's board: every opportunity except those on private accounts someone else created.
        a = tables.accounts.c
        hidden = select(a.id).where(
            a.is_private.is_(True), a.created_by_id.is_distinct_from(writable.summary.admin_user_id)
        )
        rows = list(
            await conn.execute(
                select(
                    o.owner_id,
                    o.stage,
                    o.closed_at,
                    o.actual_revenue_amount,
                    o.actual_revenue_currency,
                    o.estimated_revenue_amount,
                    o.estimated_revenue_currency,
                ).where(o.account_id.not_in(hidden))
            )
        )
        goals = list(await conn.execute(select(tables.goals)))

    def inside(when: datetime) -> bool:
        if end is None:  # ALL_TIME: from the set-up day, counting everything
            return True
        return start < when <= end if sliding else start <= when < end

    def to_currency(amount: Decimal, source: str) -> Decimal:
        return amount * rates[source] / rates[currency]

    won, pipeline = defaultdict(Decimal), defaultdict(Decimal)
    deals_won, deals_lost = defaultdict(int), defaultdict(int)
    open_deals = 0
    for r in rows:
        if members is not None and r.owner_id not in members:
            continue
        open_deals += r.stage in DEFAULT_CATALOG.keys(StageKind.OPEN)
        if r.stage == "WON" and inside(r.closed_at):
            won[r.owner_id] += to_currency(r.actual_revenue_amount, r.actual_revenue_currency)
            deals_won[r.owner_id] += 1
        elif r.stage == "LOST" and inside(r.closed_at):
            deals_lost[r.owner_id] += 1
        elif r.stage not in ("WON", "LOST") and r.estimated_revenue_amount is not None:
            pipeline[r.owner_id] += to_currency(r.estimated_revenue_amount, r.estimated_revenue_currency)
    goal = defaultdict(Decimal)
    if shown["preset"] is None and start == moment(JUNE["from"]):  # whole monthly goals of June
        for g in goals:
            if g.period_start == date(2026, 6, 1) and (members is None or g.user_id in members):
                goal[g.user_id] += to_currency(g.target_revenue_amount, g.target_revenue_currency)
    total_won = sum((cents(v) for v in won.values()), Decimal(0))
    closed = sum(deals_won.values()) + sum(deals_lost.values())
    return {
        "won": {k: cents(v) for k, v in won.items()},
        "deals_won": dict(deals_won),
        "goal": dict(goal),
        "total_won": total_won,
        "total_deals_won": sum(deals_won.values()),
        "total_deals_lost": sum(deals_lost.values()),
        "win_rate": cents(Decimal(sum(deals_won.values()) * 100) / closed, 1) if closed else None,
        # the guide's: won against every opportunity available (won or lost in the period, or open)
        "guide_win_rate": cents(Decimal(sum(deals_won.values()) * 100) / (closed + open_deals), 1)
        if closed + open_deals
        else None,
        "total_pipeline": sum((cents(v) for v in pipeline.values()), Decimal(0)),
        "members": members,
    }


def by_user(shown: dict) -> dict[int, dict]:
    return {ids.decode(r["user"]["id"])[1]: r for r in shown["reps"]}


def amount(money: dict | None) -> Decimal | None:
    return None if money is None else Decimal(money["amount"])


@pytest.mark.parametrize(
    "period",
    [
        {"preset": "ALL_TIME"},
        {"preset": "THIS_QUARTER"},
        {"preset": "LAST_7_DAYS"},
        JUNE,
        {"from": "2026-03-15T12:00:00+02:00", "to": "2026-05-01T00:00:00Z"},
    ],
)
async def test_the_figures_are_the_sums_of_the_deals_won_lost_and_open(api, writable, period):
    shown = await board(api, period)
    want = await expected(writable, shown)
    assert shown["currency"] == "EUR"
    assert amount(shown["wonRevenue"]) == want["total_won"]
    assert (shown["dealsWon"], shown["dealsLost"]) == (want["total_deals_won"], want["total_deals_lost"])
    assert (Decimal(shown["winRate"]) if shown["winRate"] else None) == want["win_rate"]
    assert (Decimal(shown["guideWinRate"]) if shown["guideWinRate"] else None) == want["guide_win_rate"]
    assert amount(shown["openPipeline"]) == want["total_pipeline"]
    if want["total_deals_won"]:
        assert amount(shown["averageDealSize"]) == cents(want["total_won"] / want["total_deals_won"])
    reps = by_user(shown)
    for user_id, won in want["won"].items():
        assert amount(reps[user_id]["wonRevenue"]) == won
        assert reps[user_id]["dealsWon"] == want["deals_won"][user_id]
    ranked = sorted(shown["reps"], key=lambda r: (-amount(r["wonRevenue"]), -r["dealsWon"], r["user"]["name"]))
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))


async def test_a_months_goals_count_whole_in_that_month_with_progress_and_the_final_result(api, writable):
    shown = await board(api, JUNE)
    want = await expected(writable, shown)
    assert want["goal"], "the seed sets monthly goals for its anchor month"
    reps = by_user(shown)
    for user_id, goal in want["goal"].items():
        rep = reps[user_id]
        assert amount(rep["goal"]) == cents(goal)
        assert Decimal(rep["progress"]) == cents(amount(rep["wonRevenue"]) * 100 / cents(goal), 1)
        # June has ended: the projection is what was won, and on track means the goal was reached
        assert rep["projected"] == rep["wonRevenue"] and rep["onTrack"] is (amount(rep["wonRevenue"]) >= cents(goal))
    assert amount(shown["goal"]) == sum(cents(g) for g in want["goal"].values())
    assert shown["timeLeft"] == 0 and shown["changesAt"] is None


async def test_a_team_board_shows_its_members_and_only_their_deals(api, writable):
    team = ids.encode("Team", 1)
    shown = await board(api, {"preset": "ALL_TIME"}, team)
    want = await expected(writable, shown, team=1)
    assert shown["team"] == {"id": team}
    assert set(by_user(shown)) == set(want["members"])
    assert amount(shown["wonRevenue"]) == want["total_won"] and shown["dealsWon"] == want["total_deals_won"]
    assert amount(shown["openPipeline"]) == want["total_pipeline"]
    everyone = await board(api, {"preset": "ALL_TIME"})
    assert amount(shown["wonRevenue"]) < amount(everyone["wonRevenue"])


async def test_amounts_are_converted_into_the_reporting_currency(api, writable):
    shown = await board(api, {"preset": "ALL_TIME"}, currency="NOK")
    want = await expected(writable, shown, currency="NOK")
    assert shown["currency"] == "NOK" and shown["wonRevenue"]["currency"] == "NOK"
    assert amount(shown["wonRevenue"]) == want["total_won"]
    assert amount(shown["openPipeline"]) == want["total_pipeline"]
    assert all(r["wonRevenue"]["currency"] == "NOK" for r in shown["reps"])
    assert shown["missingRates"] == []


async def sell(api, writable, owner: str, price: str) -> Decimal:
    """A sale made as a user would: an opportunity, a quote with one item, marked sold. Its revenue."""
    opportunity = await new_opportunity(api, writable, ownerId=owner)
    quote = (
        await api.data(
            CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Offer", "currency": "EUR"}}
        )
    )["createQuote"]["quote"]
    added = (
        await api.data(
            ADD_ITEMS,
            {
                "input": {
                    "quoteId": quote["id"],
                    "items": [{"name": "Implementation", "unitPrice": price, "currency": "EUR", "quantity": "2"}],
                }
            },
        )
    )["addQuoteItems"]
    assert added["__typename"] == "QuotePayload", added
    sold = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    return amount(sold["opportunity"]["actualRevenue"])


def rank_of(shown: dict, user_id: int) -> int:
    rep = by_user(shown)[user_id]
    return rep["rank"]


async def test_a_sale_moves_won_revenue_deals_won_and_the_sellers_rank(api, writable):
    async with writable.engine.connect() as conn:
        seller = (
            await conn.execute(select(func.max(tables.users.c.id)).where(tables.users.c.role == "SALES_REP"))
        ).scalar_one()
    before = {p: await board(api, {"preset": p}) for p in ("LAST_24_HOURS", "THIS_MONTH")}
    top = max((amount(r["wonRevenue"]) for r in before["THIS_MONTH"]["reps"]), default=Decimal(0))
    revenue = await sell(api, writable, ids.encode("User", seller), str(top + 1000))
    assert revenue > top
    async with Broadcast("memory://") as bus:  # the app under test runs no dispatcher: number the events
        await OutboxDispatcher(writable.engine, bus).dispatch_once()
    async with writable.engine.connect() as conn:
        newest = (await conn.execute(select(func.max(tables.outbox_events.c.position)))).scalar_one()

    for preset, earlier in before.items():
        after = await board(api, {"preset": preset})
        assert amount(after["wonRevenue"]) == amount(earlier["wonRevenue"]) + revenue
        assert after["dealsWon"] == earlier["dealsWon"] + 1
        assert rank_of(after, seller) == 1 and amount(after["reps"][0]["wonRevenue"]) >= revenue
        assert after["eventId"] == str(newest) and newest > int(earlier["eventId"] or 0)
        want = await expected(writable, after)
        assert amount(after["wonRevenue"]) == want["total_won"]
    day = await board(api, {"preset": "LAST_24_HOURS"})
    async with writable.engine.connect() as conn:  # the sale leaves the window 24 hours after it closed
        closed_at = (await conn.execute(select(func.max(tables.opportunities.c.closed_at)))).scalar_one()
    assert moment(day["changesAt"]) <= closed_at + timedelta(hours=24)
    assert day["timeLeft"] is None
    month = await board(api, {"preset": "THIS_MONTH"})
    assert 0 < month["timeLeft"] <= 31 * 24 * 3600
    assert moment(month["asOf"]) < moment(month["changesAt"]) <= moment(month["periodEnd"])


BAD_ARGUMENTS = [
    ({"period": {"preset": "THIS_MONTH", "from": "2026-01-01T00:00:00Z"}}, "not both"),
    ({"period": {}}, "give a preset"),
    ({"period": {"from": "2026-01-01T00:00:00Z"}}, "needs both"),
    ({"period": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}, "after `from`"),
    ({"period": {"preset": "ALL_TIME"}, "currency": "CHF"}, "no exchange rate for CHF"),
    ({"period": {"preset": "ALL_TIME"}, "currency": "euros"}, "ISO 4217"),
    ({"period": {"preset": "ALL_TIME"}, "teamId": ids.encode("User", 1)}, "not of a Team"),
    ({"period": {"preset": "ALL_TIME"}, "teamId": ids.encode("Team", 9999)}, "names no team"),
    ({"period": {"preset": "ALL_TIME"}, "teamId": "garbage!"}, "not a valid id"),
]


@pytest.mark.parametrize("variables, message", BAD_ARGUMENTS)
async def test_bad_arguments_are_a_clear_error_and_no_data(api, variables, message):
    body = (await api.post(BOARD, variables)).json()
    assert body.get("data") is None
    assert len(body["errors"]) == 1 and message in body["errors"][0]["message"], body


async def test_a_partners_scoreboard_counts_only_the_opportunities_assigned_to_it(api, writable):
    o, a = tables.opportunities, tables.accounts
    partner = writable.summary.partner_id
    async with writable.engine.connect() as conn:
        theirs = list(
            await conn.execute(
                select(o.c.stage)
                .select_from(o.join(a, a.c.id == o.c.account_id))
                .where(a.c.is_private.is_(False), (o.c.partner_id == partner) | (a.c.partner_id == partner))
            )
        )
    board = (await api.data(BOARD, {"period": {"preset": "ALL_TIME"}}, token=writable.partner_token))["scoreboard"]
    everyone = (await api.data(BOARD, {"period": {"preset": "ALL_TIME"}}))["scoreboard"]
    assert board["dealsWon"] == sum(1 for r in theirs if r.stage == "WON")
    assert board["dealsLost"] == sum(1 for r in theirs if r.stage == "LOST")
    assert board["openDeals"] == sum(1 for r in theirs if r.stage not in ("WON", "LOST"))
    assert board["openDeals"] < everyone["openDeals"]
    assert all(rep["goal"] is None for rep in board["reps"])  # goals are the sales team's, not a partner's


SMALL = (
    "query($p: PeriodInput!, $t: ID) { scoreboard(period: $p, teamId: $t) { wonRevenue { amount } "
    "reps { user { name } } } }"
)


async def test_one_scoreboard_costs_the_same_statements_for_any_period_and_data_size(api, writable, gql):
    """The newest event, the rates, the deal aggregates, the reps with their users and goals (so showing
    each rep's user costs nothing more); a team adds its check. The same on 60 and 300 seeded
    opportunities, for a day or for all time. (The token is read once, by the first request.)"""
    for client in (api, gql):
        assert statements(await client.post("{ __typename }")) == 1  # the token, kept from now on
        for preset in ("LAST_24_HOURS", "ALL_TIME"):
            response = await client.post(SMALL, {"p": {"preset": preset}})
            assert "errors" not in response.json()
            assert statements(response) == 4
        response = await client.post(SMALL, {"p": {"preset": "ALL_TIME"}, "t": ids.encode("Team", 2)})
        assert statements(response) == 5
