"""Each process keeps its token lookups: a repeated token costs no SQL, yet a revocation, a role change or
a partner's deletion holds from the next request on, in this process and (through Redis) in every
other; an expired token is refused from the cache; a change made in the database by hand is seen
within SALESGRAPH_TOKEN_CACHE_SECONDS; without its Redis subscription a process reads every token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import update

from domain.enums import Role
from domain.people import User
from domain.tokens import hash_secret
from gql import ids
from gql.auth import issue_token
from persistence import tables
from persistence.uow import SqlUnitOfWork
from tests.conftest import GraphQLClient, statements
from tests.integration import test_admission
from tests.integration.mutations.test_opportunities import ERRORS
from tests.integration.test_admission import Clock
from tests.support.server import start_server

app = test_admission.app  # the fixture: `await app(backend, clock=…, TOKEN_CACHE_SECONDS="…")`, an app instance

ACCOUNTS = "{ accounts(first: 3) { nodes { id name } } }"
VIEWER = "{ viewer { scopes } }"
REVOKE = f"""mutation($input: RevokeApiTokenInput!) {{
  revokeApiToken(input: $input) {{ __typename ... on ApiTokenPayload {{ token {{ id isActive }} }} {ERRORS} }}
}}"""
CHANGE_ROLE = f"""mutation($input: ChangeUserRoleInput!) {{
  changeUserRole(input: $input) {{ __typename ... on UserPayload {{ user {{ id role }} }} {ERRORS} }}
}}"""
DELETE_PARTNER = f"""mutation($input: DeletePartnerInput!) {{
  deletePartner(input: $input) {{ __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }}
}}"""
CREATE_PARTNER = f"""mutation($input: CreatePartnerInput!) {{
  createPartner(input: $input) {{ __typename ... on PartnerPayload {{ partner {{ id }} }} {ERRORS} }}
}}"""

WAIT = 30.0  # a bound on waiting for what must happen, not a delay


async def new_user(engine, role: Role, email: str) -> int:
    async with SqlUnitOfWork(engine) as uow:
        user = await uow.add(User(name=f"Cache {role.value}", email=email, role=role))
        await uow.commit()
    return user.id


async def token_id(engine, secret: str) -> str:
    from sqlalchemy import select

    async with engine.connect() as conn:
        pk = (
            await conn.execute(
                select(tables.api_tokens.c.id).where(tables.api_tokens.c.token_hash == hash_secret(secret))
            )
        ).scalar_one()
    return ids.encode("ApiToken", pk)


async def test_a_second_request_with_the_same_token_runs_one_statement_fewer(app, backend):
    client = await app(backend)
    token = await issue_token(backend.engine, name="cache", user_id=backend.summary.admin_user_id)
    first = await client.post(ACCOUNTS, token=token)
    second = await client.post(ACCOUNTS, token=token)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert statements(second) == statements(first) - 1
    assert statements(await client.post(ACCOUNTS, token=token)) == statements(second)


async def test_with_the_cache_off_every_request_reads_its_token_and_a_change_by_hand_holds_at_once(app, backend):
    client = await app(backend, TOKEN_CACHE_SECONDS="0")
    token = await issue_token(backend.engine, name="no cache", user_id=backend.summary.admin_user_id)
    first = await client.post(ACCOUNTS, token=token)
    assert statements(await client.post(ACCOUNTS, token=token)) == statements(first)
    await revoke_by_hand(backend.engine, token)
    assert (await client.post(ACCOUNTS, token=token)).status_code == 401


async def revoke_by_hand(engine, token: str) -> None:
    from datetime import UTC, datetime

    async with engine.begin() as conn:
        await conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.token_hash == hash_secret(token))
            .values(revoked_at=datetime.now(UTC))
        )


async def test_a_token_revoked_by_hand_in_the_database_is_refused_once_the_cache_age_passes(app, backend):
    clock = Clock()
    client = await app(backend, clock=clock, TOKEN_CACHE_SECONDS="60")
    token = await issue_token(backend.engine, name="by hand", user_id=backend.summary.admin_user_id)
    assert (await client.post(ACCOUNTS, token=token)).status_code == 200
    await revoke_by_hand(backend.engine, token)
    # What the README says: the database was changed behind the API's back, so this process learns of it
    # when it reads the token again, at the latest SALESGRAPH_TOKEN_CACHE_SECONDS after it last did.
    clock.now += timedelta(seconds=59)
    assert (await client.post(ACCOUNTS, token=token)).status_code == 200
    clock.now += timedelta(seconds=1)
    refused = await client.post(ACCOUNTS, token=token)
    assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_cached_token_is_refused_from_the_moment_it_expires(app, backend):
    clock = Clock()
    client = await app(backend, clock=clock, TOKEN_CACHE_SECONDS="3600")
    token = await issue_token(backend.engine, name="expiring", user_id=backend.summary.admin_user_id)
    async with backend.engine.begin() as conn:
        await conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.token_hash == hash_secret(token))
            .values(expires_at=clock.now + timedelta(minutes=5))
        )
    first = await client.post(ACCOUNTS, token=token)
    cached = await client.post(ACCOUNTS, token=token)
    assert cached.status_code == 200 and statements(cached) == statements(first) - 1
    clock.now += timedelta(minutes=5)
    refused = await client.post(ACCOUNTS, token=token)
    assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_role_change_applies_to_the_user_s_cached_token_on_the_next_request(app, writable):
    client = await app(writable)
    director = await new_user(writable.engine, Role.SALES_DIRECTOR, "cache.director@example.com")
    token = await issue_token(writable.engine, name="director", user_id=director)
    before = (await client.post(VIEWER, token=token)).json()["data"]["viewer"]["scopes"]
    assert "USERS_WRITE" in before
    cached = await client.post(VIEWER, token=token)
    assert cached.json()["data"]["viewer"]["scopes"] == before
    changed = await client.post(CHANGE_ROLE, {"input": {"id": ids.encode("User", director), "role": "SALES_REP"}})
    assert changed.json()["data"]["changeUserRole"]["user"]["role"] == "SALES_REP"
    after = (await client.post(VIEWER, token=token)).json()["data"]["viewer"]["scopes"]
    assert "USERS_WRITE" not in after and set(after) < set(before)


async def test_a_deleted_partner_s_cached_token_is_refused_on_the_next_request(app, writable):
    client = await app(writable)
    created = await client.post(CREATE_PARTNER, {"input": {"name": "Short-lived reseller"}})
    partner = created.json()["data"]["createPartner"]["partner"]["id"]
    token = await issue_token(writable.engine, name="portal", partner_id=ids.decode(partner)[1])
    assert (await client.post(VIEWER, token=token)).status_code == 200
    deleted = await client.post(DELETE_PARTNER, {"input": {"id": partner}})
    assert deleted.json()["data"]["deletePartner"]["deletedId"] == partner
    assert (await client.post(VIEWER, token=token)).status_code == 401


# --- several processes through Redis ---


async def cached_in(api: GraphQLClient, token: str) -> int:
    """Once the process answers `token` from its cache (its Redis subscription is confirmed a moment
    after it starts): the statements of an uncached request."""
    uncached = statements(await api.post(ACCOUNTS, token=token))
    async with asyncio.timeout(WAIT):
        while statements(response := await api.post(ACCOUNTS, token=token)) != uncached - 1:
            assert response.status_code == 200, response.text
    return uncached


async def test_a_revocation_or_a_role_change_in_one_process_holds_in_another_on_the_very_next_request(
    pg_writable, redis_server, tmp_path
):
    env = {
        "BROADCAST_URL": redis_server.url,
        "SALESGRAPH_TOKEN_CACHE_SECONDS": "3600",
        "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
        # Only the token cache's own clearing may tell the other process: no outbox events on the bus, and
        # no outbox check within the test (each would clear the cache too, a few milliseconds or seconds on).
        "SALESGRAPH_DISPATCH": "off",
        "SALESGRAPH_EVENT_RESYNC_SECONDS": "3600",
    }
    one, two = start_server(pg_writable.url, tmp_path, **env), start_server(pg_writable.url, tmp_path, **env)
    try:
        async with httpx.AsyncClient(base_url=one.url) as http_one, httpx.AsyncClient(base_url=two.url) as http_two:
            api_one = GraphQLClient(http_one, pg_writable.admin_token)
            api_two = GraphQLClient(http_two, pg_writable.admin_token)
            engine = pg_writable.engine

            # A revocation in one process: the other, which holds the token in its cache, refuses it next.
            token = await issue_token(engine, name="two processes", user_id=pg_writable.summary.admin_user_id)
            uncached = await cached_in(api_two, token)
            await cached_in(api_one, token)
            revoked = await api_one.data(REVOKE, {"input": {"id": await token_id(engine, token)}})
            assert revoked["revokeApiToken"]["token"]["isActive"] is False
            refused = await api_two.post(ACCOUNTS, token=token)
            assert refused.status_code == 401, refused.text
            assert (await api_one.post(ACCOUNTS, token=token)).status_code == 401

            # A role change in one process: the other answers the user's token with the new role's scopes.
            director = await new_user(engine, Role.SALES_DIRECTOR, "two.processes@example.com")
            director_token = await issue_token(engine, name="director", user_id=director)
            await cached_in(api_two, director_token)
            assert "USERS_WRITE" in (await api_two.data(VIEWER, token=director_token))["viewer"]["scopes"]
            await api_one.data(CHANGE_ROLE, {"input": {"id": ids.encode("User", director), "role": "SALES_REP"}})
            scopes = (await api_two.data(VIEWER, token=director_token))["viewer"]["scopes"]
            assert "USERS_WRITE" not in scopes and "ACCOUNTS_READ" in scopes

            # Redis goes away: the other process no longer hears of changes, so it reads every token ...
            other = await issue_token(engine, name="outage", user_id=pg_writable.summary.admin_user_id)
            await cached_in(api_two, other)
            redis_server.stop()
            async with asyncio.timeout(WAIT):
                while statements(await api_two.post(ACCOUNTS, token=other)) != uncached:
                    pass
            # ... and a revocation it was not told of holds there at once.
            await api_one.data(REVOKE, {"input": {"id": await token_id(engine, other)}})
            assert (await api_two.post(ACCOUNTS, token=other)).status_code == 401

            # Redis is back: the cache works again.
            redis_server.start()
            await cached_in(api_two, pg_writable.admin_token)
    finally:
        one.stop()
        two.stop()
        if redis_server.process is None:
            redis_server.start()


async def test_a_clearing_returns_only_once_every_other_process_has_cleared(redis_server):
    from datetime import UTC, datetime

    from domain.access import Principal
    from gql.auth import TokenLookup
    from gql.token_cache import TokenCache
    from persistence.bus import EventBus

    now = datetime.now(UTC)
    caches = [TokenCache(EventBus(redis_server.url), max_age=3600, retry_seconds=0.1) for _ in range(3)]
    tasks = [asyncio.create_task(cache.run()) for cache in caches]
    try:
        async with asyncio.timeout(WAIT):
            while not all(cache.live for cache in caches):
                await asyncio.sleep(0.01)  # polling for the subscriptions to be confirmed
        first, *others = caches
        for cache in others:
            cache.put("token", TokenLookup(Principal(token_id=1)), cache.generation, now)
            assert cache.get("token", now) is not None
        await first.changed()
        # No await between the answer and these reads: the other caches cleared before `changed` returned.
        assert [cache.get("token", now) for cache in others] == [None, None]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for cache in caches:
            await cache.bus.close()
