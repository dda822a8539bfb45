"""Nested reads cost a fixed number of SQL statements however many parents they return,
and return what the database holds, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from persistence import tables
from tests.conftest import statements

NESTED = """
query Nested($n: Int!) {
  accounts(first: $n, orderBy: {field: CREATED_AT}) {
    nodes {
      id
      name
      opportunities(first: 100) {
        totalCount
        nodes {
          name
          stage
          quotes {
            name
            isActive
            items { name quantity total { amount currency } product { code name } }
          }
        }
      }
    }
  }
}
"""


async def test_a_four_level_query_costs_the_same_statements_for_1_and_50_accounts(gql, backend):
    one = await gql.post(NESTED, {"n": 1})
    fifty = await gql.post(NESTED, {"n": 50})
    assert one.status_code == fifty.status_code == 200
    assert "errors" not in fifty.json()
    assert len(fifty.json()["data"]["accounts"]["nodes"]) == 50
    # accounts, opportunities (one window for all accounts), quotes, items, products; the token was read
    # by the first request only (this process keeps it)
    assert statements(one) == 6 and statements(fifty) == 5


async def test_the_nested_query_returns_every_item_the_database_holds(gql, backend):
    body = await gql.data(NESTED, {"n": 50})
    accounts = body["accounts"]["nodes"]
    account_ids = [int(_pk(a["id"])) for a in accounts]
    items_in_response = sum(len(q["items"]) for a in accounts for o in a["opportunities"]["nodes"] for q in o["quotes"])
    opportunities_in_response = sum(len(a["opportunities"]["nodes"]) for a in accounts)
    async with backend.engine.connect() as conn:
        opportunity_count = (
            await conn.execute(
                select(func.count())
                .select_from(tables.opportunities)
                .where(tables.opportunities.c.account_id.in_(account_ids))
            )
        ).scalar_one()
        item_count = (
            await conn.execute(
                select(func.count())
                .select_from(
                    tables.quote_items.join(tables.quotes, tables.quotes.c.id == tables.quote_items.c.quote_id).join(
                        tables.opportunities, tables.opportunities.c.id == tables.quotes.c.opportunity_id
                    )
                )
                .where(tables.opportunities.c.account_id.in_(account_ids))
            )
        ).scalar_one()
    assert opportunities_in_response == opportunity_count > 0
    assert items_in_response == item_count > 0
    assert all(a["opportunities"]["totalCount"] == len(a["opportunities"]["nodes"]) for a in accounts)


async def test_a_quote_total_is_the_rounded_sum_of_its_items(gql):
    body = await gql.data("""{ opportunities(first: 30, filter: {hasActiveQuote: true}) { nodes {
        activeQuote { total { amount currency } items { total { amount currency } } } } } }""")
    from decimal import Decimal

    quotes = [o["activeQuote"] for o in body["opportunities"]["nodes"]]
    assert quotes
    for quote in quotes:
        assert Decimal(quote["total"]["amount"]) == sum(Decimal(i["total"]["amount"]) for i in quote["items"])
        assert {i["total"]["currency"] for i in quote["items"]} <= {quote["total"]["currency"]}


SIBLINGS = """
{
  opportunities(first: 60) {
    nodes {
      account { name parent { name } manager { name } partner { name } contacts(first: 5) { nodes { name leadStatus } } }
      owner { name team { name } goals { targetRevenue { amount } } }
      partner { name consultants { name } }
      campaign { name figures { leads wonRevenue { amount } } }
      quotes { priceBook { name } items { unit { name product { name } } } }
      activeQuote { name }
      contracts { name product { name } }
      relatedAccounts { name }
      businessRoles { role contact { name } }
      activities(first: 3) { nodes { subject owner { name } } }
    }
  }
  a: accounts(first: 40) { nodes { linkedAccounts { name } groups { name } subAccounts { totalCount } } }
  p: partners(first: 10) { nodes { accounts { totalCount } leads { totalCount } opportunities { totalCount } } }
}
"""


async def test_many_sibling_relations_take_turns_on_one_connection_per_request(gql, backend):
    # Sibling relations load concurrently, and asyncpg fails with "another operation is in progress" when
    # two statements run at once on one connection: each request's batches take turns on its own
    # connection, taken from the pool once for the whole request.
    await gql.post("{ __typename }")  # the token, kept by this process from now on
    pool = backend.engine.sync_engine.pool
    checked_out, most, checkouts = set(), [0], [0]

    def checkout(dbapi_connection, record, proxy):
        assert id(dbapi_connection) not in checked_out
        checked_out.add(id(dbapi_connection))
        checkouts[0] += 1
        most[0] = max(most[0], len(checked_out))

    def checkin(dbapi_connection, record):
        checked_out.discard(id(dbapi_connection))

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        responses = await asyncio.gather(*(gql.post(SIBLINGS) for _ in range(4)))
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    for response in responses:
        body = response.json()
        assert response.status_code == 200
        assert "errors" not in body, body.get("errors")
        assert len(body["data"]["opportunities"]["nodes"]) == 60
        assert statements(response) > 20  # every relation its own statement, all on the request's connection
    assert checkouts[0] == 4 and most[0] <= 4 and not checked_out


def _pk(global_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().split(":")[1]
