"""The live opportunity board (`opportunityBoardUpdated`) over real WebSockets, on SQLite and PostgreSQL:
an admin, two reps and a partner watch the same board shape; a stage change, a new opportunity and a win
move the boards of those who may see the deal, each viewer's last push equal to its own `opportunityBoard`
answer; a rep's deal on its private account moves that rep's board and nobody else's (no push at all);
one event costs one read of the board whatever the number of viewers. And in Python, for every user and
partner, small limits and every kind of scope: each viewer's board cut from the one shared read equals
the query's read with the viewer's rules in SQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from domain import reports as domain
from gql import ids
from gql.auth import issue_token
from persistence import tables
from persistence.reports import BoardRequest, board_figures, cut_board, load_board, load_board_source
from persistence.visibility import Viewer
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_accounts import CREATE_ACCOUNT
from tests.integration.mutations.test_opportunities import CREATE, STAGE, new_opportunity
from tests.integration.mutations.test_quotes_and_sales import ADD_ITEMS, CREATE_QUOTE, SELL
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

WAIT = 30.0
MONEY = "{ amount currency }"
COLUMNS = f"stage totalCount amount {MONEY} weightedAmount {MONEY} opportunities {{ id name stage }}"
ARGS = "$scope: ReportScopeInput, $currency: String, $limit: Int"
BOARD = f"query({ARGS}) {{ opportunityBoard(scope: $scope, currency: $currency, limit: $limit) {{ {COLUMNS} }} }}"
UPDATED = f"""subscription({ARGS}) {{
  opportunityBoardUpdated(scope: $scope, currency: $currency, limit: $limit) {{ eventId columns {{ {COLUMNS} }} }} }}"""
VARIABLES = {"limit": 3}


async def query(api: GraphQLClient, variables: dict = VARIABLES) -> list[dict]:
    return (await api.data(BOARD, variables))["opportunityBoard"]


class Watcher:
    """One viewer's subscription: its socket, its own query client, and the pushes it received."""

    def __init__(self, name: str, api: GraphQLClient, socket: GraphQLSocket, op: str) -> None:
        self.name, self.api, self.socket, self.op = name, api, socket, op
        self.last: list[dict] | None = None

    async def pushed(self) -> list[dict]:
        result = await self.socket.next(self.op, WAIT)
        assert "errors" not in result, result
        self.last = result["data"]["opportunityBoardUpdated"]["columns"]
        return self.last

    async def converges(self) -> int:
        """Take pushes until one equals this viewer's query answer (the last one may already); how many."""
        count = 0
        if self.last is not None and self.last == await query(self.api):
            return count
        async with asyncio.timeout(WAIT):
            while True:
                board = await self.pushed()
                count += 1
                if board == await query(self.api):
                    return count


def column(board: list[dict], stage: str) -> dict:
    return next(c for c in board if c["stage"] == stage)


def shows(board: list[dict], opportunity_id: str) -> str | None:
    """The column whose first page shows the opportunity, if any."""
    for c in board:
        if any(o["id"] == opportunity_id for o in c["opportunities"]):
            return c["stage"]
    return None


async def reps(writable) -> list[int]:
    async with writable.engine.connect() as conn:
        u = tables.users.c
        return list((await conn.execute(select(u.id).where(u.role == "SALES_REP").order_by(u.id))).scalars())


async def quiet_account(writable, rep_b: int) -> str:
    """A public account with no partner that rep B does not manage: a deal there is the admin's and its
    owner's business only."""
    a = tables.accounts.c
    async with writable.engine.connect() as conn:
        found = await conn.execute(
            select(a.id).where(a.is_private.is_(False), a.partner_id.is_(None), a.manager_id != rep_b).order_by(a.id)
        )
        return ids.encode("Account", found.scalars().first())


