"""Root lists: Relay paging, totalCount, filters and ordering, node/nodes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from persistence import tables

PAGE = """query Page($first: Int, $after: String, $last: Int, $before: String) {
  opportunities(first: $first, after: $after, last: $last, before: $before, orderBy: {field: NAME}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name } }
  }
}"""


async def test_paging_forward_visits_every_opportunity_once_in_order(gql, backend):
    seen, after = [], None
    while True:
        page = (await gql.data(PAGE, {"first": 37, "after": after}))["opportunities"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    async with backend.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(tables.opportunities))).scalar_one()
    assert len(seen) == len(set(seen)) == total == page["totalCount"]


async def test_paging_backward_from_a_cursor_returns_the_items_before_it(gql):
    first = (await gql.data(PAGE, {"first": 10}))["opportunities"]
    cursor_of_eighth = first["edges"][7]["cursor"]
    back = (await gql.data(PAGE, {"last": 3, "before": cursor_of_eighth}))["opportunities"]
    assert [e["node"]["id"] for e in back["edges"]] == [e["node"]["id"] for e in first["edges"][4:7]]
    assert back["pageInfo"]["hasPreviousPage"] is True and back["pageInfo"]["hasNextPage"] is True
    tail = (await gql.data(PAGE, {"last": 2}))["opportunities"]
    assert tail["pageInfo"]["hasNextPage"] is False and len(tail["edges"]) == 2


async def test_nested_connections_page_per_parent(gql):
    query = """query($after: String) { accounts(first: 20, filter: {hasOpportunities: true}) { nodes {
        opportunities(first: 1, after: $after, orderBy: {field: NAME}) {
          totalCount pageInfo { hasNextPage endCursor } nodes { name } } } } }"""
    accounts = (await gql.data(query))["accounts"]["nodes"]
    for account in accounts:
        page = account["opportunities"]
        assert len(page["nodes"]) == 1
        assert page["pageInfo"]["hasNextPage"] == (page["totalCount"] > 1)
    second = await gql.data(query, {"after": accounts[0]["opportunities"]["pageInfo"]["endCursor"]})
    for before, after in zip(accounts, second["accounts"]["nodes"]):
        total = before["opportunities"]["totalCount"]
        assert after["opportunities"]["totalCount"] == total
        assert len(after["opportunities"]["nodes"]) == (1 if total > 1 else 0)
        if total > 1:
            assert after["opportunities"]["nodes"][0]["name"] >= before["opportunities"]["nodes"][0]["name"]


async def test_filters_return_only_matching_opportunities(gql):
    query = """query($f: OpportunityFilter) { opportunities(first: 100, filter: $f) { totalCount nodes {
        stage estimatedRevenue { amount currency } quotes { id } } } }"""
    won = (await gql.data(query, {"f": {"stage": "WON"}}))["opportunities"]
    assert won["totalCount"] > 0 and {o["stage"] for o in won["nodes"]} == {"WON"}
    open_ = (await gql.data(query, {"f": {"status": "OPEN"}}))["opportunities"]
    assert {o["stage"] for o in open_["nodes"]} <= {"PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION"}
    ranged = await gql.data(query, {"f": {"estimatedRevenueMin": "10000", "estimatedRevenueMax": "50000"}})
    assert all(
        Decimal("10000") <= Decimal(o["estimatedRevenue"]["amount"]) <= Decimal("50000")
        for o in ranged["opportunities"]["nodes"]
    )
    without = (await gql.data(query, {"f": {"hasQuotes": False}}))["opportunities"]
    assert all(o["quotes"] == [] for o in without["nodes"])
    everything = (await gql.data(query))["opportunities"]["totalCount"]
    with_quotes = (await gql.data(query, {"f": {"hasQuotes": True}}))["opportunities"]["totalCount"]
    assert with_quotes + without["totalCount"] == everything


async def test_text_search_is_case_insensitive_and_ordering_follows_the_field(gql):
    names = [
        a["name"]
        for a in (
            await gql.data("{ accounts(first: 100, orderBy: {field: NAME, direction: DESC}) { nodes { name } } }")
        )["accounts"]["nodes"]
    ]
    assert names == sorted(names, reverse=True)
    word = names[0].split()[0]
    found = (
        await gql.data(
            "query($s: String) { accounts(first: 100, filter: {search: $s}) { nodes { name } } }", {"s": word.upper()}
        )
    )["accounts"]["nodes"]
    assert found and all(word.lower() in a["name"].lower() for a in found)


async def test_filter_by_owner_uses_global_ids(gql):
    users = (await gql.data("{ users(first: 50, filter: {role: SALES_REP}) { nodes { id name } } }"))["users"]["nodes"]
    rep = users[0]
    owned = (
        await gql.data(
            "query($id: ID) { opportunities(first: 100, filter: {ownerId: $id}) { totalCount nodes { owner { id } } } }",
            {"id": rep["id"]},
        )
    )["opportunities"]
    assert owned["totalCount"] > 0
    assert {o["owner"]["id"] for o in owned["nodes"]} == {rep["id"]}


async def test_node_and_nodes_fetch_any_object_by_global_id(gql):
    ids = [o["id"] for o in (await gql.data("{ opportunities(first: 3) { nodes { id } } }"))["opportunities"]["nodes"]]
    node = (
        await gql.data(
            "query($id: ID!) { node(id: $id) { id __typename ... on Opportunity { name } } }", {"id": ids[0]}
        )
    )["node"]
    assert node["id"] == ids[0] and node["__typename"] == "Opportunity"
    import base64

    missing = base64.urlsafe_b64encode(b"Opportunity:987654321").decode().rstrip("=")
    nodes = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [ids[1], missing, ids[2]]})
    assert nodes["nodes"] == [{"id": ids[1]}, None, {"id": ids[2]}]


async def test_lead_board_has_a_column_per_status_with_counts(gql, backend):
    board = (await gql.data("{ leadBoard(limit: 3) { status totalCount leads { status archived } } }"))["leadBoard"]
    assert [c["status"] for c in board] == ["OPEN", "CONTACTING", "QUALIFIED", "DISQUALIFIED", "REWORK"]
    async with backend.engine.connect() as conn:
        counts = dict(
            (
                await conn.execute(
                    select(tables.leads.c.status, func.count())
                    .where(tables.leads.c.archived.is_(False))
                    .group_by(tables.leads.c.status)
                )
            ).all()
        )
    for column in board:
        assert column["totalCount"] == counts.get(column["status"], 0)
        assert all(lead["status"] == column["status"] and not lead["archived"] for lead in column["leads"])
        assert len(column["leads"]) == min(3, column["totalCount"])


async def test_nested_last_and_before_page_from_the_end_of_each_parents_list(gql):
    query = """query($last: Int, $before: String) { accounts(first: 15, filter: {hasOpportunities: true}) { nodes {
        all: opportunities(first: 100, orderBy: {field: NAME}) { nodes { id } }
        tail: opportunities(last: $last, before: $before, orderBy: {field: NAME}) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { cursor node { id } } } } } }"""
    accounts = (await gql.data(query, {"last": 2}))["accounts"]["nodes"]
    for account in accounts:
        every = [n["id"] for n in account["all"]["nodes"]]
        tail = account["tail"]
        assert [e["node"]["id"] for e in tail["edges"]] == every[-2:]
        assert tail["totalCount"] == len(every)
        assert tail["pageInfo"]["hasNextPage"] is False
        assert tail["pageInfo"]["hasPreviousPage"] == (len(every) > 2)
    longest = max(accounts, key=lambda a: len(a["all"]["nodes"]))
    cursor = longest["tail"]["pageInfo"]["startCursor"]
    before = (await gql.data(query, {"last": 1, "before": cursor}))["accounts"]["nodes"]
    match = next(
        a for a in before if [n["id"] for n in a["all"]["nodes"]] == [n["id"] for n in longest["all"]["nodes"]]
    )
    every = [n["id"] for n in longest["all"]["nodes"]]
    assert [e["node"]["id"] for e in match["tail"]["edges"]] == every[-3:-2]
    assert match["tail"]["pageInfo"]["hasNextPage"] is True


async def test_paging_past_the_end_gives_an_empty_page_and_first_with_last_is_refused(gql):
    first = (await gql.data(PAGE, {"first": 1}))["opportunities"]
    total = first["totalCount"]
    import base64

    beyond = base64.urlsafe_b64encode(f"cursor:{total + 5}".encode()).decode().rstrip("=")
    empty = (await gql.data(PAGE, {"first": 5, "after": beyond}))["opportunities"]
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is False
    assert empty["pageInfo"]["hasPreviousPage"] is True and empty["totalCount"] == total
    both = (await gql.post(PAGE, {"first": 2, "last": 2})).json()
    assert both["errors"][0]["extensions"]["code"] == "INVALID_PAGE"
    assert "not both" in both["errors"][0]["message"]


async def test_nodes_takes_at_most_100_ids(gql):
    import base64

    ids = [base64.urlsafe_b64encode(f"Account:{i}".encode()).decode().rstrip("=") for i in range(1, 102)]
    body = (await gql.post("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PAGE"
    assert (await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids[:100]}))["nodes"][0]


async def test_a_before_cursor_past_the_end_pages_back_from_the_end_like_the_root_list(gql):
    import base64

    beyond = base64.urlsafe_b64encode(b"cursor:1000").decode().rstrip("=")
    query = """query($before: String) { accounts(first: 10, filter: {hasOpportunities: true}) { nodes {
        all: opportunities(first: 100, orderBy: {field: NAME}) { nodes { id } }
        tail: opportunities(last: 2, before: $before, orderBy: {field: NAME}) { edges { node { id } } } } } }"""
    for account in (await gql.data(query, {"before": beyond}))["accounts"]["nodes"]:
        assert [e["node"]["id"] for e in account["tail"]["edges"]] == [n["id"] for n in account["all"]["nodes"]][-2:]


NO_TOTAL = """query Page($first: Int, $after: String) {
  opportunities(first: $first, after: $after, orderBy: {field: NAME}) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor }
  }
}"""


async def test_an_empty_first_zero_page_still_tells_whether_rows_follow(gql):
    start = (await gql.data(NO_TOTAL, {"first": 0}))["opportunities"]
    assert start["edges"] == [] and start["pageInfo"]["hasNextPage"] is True
    everything = (await gql.data(PAGE, {"last": 1}))["opportunities"]
    last_cursor = everything["edges"][0]["cursor"]
    end = (await gql.data(NO_TOTAL, {"first": 0, "after": last_cursor}))["opportunities"]
    assert end["edges"] == [] and end["pageInfo"]["hasNextPage"] is False
    assert end["pageInfo"]["hasPreviousPage"] is True
