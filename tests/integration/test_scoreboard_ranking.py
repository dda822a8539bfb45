"""A bounded scoreboard: `ranking` gives the reps a page at a time in the order `reps` lists them,
cursors page on to the end, `viewerRep` is the caller's own row wherever it ranks, and a page over
the limit is refused before anything runs."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.support.live import live_server
from tests.support.ws import GraphQLSocket

MONEY = "{ amount currency }"
REP = f"rank user {{ id }} wonRevenue {MONEY} dealsWon openPipeline {MONEY}"
BOARD = f"""query($first: Int, $after: String, $last: Int, $before: String) {{
  scoreboard(period: {{preset: ALL_TIME}}) {{
    reps {{ {REP} }}
    ranking(first: $first, after: $after, last: $last, before: $before) {{
      totalCount
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
      edges {{ cursor node {{ {REP} }} }}
      nodes {{ rank }}
    }}
    viewerRep {{ {REP} }}
  }}
}}"""


async def test_pages_of_the_ranking_follow_each_other_to_the_whole_list_of_reps(api):
    pages, after = [], None
    while True:
        board = (await api.data(BOARD, {"first": 3, "after": after}))["scoreboard"]
        ranking = board["ranking"]
        assert [e["node"] for e in ranking["edges"]] == board["reps"][len(pages) * 3 : len(pages) * 3 + 3]
        assert [n["rank"] for n in ranking["nodes"]] == [e["node"]["rank"] for e in ranking["edges"]]
        assert ranking["totalCount"] == len(board["reps"])
        assert ranking["pageInfo"]["hasPreviousPage"] is (after is not None)
        pages.append(ranking["edges"])
        if not ranking["pageInfo"]["hasNextPage"]:
            break
        after = ranking["pageInfo"]["endCursor"]
        assert after == ranking["edges"][-1]["cursor"]
    assert [e["node"] for page in pages for e in page] == board["reps"]
    assert len(pages) == -(-len(board["reps"]) // 3) > 1


async def test_the_last_reps_come_with_last_and_before_walks_back(api):
    board = (await api.data(BOARD, {"last": 2}))["scoreboard"]
    assert [e["node"] for e in board["ranking"]["edges"]] == board["reps"][-2:]
    assert board["ranking"]["pageInfo"]["hasNextPage"] is False
    before = board["ranking"]["pageInfo"]["startCursor"]
    earlier = (await api.data(BOARD, {"last": 2, "before": before}))["scoreboard"]
    assert [e["node"] for e in earlier["ranking"]["edges"]] == board["reps"][-4:-2]


async def test_without_arguments_a_page_is_the_top_20(api):
    board = (await api.data(BOARD))["scoreboard"]
    assert [e["node"] for e in board["ranking"]["edges"]] == board["reps"][:20]


async def test_a_rep_sees_its_own_row_wherever_it_ranks_and_a_partner_none(api, writable):
    board = (await api.data(BOARD, {"first": 1}))["scoreboard"]
    lowest = board["reps"][-1]
    rep_token = await issue_token(writable.engine, name="lowest rep", user_id=ids.decode(lowest["user"]["id"])[1])
    theirs = (await api.data(BOARD, {"first": 1}, token=rep_token))["scoreboard"]
    own = next(r for r in theirs["reps"] if r["user"]["id"] == lowest["user"]["id"])
    assert theirs["viewerRep"] == own
    partner = (await api.data(BOARD, {"first": 1}, token=writable.partner_token))["scoreboard"]
    assert partner["viewerRep"] is None


async def test_the_admin_without_deals_has_no_row(api, writable):
    async with writable.engine.connect() as conn:
        owners = {r[0] for r in await conn.execute(select(tables.opportunities.c.owner_id).distinct())}
    assert writable.summary.admin_user_id not in owners
    board = (await api.data(BOARD, {"first": 1}))["scoreboard"]
    assert board["viewerRep"] is None


async def test_a_page_over_the_limit_is_refused_before_it_runs(api):
    response = await api.post(BOARD, {"first": 101})
    body = response.json()
    assert body.get("data") is None and body["errors"][0]["extensions"]["code"] == "INVALID_PAGE"


async def test_a_live_board_pushes_the_page_and_the_callers_own_row(writable):
    """Over a WebSocket the same: the top rep and the subscribing rep's own row, pushed at once."""
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        lowest = (await api.data(BOARD))["scoreboard"]["reps"][-1]
        token = await issue_token(writable.engine, name="live rep", user_id=ids.decode(lowest["user"]["id"])[1])
        socket = await GraphQLSocket.open(server.url, token)
        subscription = BOARD.replace("query(", "subscription(").replace("scoreboard(period", "scoreboardUpdated(period")
        op = await socket.subscribe(subscription, {"first": 1})
        pushed = (await socket.next(op, 30.0))["data"]["scoreboardUpdated"]
        answered = (await api.data(BOARD, {"first": 1}, token=token))["scoreboard"]
        assert pushed["viewerRep"] == answered["viewerRep"] is not None
        assert pushed["ranking"]["edges"] == answered["ranking"]["edges"]
        await socket.close()
