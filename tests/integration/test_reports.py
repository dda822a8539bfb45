"""The sales reports over HTTP and WebSockets, on SQLite and PostgreSQL: `salesReports` equals the
reports computed in plain Python from the rows (test_report_properties.plain_reports) for an admin, a
director, a rep and a partner; a sale moves them and they still agree; a fixed number of statements
whatever the period, scope or data; bad arguments are typed errors with no data; a token without
`reports:read` is refused and a partner may not read time per channel; `opportunityBoard` counts what
the caller may see; and `salesReportsUpdated` pushes the reports at once and again after a sale, the
last push equal to the query."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from sqlalchemy import func, select

from domain import reports as domain
from domain.enums import Role
from domain.scoreboard import PeriodSpec
from gql import ids
from gql.auth import issue_token
from gql.schema.base import money
from persistence import tables
from persistence.visibility import Viewer
from tests.conftest import GraphQLClient, statements
from tests.integration.mutations.test_opportunities import UPDATE
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_report_properties import plain_reports
from tests.support.live import live_server
from tests.support.ws import TRANSPORT_WS, GraphQLSocket

MONEY = "{ amount currency }"
FIGURE = f"{{ deals amount {MONEY} weightedAmount {MONEY} }}"
BODY = f"""
    preset periodStart periodEnd currency missingRates eventId
    funnel {{ stages {{ stage deals amount {MONEY} weightedAmount {MONEY} reached conversion }}
              won {FIGURE} lost {FIGURE} winRate }}
    wonRevenueByPerson {{ user {{ id }} deals dealsCredit revenue {MONEY} }}
    wonRevenueByProduct {{ product {{ id }} deals revenue {MONEY} }}
    forecast {{ deals dealsCredit pipeline {MONEY} weighted {MONEY}
                months {{ month deals dealsCredit pipeline {MONEY} weighted {MONEY} }}
                reps {{ user {{ id }} team {{ id }} deals dealsCredit pipeline {MONEY} weighted {MONEY}
                        months {{ month deals weighted {MONEY} }} }}
                teams {{ team {{ id }} deals dealsCredit pipeline {MONEY} weighted {MONEY} }} }}
    partnerResults {{ partner {{ id }} won {FIGURE} open {FIGURE} }}
