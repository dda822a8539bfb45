"""Token scopes: each root field needs its scope, and a query or subscription the read scope of every
kind of row below its root fields, checked before anything runs; a token never exceeds its owner's
role; an empty scope list means everything the role allows; the admins' token list."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType, OperationType, get_named_type, parse
from graphql.utilities import get_operation_ast
from sqlalchemy import func, select

from domain import scopes as catalogue
from domain.enums import Role
from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from gql.schema.schema import schema
from gql.scopes import COVERED, EVERYONE, FIELDS, FREE, PART, ROOTS, TYPES, needed
from persistence import tables
from tests.conftest import GraphQLClient, statements
from tests.integration.mutations.test_opportunities import ERRORS

ACCOUNTS = "{ accounts(first: 2) { totalCount edges { node { id name } } } }"
OPPORTUNITIES = "{ opportunities(first: 2) { totalCount } }"
SMUGGLED = "{ accounts(first: 1) { totalCount } ...More } fragment More on Query { ... on Query { opportunities { totalCount } } }"
CREATE_ACCOUNT = """mutation($input: CreateAccountInput!) { createAccount(input: $input) { __typename } }"""
VIEWER = "{ viewer { scopes } }"
CREATE_TOKEN = f"""mutation($input: CreateApiTokenInput!) {{
  createApiToken(input: $input) {{ __typename ... on CreatedApiTokenPayload {{ secret token {{ id scopes }} }} {ERRORS} }}
}}"""
REVOKE = """mutation($id: ID!) { revokeApiToken(input: {id: $id}) { __typename } }"""
# The holes nested fields left when only root fields needed scopes, each refused without opportunities:read.
HOLES = {
    "accounts": "{ accounts(first: 3) { totalCount nodes { name opportunities(first: 2) { totalCount nodes { name } } } } }",
    "viewer": "{ viewer { user { name opportunities(first: 2) { totalCount nodes { name } } } } }",
    "node": "query($id: ID!) { node(id: $id) { id ... on Opportunity { name stage account { name } } } }",
    "nodes": "query($id: ID!) { nodes(ids: [$id]) { id ... on Opportunity { name } } }",
}
HOLE_SCOPES = {
    "accounts": ["accounts:read"],
    "viewer": ["accounts:read"],
    "node": ["accounts:read"],
    "nodes": ["accounts:read", "leads:read"],
}
REFUSED_AT = {
    "accounts": "accounts.nodes.opportunities",
    "viewer": "viewer.user.opportunities",
    "node": "node(on Opportunity)",
    "nodes": "nodes(on Opportunity)",
}
TYPENAME_ONLY = "query($id: ID!) { node(id: $id) { id __typename ... on Opportunity { __typename } } }"
API_TOKENS = """query($userId: ID, $partnerId: ID, $revoked: Boolean) {
  apiTokens(userId: $userId, partnerId: $partnerId, revoked: $revoked) { id name scopes isActive user { id } partner { id } }
}"""


def names(scopes) -> list[str]:
    """Scopes as the GraphQL enum shows them (ACCOUNTS_READ for accounts:read)."""
    return sorted(s.name for s in scopes)


def refused(response: httpx.Response, field: str, scope: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert f"`{field}`" in error["message"] and scope in error["message"], error["message"]


async def user_with_role(engine, role: Role) -> int:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(func.min(tables.users.c.id)).where(tables.users.c.role == role.value))
        ).scalar_one()


async def tokens_in(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.api_tokens))).scalar_one()


# --- the catalogue and the schema ---


def test_every_root_field_of_the_schema_says_which_scope_it_needs():
    roots = {
        "Query": schema._schema.query_type,
        "Mutation": schema._schema.mutation_type,
        "Subscription": schema._schema.subscription_type,
    }
    for (kind, table), root in zip(ROOTS.items(), roots.values()):
        unmapped = sorted(set(root.fields) - set(table))
        assert not unmapped, f"{kind.value} fields without a scope in gql/scopes.py: {unmapped}"
        stale = sorted(set(table) - set(root.fields))
        assert not stale, f"gql/scopes.py names {kind.value} fields the schema does not have: {stale}"
    reads = {s for s in ROOTS[next(iter(ROOTS))].values() if s is not None}
    assert all(s.value.endswith(":read") for s in reads)
    assert all(s is not None and not s.value.endswith(":read") for s in ROOTS[list(ROOTS)[1]].values())


def test_each_scope_is_described_in_the_schema_and_a_token_shows_no_secret():
    scope_type = schema._schema.type_map["Scope"]
    assert set(scope_type.values) == {s.name for s in catalogue.Scope}
    assert all(value.description for value in scope_type.values.values())
    assert not {"secret", "tokenHash", "token_hash"} & set(schema._schema.type_map["ApiToken"].fields)


def test_a_token_s_effective_scopes_are_its_own_within_its_owner_s_role():
    rep = {s.value for s in catalogue.ROLES[Role.SALES_REP]}
    assert catalogue.effective([], Role.SALES_REP, False) == rep
    assert catalogue.effective(["catalog:write", "leads:read"], Role.SALES_REP, False) == {"leads:read"}
    assert catalogue.effective(["accounts:read", "no:such"], Role.ADMIN, False) == {"accounts:read"}
    assert catalogue.effective(["users:read"], None, True) == set()
    assert catalogue.effective([], None, False) == set()  # a user without a role may do nothing


def test_a_new_token_s_scopes_must_be_known_within_the_role_and_within_the_caller():
    import pytest

    from domain.errors import PermissionDenied, ValidationError

    assert catalogue.grantable(["leads:read", "accounts:read", "leads:read"], Role.SALES_REP, False) == [
        "accounts:read",
        "leads:read",
    ]
    with pytest.raises(ValidationError) as unknown:
        catalogue.grantable(["leads:read", "leads:delete"], Role.ADMIN, False)
    assert unknown.value.field == "scopes[1]"
    with pytest.raises(PermissionDenied, match="catalog:write"):
        catalogue.grantable(["catalog:write"], Role.SALES_DIRECTOR, False)
    with pytest.raises(PermissionDenied, match="users:read"):
        catalogue.grantable(["users:read"], None, True)
    with pytest.raises(PermissionDenied, match="list the scopes"):
        catalogue.grantable([], Role.ADMIN, False, caller=frozenset({"accounts:read", "tokens:write"}))
    assert catalogue.grantable([], Role.ADMIN, False, caller=frozenset(s.value for s in catalogue.Scope)) == []


def _reachable() -> dict[str, object]:
    """Every object, interface and union type a query or a subscription can reach."""
    graph = schema._schema
    found: dict[str, object] = {}
    todo = [graph.query_type, graph.subscription_type]
    while todo:
        kind = todo.pop()
        if kind.name in found:
            continue
        found[kind.name] = kind
        if isinstance(kind, GraphQLUnionType):
            todo.extend(kind.types)
            continue
        if isinstance(kind, GraphQLInterfaceType):
            todo.extend(graph.get_possible_types(kind))
        for field in kind.fields.values():
            returned = get_named_type(field.type)
            if isinstance(returned, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                todo.append(returned)
    return found


def test_every_type_a_query_can_reach_says_which_scope_it_needs():
    reachable = _reachable()
    unmapped = sorted(set(reachable) - set(TYPES))
    assert not unmapped, f"types without a scope in gql/scopes.py TYPES: {unmapped}"
    stale = sorted(set(TYPES) - set(reachable))
    assert not stale, f"gql/scopes.py TYPES names types no query reaches: {stale}"
    for (parent, field), need in FIELDS.items():
        assert field in reachable[parent].fields, (parent, field)
        assert need == COVERED or isinstance(need, catalogue.Scope), (parent, field)
    # A part is read only through the row that holds it: never by its id, never as a union's member.
    graph = schema._schema
    abstract = [graph.type_map[n] for n in ("Node", "MonitoredNode", "SelectionMember")]
    members = {t.name for a in abstract for t in graph.get_possible_types(a)}
    assert not {n for n, need in TYPES.items() if need == PART} & members
    # Connections and edges follow their row type; a root field's scope is that of the rows it returns.
    for name in reachable:
        row = name.removesuffix("Connection").removesuffix("Edge")
        if row != name and row in TYPES and not isinstance(reachable[row], GraphQLUnionType):  # members: below
            assert TYPES[name] == TYPES[row], name
    for kind, table in (
        (graph.query_type, ROOTS[OperationType.QUERY]),
        (graph.subscription_type, ROOTS[OperationType.SUBSCRIPTION]),
    ):
        for name, field in kind.fields.items():
            need = TYPES.get(get_named_type(field.type).name, EVERYONE)  # latestEventId: a scalar
            assert need in FREE or need == table[name], (name, need, table[name])


def needs_of(document: str) -> dict[str, str]:
    """{scope: path of its first use} for a document's (only) operation."""
    parsed = parse(document)
    return {scope: path for path, scope in needed(schema._schema, parsed, get_operation_ast(parsed))}


