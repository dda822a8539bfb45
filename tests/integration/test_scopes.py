"""Token scopes: each root field needs its scope, checked before anything runs; a token never exceeds
its owner's role; an empty scope list means everything the role allows; the admins' token list."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from sqlalchemy import func, select

from domain import scopes as catalogue
from domain.enums import Role
from gql import ids
from gql.auth import issue_token
from gql.schema.schema import schema
from gql.scopes import ROOTS
from persistence import tables
from tests.conftest import statements
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