async def test_the_live_board_follows_stage_changes_new_deals_and_wins_and_hides_what_a_viewer_may_not_see(
    writable, monkeypatch
):
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")  # the hub learns of events from the bus only
    rep_a, rep_b = (await reps(writable))[:2]
    async with live_server(writable.url, dispatch=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        admin = GraphQLClient(http, writable.admin_token)
        dispatcher = server.app.state.dispatcher
        tokens = {
            "admin": writable.admin_token,
            "rep a": await issue_token(writable.engine, name="board rep a", user_id=rep_a),
            "rep b": await issue_token(writable.engine, name="board rep b", user_id=rep_b),
            "partner": writable.partner_token,
        }
        watching: dict[str, Watcher] = {}
        for n, (name, token) in enumerate(tokens.items()):
            socket = await GraphQLSocket.open(server.url, token, [TRANSPORT_WS, LEGACY_WS][n % 2])
            watcher = Watcher(name, GraphQLClient(http, token), socket, await socket.subscribe(UPDATED, VARIABLES))
            await watcher.pushed()
            assert watcher.last == await query(watcher.api), name  # the board at once, as the query has it
            watching[name] = watcher
        boards = server.app.state.realtime.scoreboards
        [topic] = boards.topics.values()  # one read per board shape, for every viewer
        assert len(topic.views) == 4

        async def step(moved: set[str]) -> None:
            """Publish the events written so far; the boards in `moved` end on their query's answer with
            one push each, the others receive nothing (a change they may not see sends them nothing)."""
            before, reads = boards.stats.statements, topic.computations
            await dispatcher.dispatch_once()
            for name in sorted(moved):
                assert await watching[name].converges() == 1, name
            # (a push comes after the read it was cut from; a burst may take two reads when its events
            # reach the hub further apart than the coalescing pause)
            assert topic.computations > reads
            # The newest event position, the rates, the users, the buckets, the first pages' candidates.
            assert boards.stats.statements - before == 5 * (topic.computations - reads)
            for name, watcher in watching.items():
                if name not in moved:
                    assert watcher.last == await query(watcher.api), name  # unmoved, and rightly so

        partner_view = next(v for v in topic.views.values() if v.viewer.role == "PARTNER")
        partner_first = partner_view.latest
        account = await quiet_account(writable, rep_b)

        # A new opportunity of rep A's: on top of PROSPECTING for the admin and rep A.
        deal = await new_opportunity(
            admin, writable, ownerId=ids.encode("User", rep_a), name="Board deal", accountId=account
        )
        await step({"admin", "rep a"})
        for name in ("admin", "rep a"):
            board = watching[name].last
            assert column(board, "PROSPECTING")["opportunities"][0]["id"] == deal["id"], name
        assert shows(watching["rep b"].last, deal["id"]) is None

        # Its stage changes: it leaves PROSPECTING for PROPOSAL, counts and amounts move with it.
        before = watching["admin"].last
        moved = await admin.data(STAGE, {"input": {"id": deal["id"], "stage": "PROPOSAL"}})
        assert moved["changeOpportunityStage"]["__typename"] == "OpportunityPayload", moved
        await step({"admin", "rep a"})
        after = watching["admin"].last
        assert shows(after, deal["id"]) == "PROPOSAL" and shows(watching["rep a"].last, deal["id"]) == "PROPOSAL"
        assert column(after, "PROPOSAL")["totalCount"] == column(before, "PROPOSAL")["totalCount"] + 1
        assert column(after, "PROSPECTING")["totalCount"] == column(before, "PROSPECTING")["totalCount"] - 1

        # It is won: it leaves the board.
        quote = (
            await admin.data(CREATE_QUOTE, {"input": {"opportunityId": deal["id"], "name": "Offer", "currency": "EUR"}})
        )["createQuote"]
        assert quote["__typename"] == "QuotePayload", quote
        line = {"name": "Installation", "unitPrice": "1000", "currency": "EUR"}
        added = await admin.data(ADD_ITEMS, {"input": {"quoteId": quote["quote"]["id"], "items": [line]}})
        assert added["addQuoteItems"]["__typename"] == "QuotePayload", added
        sold = await admin.data(SELL, {"input": {"id": deal["id"]}})
        assert sold["markOpportunitySold"]["__typename"] == "OpportunityPayload", sold
        await step({"admin", "rep a"})
        assert shows(watching["admin"].last, deal["id"]) is None
        assert column(watching["admin"].last, "PROPOSAL")["totalCount"] == column(after, "PROPOSAL")["totalCount"] - 1

        # Rep B's deal on its own private account: only rep B's board moves, as it is created and moved.
        rep_b_api = watching["rep b"].api
        made = await rep_b_api.data(
            CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": "Rep B's own", "isPrivate": True}}
        )
        own = made["createAccount"]["account"]["id"]
        private = await rep_b_api.data(
            CREATE,
            {
                "input": {
                    "name": "Quiet deal",
                    "accountId": own,
                    "estimatedRevenue": {"amount": "900", "currency": "EUR"},
                }
            },
        )
        hidden = private["createOpportunity"]["opportunity"]["id"]
        await step({"rep b"})
        assert shows(watching["rep b"].last, hidden) == "PROSPECTING"
        moved = await rep_b_api.data(STAGE, {"input": {"id": hidden, "stage": "NEGOTIATION"}})
        assert moved["changeOpportunityStage"]["__typename"] == "OpportunityPayload", moved
        await step({"rep b"})
        assert shows(watching["rep b"].last, hidden) == "NEGOTIATION"
        for name in ("admin", "rep a", "partner"):
            assert shows(watching[name].last, hidden) is None, name

        # What a viewer may not see sent it nothing: its next message is the next change it may see.
        await new_opportunity(admin, writable, ownerId=ids.encode("User", rep_a), name="Seen again", accountId=account)
        await step({"admin", "rep a"})
        assert partner_view.latest is partner_first  # nothing here was the partner's: it was never pushed again
        # Bad arguments: the query's own errors, as the subscription's only message.
        for arguments in ({"currency": "XYZ"}, {"scope": {"teamId": ids.encode("Team", 99999)}}):
            expected = (await admin.post(BOARD, arguments)).json()["errors"][0]
            op = await watching["admin"].socket.subscribe(UPDATED, arguments)
            result = await watching["admin"].socket.next(op, WAIT)
            assert result.get("data") is None and result["errors"][0]["message"] == expected["message"], result
            assert result["errors"][0]["extensions"]["code"] == expected["extensions"]["code"]
        for watcher in watching.values():
            await watcher.socket.close()


async def every_viewer(writable) -> list[Viewer]:
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users.c.id, tables.users.c.role)))
        partners = list((await conn.execute(select(tables.partners.c.id))).scalars())
    return [
        Viewer(None),
        *(Viewer(role, user_id=user) for user, role in users),
        *(Viewer("PARTNER", partner_id=p) for p in partners),
    ]