def test_the_scopes_below_the_root_fields_are_those_of_the_kinds_of_rows_selected():
    assert needs_of(HOLES["accounts"]) == {
        "accounts:read": "accounts",
        "opportunities:read": "accounts.nodes.opportunities",
    }
    assert needs_of(HOLES["viewer"]) == {"opportunities:read": "viewer.user.opportunities"}
    assert needs_of(HOLES["node"]) == {
        "opportunities:read": "node(on Opportunity)",
        "accounts:read": "node(on Opportunity).account",
    }
    assert needs_of(HOLES["nodes"]) == {"opportunities:read": "nodes(on Opportunity)"}
    # A named fragment is walked where it is spread; `__typename` alone is free.
    assert needs_of("query($id: ID!) { nodes(ids: [$id]) { ...O } } fragment O on Opportunity { stage }") == {
        "opportunities:read": "nodes(on Opportunity)"
    }
    assert needs_of(TYPENAME_ONLY) == {}
    # A sold opportunity's contracts and a row's history come with the row; deeper rows need their own.
    assert needs_of(
        "{ opportunities { nodes { contracts { name account { contracts { totalCount } } } history { nodes { field "
        "oldNode { ... on Lead { status } } } } } } }"
    ) == {
        "opportunities:read": "opportunities",
        "accounts:read": "opportunities.nodes.contracts.account",
        "contracts:read": "opportunities.nodes.contracts.account.contracts",
        "leads:read": "opportunities.nodes.history.nodes.oldNode(on Lead)",
    }
    # Everyone reads the viewer, its team and the owners of rows; the directory and goals need users:read.
    assert needs_of("{ viewer { scopes user { name team { name } } partner { name } } }") == {}
    assert needs_of("{ viewer { user { team { members { name } } } } }") == {"users:read": "viewer.user.team.members"}
    assert needs_of("{ viewer { user { goals { periodStart } } } }") == {"users:read": "viewer.user.goals"}
    assert needs_of("subscription { taskEvents { task { title opportunity { name } } } }") == {
        "activities:read": "taskEvents",
        "opportunities:read": "taskEvents.task.opportunity",
    }
    # A mutation's payload is covered by the mutation's write scope.
    assert needs_of(
        'mutation { createAccount(input: {kind: ORGANIZATION, name: "x"}) { ... on AccountPayload { account { '
        "opportunities { totalCount } } } } }"
    ) == {"accounts:write": "createAccount"}


