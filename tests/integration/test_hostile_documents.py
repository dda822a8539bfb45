"""Hostile documents sent without a token (issue 13): each is refused before any SQL (0 statements, no
token lookup) or answered correctly, and the work the checks did is bounded by the document's size,
as the pipeline's `Work` counters and its parse cache's bytes show. Over HTTP and, where a document
can be sent there, over WebSocket.

1. fragments spread exponentially are summarised once (the shape check expanded them per selection set);
   introspection fields count in the cost;
2. refused documents, and documents sent without a token, are not kept by the parse cache (bounded by
   bytes), and a document over the token limit is refused before it is parsed; checking and running a
   document leaves nothing to the cyclic garbage collector, whose pauses every other request waits for;
3. repeated fields are refused before validation, and validation's overlapping-fields work is bounded;
4. new documents from one client address share a budget (429 and Retry-After beyond it);
5. the cost and the page sizes use the values the executor will use (defaults, `100.0`);
6. a search term is bounded by what it means (a VALIDATION error, not a database error)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, Node, Token, Visitor, parse
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from gql.app import create_app
from gql.limits import Work, count_tokens
from tests.conftest import statements
from tests.support.live import live_server
from tests.support.ws import GraphQLSocket

GRAPHQL_RESPONSE = "application/graphql-response+json"


def chain(fragments: int, repeats: int, field: str = "ofType") -> str:
    """The issue's document: `{ __schema { types { ...F1 } } }`, each fragment selecting `field { ...Fnext }`
    `repeats` times (5^10 expansions for 10 fragments and 5 repeats, in 1 KB)."""
    parts = []
    for n in range(1, fragments + 1):
        inner = f"...F{n + 1}" if n < fragments else "name"
        parts.append(f"fragment F{n} on __Type {{ name {' '.join(f'{field} {{ {inner} }}' for _ in range(repeats))} }}")
    return "{ __schema { types { ...F1 } } } " + " ".join(parts)


def selections(query: str) -> int:
    """The document's selections (fields, inline fragments, spreads) as written, none expanded."""
    count, stack = 0, [d.selection_set for d in parse(query).definitions]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode | InlineFragmentNode | FragmentSpreadNode):
                count += 1
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)
    return count


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 15, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class App:
    """One app instance over HTTP (ASGI) from one client address."""

    app: Any
    http: httpx.AsyncClient
    token: str

    @property
    def work(self) -> Work:
        return self.app.state.pipeline.work

    @property
    def cache(self) -> Any:
        return self.app.state.pipeline.documents

    async def post(
        self, query: str, variables: dict | None = None, token: bool = False, address: str | None = None
    ) -> httpx.Response:
        headers = {"Accept": GRAPHQL_RESPONSE}
        if token:
            headers["Authorization"] = f"Bearer {self.token}"
        http = self.http
        if address is not None:
            transport = httpx.ASGITransport(app=self.app, client=(address, 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://salesgraph.test") as other:
                return await other.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        return await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


@pytest.fixture
async def app(backend, monkeypatch) -> AsyncIterator[Any]:
    """`await app(CLOCK=…, MAX_COST="10", …)`: a new app (made after its SALESGRAPH_* settings are set)."""
    made: list[App] = []

    async def make(clock: Clock | None = None, **env: str) -> App:
        for name, value in env.items():
            monkeypatch.setenv(f"SALESGRAPH_{name.upper()}", value)
        application = create_app(backend.engine, dispatch=False, **({"clock": clock} if clock else {}))
        transport = httpx.ASGITransport(app=application, client=("192.0.2.1", 4000))
        made.append(
            App(
                application,
                httpx.AsyncClient(transport=transport, base_url="http://salesgraph.test"),
                backend.admin_token,
            )
        )
        return made[-1]

    yield make
    for client in made:
        await client.http.aclose()


def refused(response: httpx.Response, code: str, status: int = 400) -> str:
    """A refusal before anything ran: no data, the code, and no SQL (not even the token lookup)."""
    body = response.json()
    assert response.status_code == status, body
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code, body
    assert statements(response) == 0
    return body["errors"][0]["message"]


def spent(before: Work, after: Work) -> Work:
    return Work(**{f.name: getattr(after, f.name) - getattr(before, f.name) for f in fields(Work)})


def snapshot(work: Work) -> Work:
    return Work(**{f.name: getattr(work, f.name) for f in fields(Work)})


@contextlib.contextmanager
def sql(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs, but the event hub's outbox reads."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "outbox_events" not in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def socket_refusal(socket: GraphQLSocket, query: str, variables: dict | None = None) -> dict[str, Any]:
    op = await socket.subscribe(query, variables)
    message = await socket.message_of(op)
    assert message["type"] == "error", message
    return message["payload"][0]


# --- 1. fragments ---


@pytest.mark.parametrize("repeats", [5, 6])
async def test_fragments_spread_exponentially_are_summarised_once_and_answered(app, repeats):
    client = await app()
    query = chain(10, repeats)
    before = snapshot(client.work)
    response = await client.post(query)  # no token: introspection only
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert any(t["name"] == "Account" for t in body["data"]["__schema"]["types"])
    work = spent(before, client.work)
    # Each fragment summarised once by the shape check and once by the cost (not 5^10 times), and
    # each check visits each selection of the document once.
    assert work.fragment_expansions <= 2 * 10
    assert work.shape <= 2 * selections(query) and work.cost <= selections(query)
    assert work.scanned <= selections(query) and work.parsed == 1 and work.validated == 1


async def test_fragments_that_multiply_pages_are_refused_as_too_costly_having_expanded_each_once(app):
    client = await app()
    # Four fragments, each selecting a page of 10 opportunities 5 times over: 50^4 items.
    parts = []
    for n in range(1, 5):
        inner = f"...F{n + 1}" if n < 4 else "name"
        page = f"opportunities(first: 10) {{ nodes {{ account {{ {inner} }} }} }}"
        parts.append(f"fragment F{n} on Account {{ {' '.join([page] * 5)} }}")
    query = "{ accounts(first: 1) { nodes { ...F1 } } } " + " ".join(parts)
    before = snapshot(client.work)
    message = refused(await client.post(query), "QUERY_TOO_COSTLY")
    assert "SALESGRAPH_MAX_COST" in message
    work = spent(before, client.work)
    assert work.fragment_expansions <= 2 * 4 and work.cost <= selections(query)


async def test_introspection_fields_count_in_the_cost_like_any_other(app):
    client = await app(max_cost="10")
    # types (5) + their fields (5 each): 30 items
    refused(await client.post("{ __schema { types { fields { name } } } }"), "QUERY_TOO_COSTLY")
    assert (await client.post("{ __schema { types { name } } }")).status_code == 200


async def test_a_document_sent_again_with_the_same_page_sizes_is_not_walked_again_and_a_refusal_is_checked_each_time(
    app,
):
    client = await app(max_cost="300")
    query = "query Page($n: Int) { accounts(first: $n) { nodes { name opportunities(first: 5) { nodes { name } } } } }"
    first = snapshot(client.work)
    assert (await client.post(query, {"n": 10}, token=True)).status_code == 200
    walked = spent(first, client.work)
    assert walked.shape > 0 and walked.cost > 0
    again = snapshot(client.work)
    assert (await client.post(query, {"n": 10}, token=True)).status_code == 200
    assert spent(again, client.work).shape == 0 and spent(again, client.work).cost == 0
    # Another page size is another cost: walked again, and over the limit refused, every time.
    for _ in range(2):
        before = snapshot(client.work)
        refused(await client.post(query, {"n": 90}, token=True), "QUERY_TOO_COSTLY")
        assert spent(before, client.work).cost > 0


async def test_fragments_over_the_socket_are_summarised_once_too(writable):
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        work = server.app.state.pipeline.work
        before = snapshot(work)
        op = await socket.subscribe(chain(10, 6))
        result = await socket.next(op)
        assert "errors" not in result and result["data"]["__schema"]["types"]
        assert spent(before, work).fragment_expansions <= 2 * 10
        await socket.close()


# --- 2. memory kept for refused documents ---


async def test_refused_documents_are_not_kept_and_the_token_limit_refuses_before_parsing(app):
    client = await app()
    before = snapshot(client.work)
    for n in range(20):
        # 28 KB of one field repeated: over the token limit, refused without being parsed.
        refused(await client.post("{ " + f"a{n} " * 7_000 + "}"), "TOO_MANY_TOKENS")
        # Small but invalid: parsed and validated, not kept.
        response = await client.post(f"{{ nothing{n} }}")
        assert response.status_code == 400 and "nothing" in response.json()["errors"][0]["message"]
        assert statements(response) == 0
    work = spent(before, client.work)
    assert work.parsed == 20 and work.validated == 20
    assert len(client.cache) == 0 and client.cache.bytes == 0


async def test_the_parse_cache_is_bounded_by_bytes(app):
    limit = 100_000
    client = await app(document_cache_bytes=str(limit))
    for n in range(40):
        query = "{ " + " ".join(f"a{k}: viewer {{ scopes }}" for k in range(n % 18 + 1)) + f" }} # {n}"
        assert (await client.post(query, token=True)).status_code == 200
        assert 0 < client.cache.bytes <= limit
    assert len(client.cache) < 40
    # The most recent documents are the ones kept: sending the last again parses nothing.
    before = snapshot(client.work)
    assert (await client.post(query, token=True)).status_code == 200
    assert spent(before, client.work).parsed == 0


async def test_documents_sent_without_a_token_are_not_kept_and_cannot_push_out_those_of_callers_with_one(app):
    client = await app(document_cache_bytes="100000")
    known = "{ viewer { scopes } } # the caller's own"
    assert (await client.post(known, token=True)).status_code == 200
    kept = client.cache.bytes
    assert len(client.cache) == 1
    for n in range(40):  # valid documents, more than the cache holds, sent without a token
        response = await client.post("{ " + " ".join(f"a{k}: __typename" for k in range(n % 18 + 1)) + f" }} # {n}")
        assert response.status_code == 200
    assert len(client.cache) == 1 and client.cache.bytes == kept
    before = snapshot(client.work)
    assert (await client.post(known, token=True)).status_code == 200
    assert spent(before, client.work).parsed == 0


SERVER_OBJECTS = (Node, Token, Visitor, IncrementalExecutor)


@contextlib.contextmanager
def cyclic_garbage() -> Iterator[list[Any]]:
    """The objects of the parser, validation and executor that the block left for the cyclic garbage
    collector (unreachable, but freed only by a collection)."""
    found: list[Any] = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(o for o in gc.garbage if isinstance(o, SERVER_OBJECTS))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        gc.collect()


async def test_checking_and_running_documents_leaves_no_cyclic_garbage(app):
    client = await app(rate_new_document_tokens_per_minute="0", rate_anonymous_requests_per_minute="0")
    known = "query Known { viewer { scopes } accounts(first: 3) { nodes { id name } } }"
    assert (await client.post(known, token=True)).status_code == 200
    with cyclic_garbage() as garbage:
        for n in range(3):
            assert (await client.post(known, token=True)).status_code == 200  # cached
            assert (await client.post(f"{{ viewer {{ scopes }} }} # {n}", token=True)).status_code == 200  # new
            assert (await client.post(chain(10, 5) + f" # {n}")).status_code == 200  # introspection, no token
            refused(
                await client.post("{ " + ' __type(name:"A"){name}' * 150 + f" }} # {n}"), "TOO_MANY_REPEATED_FIELDS"
            )
            refused(
                await client.post("{ " + ("viewer { " + "scopes " * 25 + "} ") * 20 + f"}} # {n}"),
                "DOCUMENT_TOO_COMPLEX",
            )
            response = await client.post(f"{{ nothing{n} }}")
            assert response.status_code == 400 and "nothing" in response.json()["errors"][0]["message"]
            assert (await client.post(f"{{ accounts(first: 2) {{ nodes {{ id }} }} }} # {n}")).status_code == 401
    assert garbage == []


# --- 3. validation CPU ---


@pytest.mark.parametrize(
    ("field", "issue_repeats"),
    [('__type(name:"A"){name}', 1300), ("__schema{queryType{name}}", 1200), ("a", 14_000), ("viewer{scopes}", 1300)],
)
async def test_a_field_repeated_in_one_selection_set_is_refused_before_validation(app, field, issue_repeats):
    client = await app()
    query = "{ " + f" {field}" * 150 + " }"
    before = snapshot(client.work)
    message = refused(await client.post(query), "TOO_MANY_REPEATED_FIELDS")
    assert "SALESGRAPH_MAX_FIELD_REPEATS" in message
    work = spent(before, client.work)
    assert work.parsed == 1 and work.validated == 0 and work.scanned <= 31
    # The issue's 30 KB versions are over the token limit: not even parsed.
    refused(await client.post("{" + f" {field}" * issue_repeats + " }"), "TOO_MANY_TOKENS")
    assert spent(before, client.work).parsed == 1


async def test_repeats_through_inline_fragments_count_as_they_merge(app):
    client = await app()
    query = "{ viewer { " + "... on Viewer { scopes } " * 40 + "} }"
    refused(await client.post(query), "TOO_MANY_REPEATED_FIELDS")


async def test_fragments_spread_many_times_in_one_selection_set_are_refused_before_validation(app):
    client = await app()
    # 200 fragments on one type, all spread in one selection set: validation would compare each pair.
    query = (
        "{ viewer { "
        + " ".join(f"...V{n}" for n in range(200))
        + " } } "
        + " ".join(f"fragment V{n} on Viewer {{ scopes }}" for n in range(200))
    )
    before = snapshot(client.work)
    assert "fragments are spread" in refused(await client.post(query), "TOO_MANY_REPEATED_FIELDS")
    assert spent(before, client.work).validated == 0


async def test_validation_work_that_grows_faster_than_the_document_is_bounded(app):
    client = await app()
    # 20 `viewer` of 25 `scopes` each: within the repeats allowed, but validation compares every
    # pair of viewers' every pair of scopes.
    query = "{ " + ("viewer { " + "scopes " * 25 + "} ") * 20 + "}"
    before = snapshot(client.work)
    message = refused(await client.post(query), "DOCUMENT_TOO_COMPLEX")
    assert "SALESGRAPH_MAX_FIELD_COMPARISONS" in message
    assert spent(before, client.work).comparisons <= 10_000 + 2
    # A higher budget lets it through (it is valid), having spent more than the default budget.
    generous = await app(max_field_comparisons="1000000")
    before = snapshot(generous.work)
    assert (await generous.post(query, token=True)).status_code == 200
    assert spent(before, generous.work).comparisons > 10_000


async def test_hostile_documents_over_the_socket_are_refused_with_the_same_codes_and_no_sql(writable):
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        with sql(server.app.state.engine) as seen:
            repeated = await socket_refusal(socket, "{ " + ' __type(name: "A") { name }' * 150 + " }")
            too_many = await socket_refusal(socket, "{ " + "a " * 9_000 + "}")
        assert repeated["extensions"]["code"] == "TOO_MANY_REPEATED_FIELDS"
        assert too_many["extensions"]["code"] == "TOO_MANY_TOKENS"
        assert seen == []
        await socket.close()


# --- 4. a budget of new documents per client address ---


def aliased(tag: str, fields: int = 18) -> str:
    """A new document of about 110 parser tokens (the tag is one comment token)."""
    return "{ " + " ".join(f"a{k}: viewer {{ scopes }}" for k in range(fields)) + f" }} # {tag}"


async def test_new_documents_from_one_address_share_a_budget_and_known_ones_do_not_spend_it(app):
    clock = Clock()
    client = await app(clock, rate_new_document_tokens_per_minute="1000")
    known = "{ viewer { scopes } }"
    assert (await client.post(known, token=True)).status_code == 200
    sent = 0
    for n in range(20):
        response = await client.post(aliased(str(n)))
        if response.status_code == 429:
            break
        sent += 1
        assert response.status_code == 401  # parsed and checked, then no token
    message = refused(response, "RATE_LIMITED", 429)
    assert "SALESGRAPH_RATE_NEW_DOCUMENT_TOKENS_PER_MINUTE" in message
    assert sent == (1000 - count_tokens(known, 10**6)) // count_tokens(aliased("0"), 10**6)
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= 60
    before = snapshot(client.work)
    # A document the server has checked before costs nothing more: it still runs from that address.
    assert (await client.post(known, token=True)).status_code == 200
    # Another address has a budget of its own.
    assert (await client.post(aliased(str(n)), address="198.51.100.7")).status_code == 401
    assert spent(before, client.work).parsed == 1
    # The budget refills with time.
    refused(await client.post(aliased("later")), "RATE_LIMITED", 429)
    clock.now += timedelta(seconds=retry)
    assert (await client.post(aliased("later"))).status_code == 401


async def test_new_documents_over_a_socket_are_budgeted_per_token(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_RATE_NEW_DOCUMENT_TOKENS_PER_MINUTE", "300")
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        for n in range(10):
            op = await socket.subscribe(aliased(str(n)))
            message = await socket.message_of(op)
            if message["type"] == "error":
                break
            assert (await socket.message_of(op))["type"] == "complete"
        assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert message["payload"][0]["extensions"]["retryAfter"] >= 1
        assert n >= 1
        await socket.close()


# --- 5. the values the executor will use ---

PAGES = (
    "query($n: Int{default}) {{ accounts(first: $n) {{ nodes {{ opportunities(first: $n) {{ nodes {{ id }} }} }} }} }}"
)


@pytest.mark.parametrize(
    ("default", "variables"),
    [(" = 100", None), (" = 100", {}), ("", {"n": 100}), ("", {"n": 100.0}), (" = 1", {"n": 100.0})],
)
async def test_the_cost_uses_the_values_the_executor_will_use(app, default, variables):
    client = await app(max_cost="5000")
    # 100 accounts and 100 opportunities each: 10,100 items. No token: refused before it is looked up.
    refused(await client.post(PAGES.format(default=default), variables), "QUERY_TOO_COSTLY")


async def test_the_cost_based_rate_limit_uses_the_default_too(app):
    client = await app(rate_cost_per_minute="5000")
    # A query costing more than the budget needs all of it: the first runs, the second waits.
    assert (await client.post(PAGES.format(default=" = 100"), token=True)).status_code == 200
    response = await client.post(PAGES.format(default=" = 100"), token=True)
    body = response.json()
    assert response.status_code == 429 and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED", body
    assert "costs 10100" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int = 1000) { accounts(first: $n) { nodes { id } } }", None),
        ("query($n: Int = -1) { accounts(first: $n) { nodes { id } } }", None),
        ("query($n: Int) { accounts(first: $n) { nodes { id } } }", {"n": 1000.0}),
        ("query($n: Int) { accounts(last: $n) { nodes { id } } }", {"n": -1}),
        ("{ accounts(first: -1) { nodes { id } } }", None),
        ("{ accounts(first: 5) { nodes { opportunities(last: 101) { nodes { id } } } } }", None),
    ],
)
async def test_a_page_out_of_range_is_refused_before_the_token_lookup(app, query, variables):
    client = await app()
    assert "between 0 and 100" in refused(await client.post(query, variables), "INVALID_PAGE")


async def test_variables_that_do_not_coerce_are_a_request_error_before_the_token_lookup(app):
    client = await app()
    response = await client.post("query($n: Int) { accounts(first: $n) { nodes { id } } }", {"n": 100.5})
    assert response.status_code == 400 and "data" not in response.json()
    assert "Int cannot represent non-integer value" in response.json()["errors"][0]["message"]
    assert statements(response) == 0


async def test_pages_within_range_run_with_the_coerced_values(app):
    client = await app(max_cost="5000")
    response = await client.post(PAGES.format(default=" = 3"), {"n": 2.0}, token=True)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    accounts = body["data"]["accounts"]["nodes"]
    assert len(accounts) == 2 and all(len(a["opportunities"]["nodes"]) <= 2 for a in accounts)
    defaulted = (await client.post(PAGES.format(default=" = 3"), token=True)).json()
    assert len(defaulted["data"]["accounts"]["nodes"]) == 3


async def test_the_executor_s_values_hold_over_the_socket_too(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_MAX_COST", "5000")
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        with sql(server.app.state.engine) as seen:
            costly = await socket_refusal(socket, PAGES.format(default=" = 100"))
            floated = await socket_refusal(socket, PAGES.format(default=""), {"n": 100.0})
            page = await socket_refusal(socket, "query($n: Int = -1) { accounts(first: $n) { nodes { id } } }")
        assert costly["extensions"]["code"] == floated["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert page["extensions"]["code"] == "INVALID_PAGE"
        assert seen == []
        await socket.close()


# --- 6. search terms ---

SEARCH = "query($s: String) { accounts(first: 5, filter: {search: $s}) { nodes { name } } }"


async def test_a_search_term_longer_than_a_person_types_is_a_clear_validation_error(app):
    client = await app()
    response = await client.post(SEARCH, {"s": "x" * 60_000}, token=True)
    body = response.json()
    assert response.status_code == 200 and body["data"] is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION" and error["path"] == ["accounts"]
    assert error["extensions"]["field"] == "filter.search" and "at most 200" in error["message"]
    assert statements(response) == 1  # the token lookup: the search never reached the database
    # The longest accepted term works (and finds nothing).
    fine = await client.post(SEARCH, {"s": "x" * 200}, token=True)
    assert fine.status_code == 200 and fine.json()["data"]["accounts"]["nodes"] == []


async def test_a_long_search_term_over_the_socket_gets_the_same_error(writable):
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        op = await socket.subscribe(SEARCH, {"s": "y" * 60_000})
        result = await socket.next(op)
        assert result["data"] is None and result["errors"][0]["extensions"]["code"] == "VALIDATION"
        await socket.close()
