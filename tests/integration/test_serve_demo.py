"""The README's first command: `salesgraph serve --demo` on a fresh SQLite file, over real HTTP."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx

from tests.support.server import free_port, start_demo_server

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


def test_serve_and_create_token_refuse_a_database_that_is_not_migrated_in_one_line(tmp_path):
    """A new user's first mistake: no traceback, exit status 1, and no empty SQLite file left behind."""
    missing = tmp_path / "missing.sqlite3"
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    commands = (["serve", "--port", str(free_port())], ["create-token", "--email", "admin@salesgraph.example"])
    for database, expected in ((missing, "`salesgraph migrate` creates it"), (empty, "run `salesgraph migrate` first")):
        for command in commands:
            run = _salesgraph(*command, env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"}, cwd=tmp_path)
            assert run.returncode == 1, run
            assert run.stdout == "" and run.stderr.count("\n") == 1 and expected in run.stderr, run.stderr
            assert "Traceback" not in run.stderr
    assert not missing.exists()


def test_serve_help_describes_every_option():
    run = _salesgraph("serve", "--help", env={**os.environ, "COLUMNS": "200"}, cwd=ROOT)
    for option, words in (("--host", "address to listen on"), ("--port", "TCP port"), ("--workers", "processes")):
        line = next(line for line in run.stdout.splitlines() if line.strip().startswith(option))
        assert words in line, run.stdout


def test_seed_into_a_pipe_prints_a_few_plain_progress_lines_and_no_bar(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/seeded.sqlite3"}
    run = _salesgraph("seed", "--size", "40", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    progress = [line for line in run.stderr.splitlines() if line.startswith("seed")]
    assert "\r" not in run.stderr and "█" not in run.stderr and "it/s" not in run.stderr
    assert progress[0] == "seeding: company" and progress[-1] == "seeded", progress
    assert "seeding: opportunities: 40/40" in progress and 5 <= len(progress) <= 12, progress


def test_the_signed_in_graphiql_link_keeps_the_token_after_the_hash(demo_server):
    link = next(line for line in demo_server.output if "GraphiQL signed in as the admin:" in line).split(": ", 1)[1]
    address, _, fragment = link.strip().partition("#")
    assert address == f"{demo_server.url}/graphql" and fragment.startswith("headers=")
    assert demo_server.tokens["admin"] in urllib.parse.unquote(fragment)


def test_the_demo_servers_log_holds_no_token(tmp_path):
    """Tokens sent the ways clients send them (a header, a query string, the old GraphiQL link, a
    WebSocket URL) never reach the log of the process, whatever writes it."""
    server = start_demo_server(tmp_path)
    admin, partner = server.tokens["admin"], server.tokens["partner"]
    try:
        bearer = {"Authorization": f"Bearer {admin}"}
        httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"}, headers=bearer).raise_for_status()
        old_link = urllib.parse.quote(json.dumps(bearer))
        httpx.get(f"{server.url}/graphql?headers={old_link}", headers={"Accept": "text/html"}).raise_for_status()
        httpx.get(f"{server.url}/dashboard?token={partner}")
        httpx.get(f"{server.url}/graphql", params={"query": "{ __typename }", "token": partner})
        httpx.post(f"{server.url}/ingest/leads", json={}, headers={"Authorization": "Bearer sg_not-a-real-one"})
    finally:
        server.stop()
    banner = set(server.output)
    logged = [line for line in server.log.read_text().splitlines(keepends=True) if line not in banner]
    text = "".join(logged)
    assert "GET /dashboard?token=[redacted]" in text, text  # the access log was written, and redacted
    for secret in (admin, partner, "sg_not-a-real-one", admin.removeprefix("sg_")):
        assert secret not in text, f"{secret} in the log"