# --- enforcement before execution ---


async def test_a_token_with_accounts_read_reads_accounts_and_nothing_else_without_running_sql(api, writable):
    token = await issue_token(
        writable.engine, name="accounts only", user_id=writable.summary.admin_user_id, scopes=["accounts:read"]
    )
    allowed = await api.post(ACCOUNTS, token=token)
    assert allowed.status_code == 200 and allowed.json()["data"]["accounts"]["totalCount"] > 0
    assert (await api.data(VIEWER, token=token))["viewer"]["scopes"] == ["ACCOUNTS_READ"]

    opportunities = await api.post(OPPORTUNITIES, token=token)
    refused(opportunities, "opportunities", "opportunities:read")
    assert statements(opportunities) == 0  # nothing ran (the token came from this process's cache)

    smuggled = await api.post(SMUGGLED, token=token)  # a root field inside fragments is still a root field
    refused(smuggled, "opportunities", "opportunities:read")
    assert statements(smuggled) == 0

    before = await api.data("{ accounts { totalCount } }")
    create = await api.post(CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": "Never AS"}}, token=token)
    refused(create, "createAccount", "accounts:write")
    assert statements(create) == 0
    assert await api.data("{ accounts { totalCount } }") == before


async def _an_opportunity(api) -> str:
    return (await api.data("{ opportunities(first: 1) { nodes { id } } }"))["opportunities"]["nodes"][0]["id"]


async def test_nested_rows_need_their_own_read_scope_over_http_before_any_sql(api, writable):
    variables = {"id": await _an_opportunity(api)}
    admin = writable.summary.admin_user_id
    for hole, document in HOLES.items():
        narrow = await issue_token(writable.engine, name=f"narrow {hole}", user_id=admin, scopes=HOLE_SCOPES[hole])
        await api.data(VIEWER, token=narrow)  # the token, kept by this process from now on
        response = await api.post(document, variables, token=narrow)
        refused(response, REFUSED_AT[hole], "opportunities:read")
        assert statements(response) == 0, hole  # refused before any SQL (the token came from the cache)
        # With the scope the same document is answered, as the admin's every-scope token answers it.
        wide = await issue_token(
            writable.engine, name=f"wide {hole}", user_id=admin, scopes=[*HOLE_SCOPES[hole], "opportunities:read"]
        )
        assert await api.data(document, variables, token=wide) == await api.data(document, variables), hole
    only_accounts = await issue_token(writable.engine, name="typename", user_id=admin, scopes=["accounts:read"])
    typename = await api.data(TYPENAME_ONLY, variables, token=only_accounts)
    assert typename == {"node": {"id": variables["id"], "__typename": "Opportunity"}}


async def test_the_scopes_a_document_needs_are_worked_out_once_and_tested_per_token(writable):
    app = create_app(writable.engine, dispatch=False)
    admin = writable.summary.admin_user_id
    narrow = await issue_token(writable.engine, name="cache narrow", user_id=admin, scopes=["accounts:read"])
    wide = await issue_token(
        writable.engine, name="cache wide", user_id=admin, scopes=["accounts:read", "opportunities:read"]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        client = GraphQLClient(http, writable.admin_token)
        document = HOLES["accounts"]
        refused(await client.post(document, token=narrow), REFUSED_AT["accounts"], "opportunities:read")
        checked = app.state.pipeline.documents.get(document)
        kept = checked.scopes[None]
        assert dict((s, p) for p, s in kept) == needs_of(document)
        answered = await client.post(document, token=wide)
        assert answered.status_code == 200 and "errors" not in answered.json()
        refused(await client.post(document, token=narrow), REFUSED_AT["accounts"], "opportunities:read")
        assert app.state.pipeline.documents.get(document).scopes[None] is kept  # the same answer, not walked again


async def test_fields_that_need_no_scope_run_with_any_token(api, writable):
    token = await issue_token(
        writable.engine, name="leads only", user_id=writable.summary.admin_user_id, scopes=["leads:read"]
    )
    account = (await api.data("{ accounts(first: 1) { edges { node { id } } } }"))["accounts"]["edges"][0]["node"]
    data = await api.data(
        "query($id: ID!) { viewer { scopes } latestEventId node(id: $id) { id } __typename }",
        {"id": account["id"]},
        token=token,
    )
    assert data["viewer"]["scopes"] == ["LEADS_READ"] and data["latestEventId"] is not None


async def test_empty_scopes_mean_everything_the_owner_s_role_allows(api, writable):
    assert (await api.data(VIEWER))["viewer"]["scopes"] == names(catalogue.Scope)
    partner = (await api.data(VIEWER, token=writable.partner_token))["viewer"]["scopes"]
    assert partner == names(catalogue.PARTNER)
    assert "TOKENS_WRITE" in partner and not {"CATALOG_WRITE", "PARTNERS_WRITE", "USERS_READ"} & set(partner)
    rep = await issue_token(writable.engine, name="rep", user_id=await user_with_role(writable.engine, Role.SALES_REP))
    assert (await api.data(VIEWER, token=rep))["viewer"]["scopes"] == names(catalogue.ROLES[Role.SALES_REP])
    refused(
        await api.post('mutation { setExchangeRate(input: {currency: "USD", rate: "1.1"}) { __typename } }', token=rep),
        "setExchangeRate",
        "catalog:write",
    )


async def test_a_stored_scope_beyond_the_owner_s_role_allows_nothing(api, writable):
    # Written past createApiToken (by hand, or before a role changed): the role still caps the token.
    rep = await user_with_role(writable.engine, Role.SALES_REP)
    token = await issue_token(
        writable.engine, name="escalated", user_id=rep, scopes=["catalog:write", "accounts:read", "no:such"]
    )
    assert (await api.data(VIEWER, token=token))["viewer"]["scopes"] == ["ACCOUNTS_READ"]
    refused(
        await api.post(
            'mutation { setExchangeRate(input: {currency: "USD", rate: "1.1"}) { __typename } }', token=token
        ),
        "setExchangeRate",
        "catalog:write",
    )


async def test_the_partner_s_scoreboard_and_ingest_need_their_scopes(api, writable):
    board = "{ scoreboard(period: {preset: ALL_TIME}) { currency } }"
    token = await issue_token(
        writable.engine, name="portal", partner_id=writable.summary.partner_id, scopes=["accounts:read"]
    )
    refused(await api.post(board, token=token), "scoreboard", "scoreboard:read")
    without = await api.http.post(
        "/ingest/leads", json={"lastName": "Holm"}, headers={"Authorization": f"Bearer {token}"}
    )
    refused(without, "POST /ingest/leads", "leads:ingest")
    refused(
        await api.post('mutation { ingestLead(input: {lastName: "Holm"}) { __typename } }', token=token),
        "ingestLead",
        "leads:ingest",
    )
    ingest = await issue_token(
        writable.engine, name="ingest", partner_id=writable.summary.partner_id, scopes=["leads:ingest"]
    )
    created = await api.http.post(
        "/ingest/leads", json={"lastName": "Holm"}, headers={"Authorization": f"Bearer {ingest}"}
    )
    assert created.status_code == 201, created.text
    download = await api.http.get(
        f"/documents/{ids.encode('QuoteDocument', 1)}", headers={"Authorization": f"Bearer {ingest}"}
    )
    refused(download, "GET /documents/<id>", "documents:read")


async def test_a_refusal_suggests_a_new_token_only_when_its_owner_could_hold_the_scope(api, writable):
    portal = await issue_token(
        writable.engine, name="portal", partner_id=writable.summary.partner_id, scopes=["accounts:read"]
    )
    could = await api.post(OPPORTUNITIES, token=portal)
    refused(could, "opportunities", "opportunities:read")
    assert "create-token --scopes opportunities:read" in could.json()["errors"][0]["message"]
    never = await api.post("{ users(first: 1) { totalCount } }", token=writable.partner_token)
    refused(never, "users", "users:read")
    message = never.json()["errors"][0]["message"]
    assert "a partner cannot hold" in message and "create" not in message.lower(), message


async def test_a_websocket_subscription_without_scoreboard_read_gets_an_error(writable):
    from tests.support.live import live_server
    from tests.support.ws import GraphQLSocket

    token = await issue_token(
        writable.engine, name="no board", user_id=writable.summary.admin_user_id, scopes=["accounts:read"]
    )
    async with live_server(writable.url, dispatch=False) as server:
        socket = await GraphQLSocket.open(server.url, token)
        await socket.subscribe(
            "subscription { scoreboardUpdated(period: {preset: ALL_TIME}) { currency } }", op_id="board"
        )
        message = await socket.message_of("board")
        assert message["type"] == "error", message
        error = message["payload"][0]
        assert error["extensions"] == {"code": "INSUFFICIENT_SCOPE"}
        assert "`scoreboardUpdated`" in error["message"] and "scoreboard:read" in error["message"]
        await socket.subscribe(ACCOUNTS, op_id="accounts")  # the same connection still runs what it may
        assert (await socket.next("accounts"))["data"]["accounts"]["totalCount"] > 0
        await socket.close()


async def test_nested_rows_need_their_own_read_scope_over_a_websocket(writable):
    from tests.support.live import live_server
    from tests.support.ws import GraphQLSocket

    admin = writable.summary.admin_user_id
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            variables = {"id": await _an_opportunity(GraphQLClient(http, writable.admin_token))}
        for hole, document in HOLES.items():
            narrow = await issue_token(writable.engine, name=f"ws {hole}", user_id=admin, scopes=HOLE_SCOPES[hole])
            wide = await issue_token(
                writable.engine,
                name=f"ws wide {hole}",
                user_id=admin,
                scopes=[*HOLE_SCOPES[hole], "opportunities:read"],
            )
            socket = await GraphQLSocket.open(server.url, narrow)
            await socket.subscribe(document, variables, op_id="hole")
            message = await socket.message_of("hole")
            assert message["type"] == "error", message
            error = message["payload"][0]
            assert error["extensions"] == {"code": "INSUFFICIENT_SCOPE"}
            assert f"`{REFUSED_AT[hole]}`" in error["message"] and "opportunities:read" in error["message"]
            await socket.close()
            socket = await GraphQLSocket.open(server.url, wide)
            await socket.subscribe(document, variables, op_id="answered")
            over_socket = (await socket.next("answered"))["data"]
            await socket.close()
            socket = await GraphQLSocket.open(server.url, writable.admin_token)
            await socket.subscribe(document, variables, op_id="admin")
            assert over_socket == (await socket.next("admin"))["data"], hole
            await socket.close()
        # A subscription: its events' nested rows need their scopes too.
        tasks_only = await issue_token(writable.engine, name="ws tasks", user_id=admin, scopes=["activities:read"])
        socket = await GraphQLSocket.open(server.url, tasks_only)
        await socket.subscribe("subscription { taskEvents { task { title opportunity { name } } } }", op_id="events")
        message = await socket.message_of("events")
        assert message["type"] == "error" and message["payload"][0]["extensions"] == {"code": "INSUFFICIENT_SCOPE"}
        assert "`taskEvents.task.opportunity`" in message["payload"][0]["message"]
        await socket.close()


# --- creating tokens ---


async def test_create_api_token_refuses_scopes_beyond_the_owner_s_role_and_creates_nothing(api, writable):
    partner = ids.encode("Partner", writable.summary.partner_id)
    before = await tokens_in(writable.engine)
    for scope, name in [
        ("CATALOG_WRITE", "catalog:write"),
        ("PARTNERS_WRITE", "partners:write"),
        ("USERS_READ", "users:read"),
    ]:
        outcome = (
            await api.data(
                CREATE_TOKEN, {"input": {"name": "Portal", "partnerId": partner, "scopes": ["LEADS_INGEST", scope]}}
            )
        )["createApiToken"]
        assert outcome["__typename"] == "PermissionDeniedError" and name in outcome["message"], outcome
    own = (
        await api.data(
            CREATE_TOKEN, {"input": {"name": "Mine", "scopes": ["PARTNERS_WRITE"]}}, token=writable.partner_token
        )
    )["createApiToken"]
    assert own["__typename"] == "PermissionDeniedError" and "partners:write" in own["message"]
    assert await tokens_in(writable.engine) == before
    portal = (
        await api.data(
            CREATE_TOKEN,
            {"input": {"name": "Portal", "partnerId": partner, "scopes": ["LEADS_INGEST", "ACCOUNTS_READ"]}},
        )
    )["createApiToken"]
    assert portal["token"]["scopes"] == ["ACCOUNTS_READ", "LEADS_INGEST"]
    assert (await api.data(VIEWER, token=portal["secret"]))["viewer"]["scopes"] == ["ACCOUNTS_READ", "LEADS_INGEST"]


async def test_a_token_cannot_create_one_that_may_do_more_than_itself(api, writable):
    narrow = await issue_token(
        writable.engine, name="narrow", user_id=writable.summary.admin_user_id, scopes=["accounts:read", "tokens:write"]
    )
    wider = (await api.data(CREATE_TOKEN, {"input": {"name": "wider", "scopes": ["ACCOUNTS_WRITE"]}}, token=narrow))[
        "createApiToken"
    ]
    assert wider["__typename"] == "PermissionDeniedError" and "accounts:write" in wider["message"]
    everything = (await api.data(CREATE_TOKEN, {"input": {"name": "all"}}, token=narrow))["createApiToken"]
    assert everything["__typename"] == "PermissionDeniedError"
    same = (await api.data(CREATE_TOKEN, {"input": {"name": "same", "scopes": ["ACCOUNTS_READ"]}}, token=narrow))[
        "createApiToken"
    ]
    assert same["token"]["scopes"] == ["ACCOUNTS_READ"]
    no_tokens = await issue_token(
        writable.engine, name="no tokens", user_id=writable.summary.admin_user_id, scopes=["accounts:read"]
    )
    refused(
        await api.post(CREATE_TOKEN, {"input": {"name": "x", "scopes": ["ACCOUNTS_READ"]}}, token=no_tokens),
        "createApiToken",
        "tokens:write",
    )


async def test_the_command_line_checks_scopes_the_same_way(api, writable):
    async with writable.engine.connect() as conn:
        email = (
            await conn.execute(
                select(tables.partners.c.email).where(tables.partners.c.id == writable.summary.partner_id)
            )
        ).scalar_one()

    async def create_token(*scopes: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "salesgraph.cli",
            "create-token",
            "--email",
            email,
            "--scopes",
            *scopes,
            env={**os.environ, "DATABASE_URL": writable.url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        return process.returncode, out.decode().strip(), err.decode()

    code, _, err = await create_token("leads:ingest", "catalog:write")
    assert code == 2 and "catalog:write" in err and "partner" in err
    code, _, err = await create_token("leads:ingest", "accounts:reed")
    assert code == 2 and "scopes[1]" in err and "accounts:reed" in err
    code, secret, err = await create_token("leads:ingest", "accounts:read")
    assert code == 0, err
    assert (await api.data(VIEWER, token=secret))["viewer"]["scopes"] == ["ACCOUNTS_READ", "LEADS_INGEST"]


# --- the token list ---


async def test_an_admin_lists_everyone_s_tokens_and_anyone_else_only_their_own(api, writable):
    partner = ids.encode("Partner", writable.summary.partner_id)
    created = (
        await api.data(
            CREATE_TOKEN, {"input": {"name": "Listed portal", "partnerId": partner, "scopes": ["ACCOUNTS_READ"]}}
        )
    )["createApiToken"]
    mine = (await api.data(CREATE_TOKEN, {"input": {"name": "Listed admin's"}}))["createApiToken"]
    await api.data(REVOKE, {"id": mine["token"]["id"]})

    everyone = (await api.data(API_TOKENS))["apiTokens"]
    assert {created["token"]["id"], mine["token"]["id"]} <= {tok["id"] for tok in everyone}
    partners = (await api.data(API_TOKENS, {"partnerId": partner}))["apiTokens"]
    assert partners and all(tok["partner"] == {"id": partner} for tok in partners)
    assert created["token"]["id"] in {tok["id"] for tok in partners}
    revoked = (await api.data(API_TOKENS, {"revoked": True}))["apiTokens"]
    assert mine["token"]["id"] in {tok["id"] for tok in revoked} and not any(tok["isActive"] for tok in revoked)
    active = (await api.data(API_TOKENS, {"revoked": False}))["apiTokens"]
    assert mine["token"]["id"] not in {tok["id"] for tok in active}

    seen_by_partner = (await api.data(API_TOKENS, token=writable.partner_token))["apiTokens"]
    assert created["token"]["id"] in {tok["id"] for tok in seen_by_partner}
    assert all(tok["partner"] == {"id": partner} for tok in seen_by_partner)
    asked_for_admin = (
        await api.data(
            API_TOKENS, {"userId": ids.encode("User", writable.summary.admin_user_id)}, token=writable.partner_token
        )
    )["apiTokens"]
    assert asked_for_admin == []
