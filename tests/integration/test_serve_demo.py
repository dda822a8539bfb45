"""The README's first command: `salesgraph serve --demo` on a fresh SQLite file, over real HTTP."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_seeds_prints_tokens_and_serves_graphiql_and_queries(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "salesgraph.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output, tokens = [], {}
        deadline = time.monotonic() + 120
        while len(tokens) < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            found = re.match(r"\s+(admin|partner) token:\s+(\S+)", line)
            if found:
                tokens[found.group(1)] = found.group(2)
        assert set(tokens) == {"admin", "partner"}, "".join(output)
        assert any(f"http://127.0.0.1:{port}/graphql" in line for line in output)
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        query = "{ viewer { user { email } partner { name } } opportunities(first: 1) { totalCount } }"
        admin = httpx.post(f"{url}/graphql", json={"query": query},
                           headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["data"]
        assert admin["viewer"]["user"]["email"] == "admin@salesgraph.example"
        assert admin["opportunities"]["totalCount"] == 200
        partner = httpx.post(f"{url}/graphql", json={"query": query},
                             headers={"Authorization": f"Bearer {tokens['partner']}"}).json()["data"]
        assert partner["viewer"]["partner"]["name"] == "Nordic Partners AS"
    finally:
        process.terminate()
        process.wait(10)


def _salesgraph(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "salesgraph.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_migrate_seed_and_create_token_from_the_command_line(tmp_path):
    from gql.app import create_app
    from persistence.db import create_engine

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": url}
    assert _salesgraph("migrate", env=env, cwd=tmp_path).returncode == 0
    assert _salesgraph("seed", "--size", "30", "--quiet", env=env, cwd=tmp_path).returncode == 0
    bad = _salesgraph("seed", "--size", "lots", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "small, medium, large" in bad.stderr
    created = _salesgraph("create-token", "--email", "portal@nordicpartners.example", "--expires-in", "1",
                          env=env, cwd=tmp_path)
    token = created.stdout.strip()
    assert created.returncode == 0 and created.stdout == token + "\n" and token.startswith("sg_")
    unknown = _salesgraph("create-token", "--email", "nobody@example.com", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no user or partner" in unknown.stderr
    engine = create_engine(url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine)), base_url="http://x") as http:
        body = (await http.post("/graphql", json={"query": "{ viewer { partner { name } } }"},
                                headers={"Authorization": f"Bearer {token}"})).json()
    await engine.dispose()
    assert body["data"]["viewer"]["partner"]["name"] == "Nordic Partners AS"
    exported = _salesgraph("export-schema", env=env, cwd=tmp_path)
    assert exported.stdout == (ROOT / "schema.graphql").read_text()


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"}
    run = subprocess.run([sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(_free_port())],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "run `salesgraph migrate` first" in run.stderr + run.stdout
