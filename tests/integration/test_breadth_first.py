"""The breadth-first executor answers exactly what graphql-core's executor answers, and leaves
to it every request it cannot answer the same way."""

from __future__ import annotations

import pytest
from graphql import ExecutionResult, execute, parse

from domain.access import Principal
from domain.enums import Role
from gql import ids
from gql.breadth_first import BreadthFirst
from gql.context import Context
from gql.execution import FastExecutor, mark_fast_fields
from gql.schema.schema import schema

mark_fast_fields(schema._schema)

QUERIES = {
    "nested with fragments and aliases": (
        """
        fragment Money on Money { amount currency }
        query { accounts(first: 12, orderBy: {field: NAME, direction: DESC}) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { __typename id name kind categoryGroup customAttributes { key value } isFavourite
            manager { name role team { name } } parent { name } partner { name }
            big: opportunities(first: 2, filter: {status: OPEN}, orderBy: {field: ESTIMATED_REVENUE, direction: DESC}) {
              totalCount nodes { name estimatedRevenue { ...Money } weightedRevenue { ...Money } isOpen } }
            opportunities(first: 100) { pageInfo { hasNextPage endCursor } nodes { id name stage probability
              expectedCloseDate closedAt actualRevenue { ...Money } owner { email }
              activeQuote { id total { ...Money } }
              quotes { name currency isActive validFrom priceBook { name brands regions previous { name } }
                items { position name quantity discountPercent isRounding unitName unitPrice { ...Money }
                  total { ...Money } product { code category units { name recurring periodMonths } } } }
              contracts { name kind status startsOn endsOn value { ...Money } product { code } }
              relatedAccounts { name } businessRoles { role contact { name } } } }
            contacts(first: 5) { nodes { name leadStatus category contactType { name kind } } }
            linkedAccounts { name } groups { name } subAccounts(first: 3) { totalCount nodes { name } } } } } }
        """,
        None,
    ),
    "variables, skip and include": (
        """
        query($withQuotes: Boolean!, $skipOwner: Boolean!, $n: Int) {
          opportunities(first: $n, filter: {hasQuotes: true}) { nodes {
            name owner @skip(if: $skipOwner) { name }
            quotes @include(if: $withQuotes) { name items { name } } } } }
        """,
        {"withQuotes": True, "skipOwner": True, "n": 15},
    ),
    "node and nodes with inline fragments": (
        """
        query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
          ... on Account { name opportunities(first: 1) { nodes { name } } }
          ... on Opportunity { name account { name } }
          ... on Product { code } } }
        """,
        "ids",
    ),
    "root lists, campaigns, lead board, viewer": (
        """
        { viewer { user { name email role } partner { name } scopes }
          campaigns(first: 10) { nodes { name status costs { amount currency } startsOn
            figures { leads openLeads qualifiedLeads disqualifiedLeads opportunities wonOpportunities
              wonRevenue { amount currency } costPerLead { amount currency } roiPercent }
            leads(first: 3) { totalCount nodes { name: lastName status campaign { name } assignedUser { name } } } } }
          leadBoard(limit: 2) { status totalCount leads { company priority } }
          partners(first: 5) { nodes { name consultants { name } accounts(first: 2) { totalCount nodes { name } }
            activities(first: 2) { nodes { type subject owner { name } } } } }
          priceBooks(first: 5) { nodes { name isUpdate entries(currency: "NOK") { price { amount currency } unit { name } }
            bundles { name components { weight unit { name product { name } } } } } }
          users(first: 5, filter: {role: SALES_REP}) { nodes { name goals { periodStart targetRevenue { amount } targetDeals } } }
          teams { name members { name } } contactTypes { name kind } accountGroups { name }
          exchangeRates { currency rate }
          salesActivities(last: 4) { edges { cursor node { type done dueAt occurredAt lead { company } account { name } } } } }
        """,
        None,
    ),
}


async def _both(backend, query: str, variables: dict | None):
    principal = Principal(token_id=1, user_id=backend.summary.admin_user_id, role=Role.ADMIN)
    document = parse(query)
    fast = await BreadthFirst(schema).execute(
        document, Context(engine=backend.engine, principal=principal, request_id="a"), variables, None
    )
    standard = execute(
        schema._schema,
        document,
        variable_values=variables,
        executor_class=FastExecutor,
        context_value=Context(engine=backend.engine, principal=principal, request_id="b"),
    )
    return fast, standard if isinstance(standard, ExecutionResult) else await standard


@pytest.mark.parametrize("name", list(QUERIES))
async def test_breadth_first_gives_the_same_response_as_graphql_core(backend, gql, name):
    query, variables = QUERIES[name]
    if variables == "ids":
        found = await gql.data(
            "{ accounts(first: 2) { nodes { id } } opportunities(first: 2) { nodes { id } } "
            "products(first: 1) { nodes { id } } }"
        )
        variables = {"ids": [n["id"] for key in ("accounts", "opportunities", "products") for n in found[key]["nodes"]]}
    fast, standard = await _both(backend, query, variables)
    assert standard.errors is None, standard.errors
    assert fast is not None, "the breadth-first executor left a plain query to graphql-core"
    assert fast.errors is None
    assert fast.data == standard.data
    assert list(fast.data) == list(standard.data)  # same key order


@pytest.mark.parametrize(
    "query",
    [
        "{ accounts(first: 1000) { nodes { name } } }",  # a resolver raises a client error
        "{ __schema { queryType { name } } }",  # introspection
        "query($id: ID!) { node(id: $id) { id } }",  # variables that do not coerce
    ],
)
async def test_what_it_cannot_answer_exactly_is_left_to_graphql_core(backend, query):
    fast, standard = await _both(backend, query, {"id": 5} if "$id" in query else None)
    assert fast is None


async def test_a_field_error_beside_a_pending_load_is_reported_not_turned_into_a_cancelled_request(gql, backend):
    # The breadth-first run fails on `accounts` while `node` waits for a loader batch; the standard
    # executor then reports the error. It used to reuse the cancelled load and the request died.
    account = ids.encode("Account", 1)
    response = await gql.post(f'{{ node(id: "{account}") {{ id }} accounts(first: 0, last: 0) {{ totalCount }} }}')
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "INVALID_PAGE"
