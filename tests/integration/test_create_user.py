"""`salesgraph create-user`, a deployment's way to its first user, run as a real process on both databases:
it makes the user and prints a token (alone, once) that signs in as that user with the role's scopes; it
refuses an e-mail already taken and a database that is not migrated, in one line with an exit status,
and writes the token to no log."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from sqlalchemy import func, select

from domain import scopes as catalogue
from domain.enums import Role
from gql.app import create_app
from persistence import tables
from tests.conftest import GraphQLClient, new_database_url

VIEWER = "{ viewer { user { email name role } scopes } }"


async def salesgraph(url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "salesgraph.cli",
        *args,
        env={**os.environ, "DATABASE_URL": url, "SALESGRAPH_LOG_FORMAT": "json"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def users(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.users))).scalar_one()


async def test_create_user_prints_a_token_that_signs_in_as_the_new_admin(writable):
    before = await users(writable.engine)
    code, out, err = await salesgraph(
        writable.url, "create-user", "--email", "first@deploy.example", "--name", "First Admin", "--role", "ADMIN"
    )
    assert code == 0, err
    token = out.strip()
    assert out == token + "\n" and token.startswith("sg_")
    assert token not in err and token.removeprefix("sg_") not in err
    assert await users(writable.engine) == before + 1
    app = create_app(writable.engine, dispatch=False, schedule=False, reanalyse=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        viewer = (await GraphQLClient(http, token).data(VIEWER))["viewer"]
    assert viewer["user"] == {"email": "first@deploy.example", "name": "First Admin", "role": "ADMIN"}
    assert viewer["scopes"] == sorted(s.name for s in catalogue.allowed(Role.ADMIN, False))

    # The same e-mail again (in any case): refused in one line, nothing written.
    code, out, err = await salesgraph(writable.url, "create-user", "--email", "FIRST@deploy.example", "--name", "Again")
    assert code == 2 and out == "" and err.count("\n") == 1 and "create-token --email first@deploy.example" in err
    assert await users(writable.engine) == before + 1


async def test_create_user_refuses_a_bad_e_mail_before_looking_at_the_database(tmp_path):
    code, out, err = await salesgraph(
        f"sqlite:///{tmp_path}/none.sqlite3", "create-user", "--email", "not-an-address", "--name", "X"
    )
    assert code == 2 and out == "" and err.count("\n") == 1 and "not an e-mail address" in err
    assert not (tmp_path / "none.sqlite3").exists()


async def test_create_user_refuses_a_database_that_is_not_migrated_in_one_line(writable, request, tmp_path_factory):
    empty = new_database_url(writable.name, request, tmp_path_factory)
    if writable.name == "sqlite":
        open(empty.split(":///", 1)[1], "wb").close()  # an empty file: not a database Salesgraph made
    code, out, err = await salesgraph(empty, "create-user", "--email", "first@deploy.example", "--name", "First Admin")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert "salesgraph migrate" in err and "Traceback" not in err


async def test_serve_refuses_an_unknown_trace_exporter_in_one_line(writable, monkeypatch):
    """A setting the server cannot use stops it at start with one line naming it, not a traceback."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    status, out, err = await salesgraph(writable.url, "serve", "--port", "0")
    assert status == 1
    assert err.strip().splitlines() == [
        "OTEL_TRACES_EXPORTER=zipkin: Salesgraph exports traces with otlp or console (or none)"
    ]
