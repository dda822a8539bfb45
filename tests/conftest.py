"""Fixtures: a seeded database per backend (SQLite always; PostgreSQL started from its binaries,
required under CI=true), the ASGI app over HTTP, and tokens for the demo admin and partner."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.tokens import TOKEN_PREFIX
from gql.app import create_app
from gql.auth import issue_token
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.seed import SeedSummary, seed
from tests.support.pg import PostgresServer, find_pg_bin
from tests.support.server import DemoServer, start_demo_server

ANCHOR = datetime(2026, 6, 15, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_server():
    if find_pg_bin() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found, and CI=true requires the PostgreSQL tests to run")
        pytest.skip("PostgreSQL binaries not found (set PG_BIN); PostgreSQL tests skipped")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


_counter = iter(range(1, 10_000))


def new_database_url(backend: str, request, tmp_path_factory) -> str:
    """A fresh, empty database on the backend."""
    n = next(_counter)
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / f'test{n}.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"test{n}")


class SeededTemplates:
    """Each (backend, size) is migrated and seeded once per session (per xdist worker), into a database
    nobody uses; every fixture that wants a freshly seeded database gets a copy of it: on PostgreSQL
    `CREATE DATABASE … TEMPLATE`, on SQLite a page-by-page copy (sqlite3's backup API, which reads
    through the WAL). The seed is deterministic (same size and anchor, same rows byte for byte), so a
    copy holds exactly what seeding again would write, in a fraction of the time (migrating and
    seeding 60 opportunities took ~4 s a backend; a copy takes ~0.1 s)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.made: dict[tuple[str, int], tuple[str, SeedSummary]] = {}

    async def copy(self, backend: str, size: int, request, tmp_path_factory) -> tuple[str, SeedSummary]:
        """A new database on `backend` holding the seed of `size`: its URL and the seed's summary."""
        key = (backend, size)
        if key not in self.made:
            self.made[key] = await self._template(backend, size, request)
        template, summary = self.made[key]
        if backend == "sqlite":
            url = new_database_url(backend, request, tmp_path_factory)
            await asyncio.to_thread(_copy_sqlite, make_url(template).database, make_url(url).database)
        else:
            server = request.getfixturevalue("postgres_server")
            url = server.create_database(f"test{next(_counter)}", template=make_url(template).database)
        return url, copy.deepcopy(summary)

    async def _template(self, backend: str, size: int, request) -> tuple[str, SeedSummary]:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.folder / f'template_seed{size}.sqlite3'}"
        else:
            url = request.getfixturevalue("postgres_server").create_database(f"template_seed{size}")
        await upgrade_async(url)
        engine = create_engine(url)
        try:
            summary = await seed(engine, size, anchor=ANCHOR)
        finally:
            await engine.dispose()  # a PostgreSQL template may have no connections while it is copied
        return url, summary


def _copy_sqlite(source: str, target: str) -> None:
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="session")
def seeded_templates(tmp_path_factory) -> SeededTemplates:
    return SeededTemplates(tmp_path_factory.mktemp("templates"))


async def seeded_database(request, tmp_path_factory, backend: str, size: int) -> tuple[str, SeedSummary]:
    """A new database on `backend`, migrated and seeded with `size` (a copy of the session's template)."""
    templates = request.getfixturevalue("seeded_templates")
    return await templates.copy(backend, size, request, tmp_path_factory)


@dataclass
class Backend:
    name: str
    url: str
    engine: AsyncEngine
    admin_token: str
    partner_token: str
    summary: Any


async def seeded_backend(request, tmp_path_factory, size: int) -> Backend:
    """A new database on the backend named by the fixture's parameter: migrated, seeded, with tokens."""
    url, summary = await seeded_database(request, tmp_path_factory, request.param, size)
    engine = create_engine(url)
    admin = await issue_token(engine, name="tests admin", user_id=summary.admin_user_id)
    partner = await issue_token(engine, name="tests partner", partner_id=summary.partner_id)
    return Backend(request.param, url, engine, admin, partner, summary)


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=["sqlite", "postgresql"])
async def backend(request, tmp_path_factory) -> AsyncIterator[Backend]:
    """A migrated database seeded with demo data for 300 opportunities (60 accounts), shared by the read-only tests."""
    seeded = await seeded_backend(request, tmp_path_factory, 300)
    yield seeded
    await seeded.engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(backend.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://salesgraph.test") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL documents as the demo admin (or another token) and returns the decoded response."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.token = http, token

    async def post(
        self,
        query: str,
        variables: dict | None = None,
        token: str | None = None,
        accept: str = "application/graphql-response+json",
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.token}", "Accept": accept},
        )

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        response = await self.post(query, variables, token)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
def gql(client: httpx.AsyncClient, backend: Backend) -> GraphQLClient:
    return GraphQLClient(client, backend.admin_token)


def statements(response: httpx.Response) -> int:
    """The SQL statement count that the server reports in Server-Timing."""
    header = response.headers["server-timing"]
    found = re.search(r'desc="(\d+) statements?"', header)
    assert found, header
    return int(found.group(1))


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> DemoServer:
    """The README's first command, once for the session: `salesgraph serve --demo` on a new SQLite file."""
    server = start_demo_server(tmp_path_factory.mktemp("demo"))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=["sqlite", "postgresql"])
async def writable(request, tmp_path_factory) -> AsyncIterator[Backend]:
    """A fresh database per test module and backend, seeded small, for tests that change data."""
    seeded = await seeded_backend(request, tmp_path_factory, 60)
    yield seeded
    await seeded.engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def api(writable: Backend) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client, as the admin, on the writable database (over the ASGI app)."""
    app = create_app(writable.engine, dispatch=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://salesgraph.test") as http:
        yield GraphQLClient(http, writable.admin_token)


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=["postgresql"])
async def pg_writable(request, tmp_path_factory) -> AsyncIterator[Backend]:
    """Like `writable`, on PostgreSQL only: for behaviour that needs several connections writing at
    once or several server processes (SQLite, the single-process default, has one writer)."""
    seeded = await seeded_backend(request, tmp_path_factory, 60)
    yield seeded
    await seeded.engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def pg_api(pg_writable: Backend) -> AsyncIterator[GraphQLClient]:
    app = create_app(pg_writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield GraphQLClient(http, pg_writable.admin_token)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis (Debian's redis-server); required under CI=true."""
    from tests.support.redis import RedisServer, find_redis_server

    if find_redis_server() is None:
        if IN_CI:
            pytest.fail("redis-server not found, and CI=true requires the Redis tests to run")
        pytest.skip("redis-server not found (apt-get install redis-server); Redis tests skipped")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


TOKEN_IN_TEXT = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]{16,}")


@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_server_log(tmp_path_factory):
    """After the suite: no log a server process wrote (demo, serve, workers; each test's folder) holds a
    token. Tests send tokens in headers, in URLs (GraphiQL's fragment, the dashboard), in connection_init
    payloads and in failing requests; every handler redacts them."""
    yield
    found = []
    for log_file in tmp_path_factory.getbasetemp().rglob("*.log"):
        for n, line in enumerate(log_file.read_text(errors="replace").splitlines(), start=1):
            if TOKEN_IN_TEXT.search(line):
                found.append(f"{log_file}:{n}: {TOKEN_IN_TEXT.sub('sg_…', line)[:200]}")
    assert not found, "tokens in server logs:\n" + "\n".join(found[:20])
