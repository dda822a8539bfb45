"""The README's first command: `salesgraph serve --demo` on a fresh SQLite file, over real HTTP."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_serve_demo_seeds_prints_tokens_and_serves_graphiql_and_queries(demo_server):
    url, tokens = demo_server.url, demo_server.tokens
    assert any(f"{url}/graphql" in line for line in demo_server.output)
    page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    query = "{ viewer { user { email } partner { name } } opportunities(first: 1) { totalCount } }"
    admin = httpx.post(
        f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {tokens['admin']}"}
    ).json()["data"]
    assert admin["viewer"]["user"]["email"] == "admin@salesgraph.example"
    # All 200, except those on private accounts someone else created (not even an admin sees those).
    with sqlite3.connect(demo_server.database) as db:
        hidden = db.execute(
            "SELECT count(*) FROM opportunities o JOIN accounts a ON a.id = o.account_id "
            "JOIN users u ON u.email = 'admin@salesgraph.example' "
            "WHERE a.is_private AND coalesce(a.created_by_id, -1) <> u.id"
        ).fetchone()[0]
    assert admin["opportunities"]["totalCount"] == 200 - hidden
    partner = httpx.post(
        f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {tokens['partner']}"}
    ).json()["data"]
    assert partner["viewer"]["partner"]["name"] == "Nordic Partners AS"


def _salesgraph(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salesgraph.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


async def test_migrate_seed_and_create_token_from_the_command_line(tmp_path):
    from gql.app import create_app
    from persistence.db import create_engine

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": url}
    assert _salesgraph("migrate", env=env, cwd=tmp_path).returncode == 0
    assert _salesgraph("seed", "--size", "30", "--quiet", env=env, cwd=tmp_path).returncode == 0
    bad = _salesgraph("seed", "--size", "lots", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "small, medium, large" in bad.stderr
    created = _salesgraph(
        "create-token", "--email", "portal@nordicpartners.example", "--expires-in", "1", env=env, cwd=tmp_path
    )
    token = created.stdout.strip()
    assert created.returncode == 0 and created.stdout == token + "\n" and token.startswith("sg_")
    unknown = _salesgraph("create-token", "--email", "nobody@example.com", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no user or partner" in unknown.stderr
    engine = create_engine(url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine)), base_url="http://x") as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": "{ viewer { partner { name } } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    await engine.dispose()
    assert body["data"]["viewer"]["partner"]["name"] == "Nordic Partners AS"
    exported = _salesgraph("export-schema", env=env, cwd=tmp_path)
    assert exported.stdout == (ROOT / "schema.graphql").read_text()


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"}
    run = subprocess.run(
        [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "run `salesgraph migrate` first" in run.stderr + run.stdout