async def test_every_viewers_board_cut_from_the_shared_read_equals_its_own_read(writable):
    async with writable.engine.connect() as conn:
        team = (await conn.execute(select(tables.teams.c.id).order_by(tables.teams.c.id))).scalars().first()
        partner = (await conn.execute(select(tables.partners.c.id).order_by(tables.partners.c.id))).scalars().first()
        rep = (await reps(writable))[0]
    viewers = await every_viewer(writable)
    requests = [
        BoardRequest(domain.ReportScope(), "EUR", 1),
        BoardRequest(domain.ReportScope(), "USD", 3),
        BoardRequest(domain.ReportScope(team_id=team), "EUR", 2),
        BoardRequest(domain.ReportScope(user_id=rep), "EUR", 5),
        BoardRequest(domain.ReportScope(partner_id=partner), "EUR", 2),
        BoardRequest(domain.ReportScope(), "EUR", 0),
    ]
    now = datetime.now(UTC)
    compared = 0
    async with writable.engine.connect() as conn:
        for request in requests:
            shared = await load_board_source(conn, request, now)
            for viewer in viewers:
                try:
                    cut = board_figures(cut_board(shared, viewer))
                except Exception as error:  # noqa: BLE001 - the same error both ways
                    cut = repr(error)
                try:
                    own = board_figures(await load_board(conn, request.scope, request.currency, request.limit, viewer))
                except Exception as error:  # noqa: BLE001
                    own = repr(error)
                assert cut == own, (viewer, request)
                compared += 1
    assert compared == len(requests) * len(viewers)
