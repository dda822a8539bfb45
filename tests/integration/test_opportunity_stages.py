"""Opportunity stages as rows (issue 17, item 5): admins add, change, deactivate, reorder and delete them through the
API; the former enum's documents keep working; every rule asks a stage's kind, so a WON-kind stage an admin adds
counts as won on the scoreboard, in the filters and the reports; a stage in use cannot be deleted. On SQLite and
PostgreSQL, one database per backend for the module (the tests build on each other's stages, in file order); and
a database seeded at the previous revision reads the same after the migration."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, select

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import aggregates, tables
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade
from tests.conftest import GraphQLClient, seeded_database, statements
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.test_scoreboard import sell

SEEDED = [
    ("PROSPECTING", "OPEN", 10),
    ("QUALIFICATION", "OPEN", 25),
    ("PROPOSAL", "OPEN", 50),
    ("NEGOTIATION", "OPEN", 75),
    ("WON", "WON", 100),
    ("LOST", "LOST", 0),
]
STAGES = "{ settings { stages { id key name position probability kind active version } } }"
ERRORS = "... on UserError { __typename code message } ... on ValidationError { field }"
STAGE = "opportunityStage { id key name position probability kind active version }"
CREATE = f"""mutation($input: CreateOpportunityStageInput!) {{ createOpportunityStage(input: $input) {{
  ... on OpportunityStagePayload {{ {STAGE} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateOpportunityStageInput!) {{ updateOpportunityStage(input: $input) {{
  ... on OpportunityStagePayload {{ {STAGE} }} {ERRORS} }} }}"""
DELETE = f"""mutation($input: DeleteOpportunityStageInput!) {{ deleteOpportunityStage(input: $input) {{
  ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
REORDER = f"""mutation($input: ReorderOpportunityStagesInput!) {{ reorderOpportunityStages(input: $input) {{
  ... on OpportunityStagesPayload {{ stages {{ key position }} }} {ERRORS} }} }}"""
MOVE = f"""mutation($input: ChangeOpportunityStageInput!) {{ changeOpportunityStage(input: $input) {{
  ... on OpportunityPayload {{ opportunity {{ id stage isOpen locked stageDetails {{ key kind }} }} }} {ERRORS} }} }}"""
CREATE_OPPORTUNITY = f"""mutation($input: CreateOpportunityInput!) {{ createOpportunity(input: $input) {{
  ... on OpportunityPayload {{ opportunity {{ id stage probability }} }} {ERRORS} }} }}"""
BOARD = """{ scoreboard(period: {preset: ALL_TIME}) { dealsWon wonRevenue { amount } openDeals } }"""
COLUMNS = "{ opportunityBoard(limit: 1) { stage totalCount } }"
FUNNEL = "{ salesReports(period: {preset: ALL_TIME}) { funnel { stages { stage deals } won { deals } } } }"
COUNT = "query($f: OpportunityFilter) { opportunities(filter: $f) { totalCount } }"


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def stage_rows(writable) -> list:
    async with writable.engine.connect() as conn:
        return list(await conn.execute(select(tables.opportunities.c.id, tables.opportunities.c.stage)))


async def kinds_of(writable) -> dict[str, str]:
    s = tables.opportunity_stages
    async with writable.engine.connect() as conn:
        return {k: kind for k, kind in await conn.execute(select(s.c.key, s.c.kind))}


async def no_bucket_differs(writable) -> None:
    async with writable.engine.connect() as conn:
        assert await conn.run_sync(aggregates.differences) == []


async def visible_stages(api) -> Counter:
    """The stages of the opportunities the caller sees (the seed of 60 fits one page)."""
    page = (await api.data("{ opportunities(first: 100) { totalCount nodes { stage } } }"))["opportunities"]
    assert page["totalCount"] == len(page["nodes"])
    return Counter(n["stage"] for n in page["nodes"])


async def settings(api) -> list[dict]:
    return (await api.data(STAGES))["settings"]["stages"]


async def count(api, where: dict) -> int:
    return (await api.data(COUNT, {"f": where}))["opportunities"]["totalCount"]


async def test_the_seeded_stages_are_the_former_enum_and_its_documents_still_work(api, writable):
    shown = await settings(api)
    assert [(s["key"], s["kind"], s["probability"]) for s in shown] == SEEDED
    assert [s["position"] for s in shown] == [1, 2, 3, 4, 5, 6]
    held = await visible_stages(api)
    # The enum literal, the string and a variable typed `Stage!` are the same key.
    literal = await api.data("{ opportunities(filter: {stage: PROPOSAL}) { totalCount } }")
    text = await api.data('{ opportunities(filter: {stage: "PROPOSAL"}) { totalCount } }')
    variable = await api.data(
        "query($s: Stage!) { opportunities(filter: {stage: $s}) { totalCount nodes { stage } } }", {"s": "PROPOSAL"}
    )
    assert literal == text == {"opportunities": {"totalCount": held["PROPOSAL"]}}
    assert variable["opportunities"]["totalCount"] == held["PROPOSAL"]
    assert {n["stage"] for n in variable["opportunities"]["nodes"]} <= {"PROPOSAL"}
    for status, kind in (("OPEN", "OPEN"), ("WON", "WON"), ("LOST", "LOST")):
        assert await count(api, {"status": status}) == sum(n for k, n in held.items() if dict(SEEDED_KINDS)[k] == kind)
    # A partner reads the stages too (every signed-in caller does).
    partner = (await api.data(STAGES, token=writable.partner_token))["settings"]["stages"]
    assert [s["key"] for s in partner] == [k for k, _, _ in SEEDED]


SEEDED_KINDS = [(k, kind) for k, kind, _ in SEEDED]


async def test_a_won_kind_stage_counts_as_won_everywhere_and_an_open_one_joins_the_board_in_order(api, writable):
    before = (await api.data(BOARD))["scoreboard"]
    paid = await api.data(CREATE, {"input": {"key": "WON_PAID", "name": "Won – paid", "kind": "WON"}})
    paid = paid["createOpportunityStage"]["opportunityStage"]
    assert (paid["kind"], paid["probability"], paid["position"]) == ("WON", 100, 7)
    admin = (await api.data("{ viewer { user { id } } }"))["viewer"]["user"]["id"]
    revenue = await sell(api, writable, admin, "500.00")
    sold = (await api.data(BOARD))["scoreboard"]
    assert sold["dealsWon"] == before["dealsWon"] + 1
    deal_id = max(row.id for row in await stage_rows(writable) if row.stage == "WON")  # the one just sold
    moved = await api.data(MOVE, {"input": {"id": ids.encode("Opportunity", deal_id), "stage": "WON_PAID"}})
    moved = moved["changeOpportunityStage"]["opportunity"]
    assert (moved["stage"], moved["isOpen"], moved["locked"], moved["stageDetails"]) == (
        "WON_PAID",
        False,
        True,
        {"key": "WON_PAID", "kind": "WON"},
    )
    # Still won: the board, the status filter and the funnel count it as before the move.
    assert (await api.data(BOARD))["scoreboard"] == sold
    assert await count(api, {"status": "WON"}) == await count(api, {"stageIn": ["WON", "WON_PAID"]})
    assert await count(api, {"stage": "WON_PAID"}) == 1
    kind = await api.data('{ opportunities(criteria: {field: STAGE_KIND, in: ["WON"]}) { totalCount } }')
    assert kind["opportunities"]["totalCount"] == await count(api, {"status": "WON"})
    funnel = (await api.data(FUNNEL))["salesReports"]["funnel"]
    assert funnel["won"]["deals"] == sold["dealsWon"]
    assert Decimal(sold["wonRevenue"]["amount"]) >= revenue
    await no_bucket_differs(writable)

    # An open stage placed second: the board's columns and the funnel follow the order.
    demo = await api.data(CREATE, {"input": {"key": "DEMO", "name": "Demo", "probability": 20, "position": 2}})
    assert demo["createOpportunityStage"]["opportunityStage"]["position"] == 2
    assert [s["key"] for s in await settings(api)] == [
        "PROSPECTING",
        "DEMO",
        "QUALIFICATION",
        "PROPOSAL",
        "NEGOTIATION",
        "WON",
        "LOST",
        "WON_PAID",
    ]
    opened = await new_opportunity(api, writable, stage="DEMO")
    assert opened["stage"] == "DEMO"
    columns = (await api.data(COLUMNS))["opportunityBoard"]
    assert [c["stage"] for c in columns] == ["PROSPECTING", "DEMO", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"]
    assert columns[1]["totalCount"] == 1
    funnel = (await api.data(FUNNEL))["salesReports"]["funnel"]
    assert [s["stage"] for s in funnel["stages"]][:2] == ["PROSPECTING", "DEMO"]
    assert (await api.data(BOARD))["scoreboard"]["openDeals"] == sold["openDeals"] + 1
    await no_bucket_differs(writable)

    reordered = await api.data(
        REORDER,
        {
            "input": {
                "keys": ["PROSPECTING", "QUALIFICATION", "DEMO", "PROPOSAL", "NEGOTIATION", "WON", "WON_PAID", "LOST"]
            }
        },
    )
    assert [s["key"] for s in reordered["reorderOpportunityStages"]["stages"]][2] == "DEMO"
    columns = (await api.data(COLUMNS))["opportunityBoard"]
    assert [c["stage"] for c in columns][:3] == ["PROSPECTING", "QUALIFICATION", "DEMO"]


async def test_unknown_closed_and_deactivated_stages_are_typed_errors_on_writes_and_still_shown(api, writable):
    account = (await api.data("{ accounts(first: 1) { nodes { id } } }"))["accounts"]["nodes"][0]["id"]
    base = {"name": "Try", "accountId": account}
    unknown = (await api.data(CREATE_OPPORTUNITY, {"input": {**base, "stage": "NO_SUCH"}}))["createOpportunity"]
    assert (unknown["__typename"], unknown["field"]) == ("ValidationError", "stage")
    assert "NO_SUCH is not an opportunity stage; one of PROSPECTING" in unknown["message"]
    closed = (await api.data(CREATE_OPPORTUNITY, {"input": {**base, "stage": "WON_PAID"}}))["createOpportunity"]
    assert closed["__typename"] == "ValidationError" and "open stage" in closed["message"]
    demo = next(s for s in await settings(api) if s["key"] == "DEMO")
    off = (await api.data(UPDATE, {"input": {"id": demo["id"], "active": False}}))["updateOpportunityStage"]
    assert off["opportunityStage"]["active"] is False
    refused = (await api.data(CREATE_OPPORTUNITY, {"input": {**base, "stage": "DEMO"}}))["createOpportunity"]
    assert refused["__typename"] == "ValidationError" and "DEMO is deactivated" in refused["message"]
    # The deal already in it keeps showing it, and the board keeps its column while it holds a deal.
    assert await count(api, {"stage": "DEMO"}) == 1
    assert "DEMO" in [c["stage"] for c in (await api.data(COLUMNS))["opportunityBoard"]]
    assert [
        s["key"]
        for s in (await api.data("{ settings { stages(includeInactive: false) { key } } }"))["settings"]["stages"]
    ].count("DEMO") == 0
    # The last active stage of a kind stays: a sale and a loss need one.
    lost = next(s for s in await settings(api) if s["key"] == "LOST")
    last = (await api.data(UPDATE, {"input": {"id": lost["id"], "active": False}}))["updateOpportunityStage"]
    assert last["__typename"] == "ConflictError" and "last active LOST-kind stage" in last["message"]
    # A stage that holds deals keeps its kind.
    kind = (await api.data(UPDATE, {"input": {"id": demo["id"], "kind": "WON"}}))["updateOpportunityStage"]
    assert kind["__typename"] == "ConflictError" and "holds 1 opportunities" in kind["message"]
    # Only admins change stages: a rep's token is refused (the scope is an admin's).
    async with writable.engine.connect() as conn:
        rep = (
            await conn.execute(select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").limit(1))
        ).scalar_one()
    token = await issue_token(writable.engine, name="rep", user_id=rep)
    response = await api.post(CREATE, {"input": {"key": "X", "name": "X", "probability": 5}}, token=token)
    assert "INSUFFICIENT_SCOPE" in response.text


async def test_a_stage_in_use_is_not_deleted_and_the_error_names_what_uses_it(api, writable):
    by_key = {s["key"]: s for s in await settings(api)}
    monitor = await api.data(
        """mutation($input: CreateStatusMonitorInput!) { createStatusMonitor(input: $input) {
        ... on StatusMonitorPayload { statusMonitor { id } } ... on UserError { message } } }""",
        {
            "input": {
                "name": "Stuck in proposal",
                "entityType": "OPPORTUNITY",
                "rule": {"kind": "STUCK_IN_STAGE", "days": 30, "stage": "PROPOSAL"},
            }
        },
    )
    assert "statusMonitor" in monitor["createStatusMonitor"], monitor
    async with writable.engine.connect() as conn:  # every opportunity in it, hidden from the admin or not
        held = Counter(
            stage for _, stage in await conn.execute(select(tables.opportunities.c.id, tables.opportunities.c.stage))
        )["PROPOSAL"]
    refused = (await api.data(DELETE, {"input": {"id": by_key["PROPOSAL"]["id"]}}))["deleteOpportunityStage"]
    assert refused["__typename"] == "ConflictError"
    assert f"in use by {held} opportunities, 1 status monitors" in refused["message"]
    assert "deactivate it instead" in refused["message"]
    # An unused stage goes, and the order closes up.
    spare = await api.data(CREATE, {"input": {"key": "SPARE", "name": "Spare", "probability": 5}})
    spare = spare["createOpportunityStage"]["opportunityStage"]
    renamed = await api.data(UPDATE, {"input": {"id": spare["id"], "name": "Spare stage", "version": spare["version"]}})
    assert renamed["updateOpportunityStage"]["opportunityStage"]["version"] == spare["version"] + 1
    history = await api.data(
        "query($id: ID!) { node(id: $id) { ... on OpportunityStage { history { nodes { field oldValue newValue } } } } }",
        {"id": spare["id"]},
    )
    assert {"field": "name", "oldValue": "Spare", "newValue": "Spare stage"} in history["node"]["history"]["nodes"]
    gone = (await api.data(DELETE, {"input": {"id": spare["id"]}}))["deleteOpportunityStage"]
    assert gone == {"deletedId": spare["id"]}
    assert [s["position"] for s in await settings(api)] == list(range(1, len(by_key) + 1))
    assert "SPARE" not in await kinds_of(writable)


async def test_reads_that_ask_a_stage_cost_no_statement_once_the_process_has_the_stages(api, writable):
    plain = "{ opportunities(first: 20) { nodes { id stage } } }"
    asking = "{ opportunities(first: 20) { nodes { id stage isOpen stageDetails { key kind name } } } }"
    await api.post(asking)  # a stage changed in an earlier test: this process reads the stages again once
    assert statements(await api.post(asking)) == statements(await api.post(plain))


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
async def test_a_database_seeded_by_the_previous_revision_reads_the_same_after_the_upgrade(
    name, request, tmp_path_factory
):
    # Today's seed at the revision before the stages (0021_customfields): the session's seeded database taken back
    # by 0022's downgrade (which drops what 0022 added; migrating an empty database there and seeding it takes
    # 15-30 s a backend, over the suite's budget). Then the upgrade under test.
    url, summary = await seeded_database(request, tmp_path_factory, name, 60)
    await asyncio.to_thread(downgrade, url, "0021_customfields")
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert not await conn.run_sync(lambda sync: inspect(sync).has_table("opportunity_stages"))
            deals = sorted(await conn.execute(select(tables.opportunities)))
            buckets = sorted(await conn.execute(select(tables.scoreboard_buckets)))
            reports = sorted(await conn.execute(select(tables.report_buckets)))
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, url, "head")
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:  # no row rewritten, no bucket moved
            assert sorted(await conn.execute(select(tables.opportunities))) == deals
            assert sorted(await conn.execute(select(tables.scoreboard_buckets))) == buckets
            assert sorted(await conn.execute(select(tables.report_buckets))) == reports
            assert await conn.run_sync(aggregates.differences) == []
        token = await issue_token(engine, name="after the upgrade", user_id=summary.admin_user_id)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(engine, dispatch=False)), base_url="http://salesgraph.test"
        ) as http:
            api = GraphQLClient(http, token)
            assert [(s["key"], s["kind"], s["probability"]) for s in await settings(api)] == SEEDED
            page = await api.data(
                "{ opportunities(first: 100) { totalCount nodes { id stage probability isOpen stageDetails { kind } } } }"
            )
        stored = {row.id: row for row in deals}
        nodes = page["opportunities"]["nodes"]
        assert page["opportunities"]["totalCount"] == len(nodes) > 0
        kinds = dict(SEEDED_KINDS)
        for node in nodes:
            row = stored[ids.decode_as(node["id"], "Opportunity")]
            assert (node["stage"], node["probability"]) == (row.stage, row.probability)
            assert node["isOpen"] is (kinds[row.stage] == "OPEN")
            assert node["stageDetails"] == {"kind": kinds[row.stage]}
    finally:
        await engine.dispose()