"""
TIME = "timeByChannel { user { id } channel activities minutes hours }"
ARGS = "$period: PeriodInput!, $scope: ReportScopeInput, $currency: String"
REPORTS = f"query({ARGS}) {{ salesReports(period: $period, scope: $scope, currency: $currency) {{ {BODY} {TIME} }} }}"
REPORTS_NO_TIME = f"query({ARGS}) {{ salesReports(period: $period, scope: $scope, currency: $currency) {{ {BODY} }} }}"
UPDATED = (
    f"subscription({ARGS}) {{ salesReportsUpdated(period: $period, scope: $scope, currency: $currency) {{ {BODY} }} }}"
)
BOARD = f"""query($scope: ReportScopeInput, $limit: Int) {{
  opportunityBoard(scope: $scope, limit: $limit) {{ stage totalCount amount {MONEY} weightedAmount {MONEY}
    opportunities {{ id stage }} }} }}"""
ALL_TIME = {"period": {"preset": "ALL_TIME"}}
SHARE = """mutation($input: SetOpportunityCreditSharesInput!) {
  setOpportunityCreditShares(input: $input) { __typename ... on UserError { code message } } }"""
QUARTER = {"period": {"preset": "THIS_QUARTER"}}


def _money(value) -> dict:
    shown = money(value.amount, value.currency)
    return {"amount": str(shown.amount), "currency": shown.currency}


def _figure(f: domain.Figure) -> dict:
    return {"deals": f.deals, "amount": _money(f.amount), "weightedAmount": _money(f.weighted)}


def _node(kind: str, key) -> dict | None:
    return None if key is None else {"id": ids.encode(kind, key)}


def _percent(value) -> str | None:
    return None if value is None else str(value)


def _whole(credit) -> int:
    """A credited count as `deals` shows it: rounded half up."""
    return int(Decimal(credit).to_integral_value(ROUND_HALF_UP))


def _credit(credit) -> str:
    """... and as `dealsCredit` shows it: two decimals."""
    return str(Decimal(credit).quantize(Decimal("0.01")))


def shown(r: domain.Reports, with_time: bool = True) -> dict:
    """What `salesReports` shows of computed reports (as the JSON answer has it)."""
    f = r.funnel
    body = {
        "funnel": {
            "stages": [
                {
                    "stage": s.stage,
                    "deals": s.deals,
                    "amount": _money(s.amount),
                    "weightedAmount": _money(s.weighted),
                    "reached": s.reached,
                    "conversion": _percent(s.conversion),
                }
                for s in f.stages
            ],
            "won": _figure(f.won),
            "lost": _figure(f.lost),
            "winRate": _percent(f.win_rate),
        },
        "wonRevenueByPerson": [
            {
                "user": _node("User", k.key),
                "deals": _whole(k.figure.deals),
                "dealsCredit": _credit(k.figure.deals),
                "revenue": _money(k.figure.amount),
            }
            for k in r.won_by_person
        ],
        "wonRevenueByProduct": [
            {"product": _node("Product", k.key), "deals": k.figure.deals, "revenue": _money(k.figure.amount)}
            for k in r.won_by_product
        ],
        "forecast": {
            "deals": _whole(r.forecast.total.deals),
            "dealsCredit": _credit(r.forecast.total.deals),
            "pipeline": _money(r.forecast.total.amount),
            "weighted": _money(r.forecast.total.weighted),
            "months": [_month(m) for m in r.forecast.months],
            "reps": [
                {
                    "user": _node("User", rep.user_id),
                    "team": _node("Team", rep.team_id),
                    "deals": _whole(rep.total.deals),
                    "dealsCredit": _credit(rep.total.deals),
                    "pipeline": _money(rep.total.amount),
                    "weighted": _money(rep.total.weighted),
                    "months": [
                        {"month": _day(m.key), "deals": _whole(m.figure.deals), "weighted": _money(m.figure.weighted)}
                        for m in rep.months
                    ],
                }
                for rep in r.forecast.reps
            ],
            "teams": [
                {
                    "team": _node("Team", t.key),
                    "deals": _whole(t.figure.deals),
                    "dealsCredit": _credit(t.figure.deals),
                    "pipeline": _money(t.figure.amount),
                    "weighted": _money(t.figure.weighted),
                }
                for t in r.forecast.teams
            ],
        },
        "partnerResults": [
            {"partner": _node("Partner", p.partner_id), "won": _figure(p.won), "open": _figure(p.open)}
            for p in r.partners
        ],
        "missingRates": list(r.missing_rates),
        "currency": r.currency,
    }
    if with_time:
        body["timeByChannel"] = [
            {
                "user": _node("User", t.user_id),
                "channel": t.type,
                "activities": t.activities,
                "minutes": t.minutes,
                "hours": str((Decimal(t.minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
            }
            for t in r.time
        ]
    return body


def _day(value) -> str | None:
    return None if value is None else value.isoformat()


def _month(m: domain.Keyed) -> dict:
    return {
        "month": _day(m.key),
        "deals": _whole(m.figure.deals),
        "dealsCredit": _credit(m.figure.deals),
        "pipeline": _money(m.figure.amount),
        "weighted": _money(m.figure.weighted),
    }


def answer(data: dict) -> dict:
    """The parts of an answer `shown` computes (the period's bounds and event id aside)."""
    return {k: v for k, v in data.items() if k not in ("preset", "periodStart", "periodEnd", "eventId")}


async def user_of(engine, role: Role) -> int:
    async with engine.connect() as conn:
        found = select(func.min(tables.users.c.id)).where(tables.users.c.role == role.value)
        return (await conn.execute(found)).scalar_one()


async def viewers(writable) -> list[tuple[Viewer, str]]:
    """An admin, a director, a rep and a partner, each with a token."""
    found = [(Viewer("ADMIN", user_id=writable.summary.admin_user_id), writable.admin_token)]
    for role in (Role.SALES_DIRECTOR, Role.SALES_REP):
        user = await user_of(writable.engine, role)
        token = await issue_token(writable.engine, name=f"reports {role.value}", user_id=user)
        found.append((Viewer(role.value, user_id=user), token))
    found.append((Viewer("PARTNER", partner_id=writable.summary.partner_id), writable.partner_token))
    return found


def request_of(variables: dict) -> domain.ReportRequest:
    period = variables["period"]
    spec = (
        PeriodSpec.of(period["preset"])
        if "preset" in period
        else PeriodSpec.of(start=datetime.fromisoformat(period["from"]), end=datetime.fromisoformat(period["to"]))
    )
    scope = variables.get("scope") or {}
    return domain.ReportRequest.of(
        spec,
        domain.ReportScope(
            team_id=ids.decode(scope["teamId"])[1] if scope.get("teamId") else None,
            user_id=ids.decode(scope["userId"])[1] if scope.get("userId") else None,
            partner_id=ids.decode(scope["partnerId"])[1] if scope.get("partnerId") else None,
        ),
        variables.get("currency"),
    )


async def agrees(api, writable, variables: dict, viewer: Viewer, token: str) -> dict:
    document = REPORTS_NO_TIME if viewer.role == "PARTNER" else REPORTS
    data = (await api.data(document, variables, token=token))["salesReports"]
    request = request_of(variables)
    # The period the answer shows is the one it was computed for: compute ours at a moment inside it.
    moment = _moment_for(request, data)
    expected = await plain_reports(writable.engine, request, moment, viewer)
    assert answer(data) == shown(expected, with_time=viewer.role != "PARTNER"), (viewer, variables)
    return data


def _moment_for(request: domain.ReportRequest, data: dict) -> datetime:
    if data["periodEnd"] is None:
        return datetime.now().astimezone()
    end = datetime.fromisoformat(data["periodEnd"].replace("Z", "+00:00"))
    if data["preset"] in ("LAST_24_HOURS", "LAST_7_DAYS"):
        return end
    start = datetime.fromisoformat(data["periodStart"].replace("Z", "+00:00"))
    return start + (end - start) / 2 if data["preset"] else start + timedelta(seconds=1)


async def test_every_roles_reports_equal_a_computation_from_the_rows_before_and_after_a_sale(api, writable):
    people = await viewers(writable)
    async with writable.engine.connect() as conn:
        team = (await conn.execute(select(func.min(tables.teams.c.id)))).scalar_one()
    cases = [
        ALL_TIME,
        QUARTER,
        {"period": {"from": "2026-05-03T10:00:00+00:00", "to": "2026-06-20T08:30:00+00:00"}, "currency": "USD"},
        {**QUARTER, "scope": {"teamId": ids.encode("Team", team)}},
        {**ALL_TIME, "scope": {"partnerId": ids.encode("Partner", writable.summary.partner_id)}},
    ]
    for variables in cases:
        for viewer, token in people:
            await agrees(api, writable, variables, viewer, token)
    before = (await api.data(REPORTS, ALL_TIME))["salesReports"]
    opportunity, _, _ = await quote_with_items(api, writable)
    # Its credit shared by the admin and the rep, 67/33, while the rep owned it (a credited user must see the
    # deal then), then handed back to the admin: the person reports count the parts, the rep's on its own
    # reports though it may no longer open the deal.
    admin, rep = writable.summary.admin_user_id, people[2][0].user_id
    shares = [{"userId": ids.encode("User", admin), "percent": 67}, {"userId": ids.encode("User", rep), "percent": 33}]
    for owner, step in ((rep, None), (admin, shares)):
        if step is not None:
            done = await api.data(SHARE, {"input": {"id": opportunity["id"], "shares": step}})
            assert done["setOpportunityCreditShares"]["__typename"] == "OpportunityPayload", done
        handed = await api.data(UPDATE, {"input": {"id": opportunity["id"], "ownerId": ids.encode("User", owner)}})
        assert handed["updateOpportunity"]["__typename"] == "OpportunityPayload", handed
    for viewer, token in people:  # the open deal's parts in the forecast
        await agrees(api, writable, ALL_TIME, viewer, token)
    sold = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    for viewer, token in people:  # the won deal's parts by person
        await agrees(api, writable, ALL_TIME, viewer, token)
    after = await agrees(api, writable, ALL_TIME, *people[0])
    assert after["funnel"]["won"]["deals"] == before["funnel"]["won"]["deals"] + 1
    assert after["wonRevenueByProduct"] != before["wonRevenueByProduct"]
    credited = {p["user"]["id"]: Decimal(p["dealsCredit"]) for p in after["wonRevenueByPerson"]}
    was = {p["user"]["id"]: Decimal(p["dealsCredit"]) for p in before["wonRevenueByPerson"]}
    assert credited[ids.encode("User", rep)] - was.get(ids.encode("User", rep), 0) == Decimal("0.33")
    assert credited[ids.encode("User", admin)] - was.get(ids.encode("User", admin), 0) == Decimal("0.67")
    # The rep's own reports show its part of the deal it does not own.
    mine = (await api.data(REPORTS, ALL_TIME, token=people[2][1]))["salesReports"]["wonRevenueByPerson"]
    assert ids.encode("User", rep) in {p["user"]["id"] for p in mine}


async def test_a_report_costs_the_same_statements_whatever_the_period_scope_or_data(api, writable):
    await api.post(REPORTS, ALL_TIME)  # the token is looked up once, then cached
    async with writable.engine.connect() as conn:
        team = (await conn.execute(select(func.min(tables.teams.c.id)))).scalar_one()
    cases = [
        ALL_TIME,
        {"period": {"preset": "LAST_7_DAYS"}},
        {"period": {"from": "2026-05-03T10:00:00+00:00", "to": "2026-06-20T08:30:00+00:00"}},
        {**QUARTER, "scope": {"teamId": ids.encode("Team", team)}, "currency": "USD"},
    ]
    counts = []
    for variables in cases:
        response = await api.post(REPORTS, variables)
        assert "errors" not in response.json(), response.json()
        counts.append(statements(response))
    opportunity, _, _ = await quote_with_items(api, writable)
    await api.data(SELL, {"input": {"id": opportunity["id"]}})
    response = await api.post(REPORTS, ALL_TIME)
    counts.append(statements(response))
    # position, rates, buckets, edge deals, activities, users, teams, products, partners
    assert counts == [9] * len(counts)
    board = await api.post(BOARD, {"limit": 3})
    assert "errors" not in board.json(), board.json()
    assert statements(board) == 4  # rates, users, buckets, the first opportunities of every column


async def test_bad_arguments_are_typed_errors_with_no_data(api, writable):
    async def error(variables: dict, token: str | None = None, document: str = REPORTS) -> dict:
        response = await api.post(document, variables, token)
        body = response.json()
        assert body.get("data") is None, body
        return body["errors"][0]

    account = ids.encode("Account", 1)
    assert (await error({**ALL_TIME, "scope": {"teamId": account}}))["extensions"]["code"] == "INVALID_ID"
    assert (await error({**ALL_TIME, "scope": {"teamId": "not an id"}}))["extensions"]["code"] == "INVALID_ID"
    assert (await error({**ALL_TIME, "scope": {"teamId": ids.encode("Team", 99999)}}))["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert (await error({**ALL_TIME, "scope": {"userId": ids.encode("User", 99999)}}))["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert (await error({**ALL_TIME, "scope": {"partnerId": ids.encode("Partner", 99999)}}))["extensions"][
        "code"
    ] == "NOT_FOUND"
    backwards = {"period": {"from": "2026-06-20T00:00:00Z", "to": "2026-06-01T00:00:00Z"}}
    assert (await error(backwards))["extensions"] == {"code": "BAD_USER_INPUT", "field": "period.to"}
    both = {"period": {"preset": "ALL_TIME", "from": "2026-06-01T00:00:00Z"}}
    assert (await error(both))["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await error({"period": {}}))["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await error({**ALL_TIME, "currency": "XYZ"}))["extensions"]["code"] == "BAD_USER_INPUT"
    # A partner names only itself: another partner is reported like one that does not exist.
    async with writable.engine.connect() as conn:
        other = (
            await conn.execute(
                select(func.min(tables.partners.c.id)).where(tables.partners.c.id != writable.summary.partner_id)
            )
        ).scalar_one()
    hidden = {**ALL_TIME, "scope": {"partnerId": ids.encode("Partner", other)}}
    missing = {**ALL_TIME, "scope": {"partnerId": ids.encode("Partner", 99999)}}
    token = writable.partner_token
    for variables in (hidden, missing):
        found = await error(variables, token, REPORTS_NO_TIME)
        assert found["extensions"]["code"] == "NOT_FOUND"
    hidden_error = await error(hidden, token, REPORTS_NO_TIME)
    assert hidden_error == await error(missing, token, REPORTS_NO_TIME)
    assert ids.encode("Partner", other) not in str(hidden_error)


async def test_without_reports_read_the_reports_are_refused_and_a_partner_may_not_read_time(api, writable):
    user = await user_of(writable.engine, Role.SALES_REP)
    token = await issue_token(writable.engine, name="no reports", user_id=user, scopes=["scoreboard:read"])
    response = await api.post(REPORTS, ALL_TIME, token)
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    response = await api.post(REPORTS, ALL_TIME, writable.partner_token)
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_the_opportunity_board_counts_what_each_role_may_see(api, writable):
    for viewer, token in await viewers(writable):
        columns = (await api.data(BOARD, {"limit": 2}, token=token))["opportunityBoard"]
        expected = await plain_reports(
            writable.engine, domain.ReportRequest.of(PeriodSpec.of("ALL_TIME")), datetime.now().astimezone(), viewer
        )
        assert [c["stage"] for c in columns] == [s.stage for s in expected.funnel.stages]
        assert [(c["totalCount"], c["amount"], c["weightedAmount"]) for c in columns] == [
            (s.deals, _money(s.amount), _money(s.weighted)) for s in expected.funnel.stages
        ], viewer
        for column in columns:
            assert len(column["opportunities"]) == min(2, column["totalCount"])
            assert all(o["stage"] == column["stage"] for o in column["opportunities"])


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        yield server


async def test_a_sale_moves_a_live_report_and_the_last_push_equals_the_query(live, writable):
    opportunity, _, _ = await quote_with_items(live.api, writable)
    socket = await GraphQLSocket.open(live.url, writable.admin_token, TRANSPORT_WS)
    op = await socket.subscribe(UPDATED, ALL_TIME)

    async def pushed() -> dict:
        result = await socket.next(op, 30.0)
        assert "errors" not in result, result
        return result["data"]["salesReportsUpdated"]

    async def query() -> dict:
        return (await live.api.data(REPORTS_NO_TIME, ALL_TIME))["salesReports"]

    first = await pushed()
    assert answer(first) == answer(await query())
    sold = (await live.api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    async with asyncio.timeout(30.0):
        while True:
            report = await pushed()
            if answer(report) == answer(await query()):
                break
    assert report["funnel"]["won"]["deals"] == first["funnel"]["won"]["deals"] + 1
    assert int(report["eventId"]) > int(first["eventId"])
    await socket.close()
