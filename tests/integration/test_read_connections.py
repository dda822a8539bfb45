"""What PostgreSQL sees of a request (its own log): a query's statements run on one connection in
autocommit, with no BEGIN … ROLLBACK around them, each batch binding its keys as one array (the same
statement for any number of keys), while a mutation still runs in one transaction that it commits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable

import asyncpg

from tests.conftest import statements
from tests.integration.mutations.test_opportunities import ERRORS

NESTED = """query($n: Int!) {
  accounts(first: $n) { nodes { id name opportunities(first: 20) { nodes { id name quotes { id items { id } } } } } }
}"""
RENAME = f"""mutation($input: UpdateAccountInput!) {{
  updateAccount(input: $input) {{ __typename ... on AccountPayload {{ account {{ id name }} }} {ERRORS} }}
}}"""

ENTRY = re.compile(r"^\d{4}-\d\d-\d\d ", re.M)  # a log entry begins with its time; a statement may span lines
LINE = re.compile(
    r"\[(\d+)\]\s+(?:\S+@\S+\s+)?LOG:\s+(?:duration: [\d.]+ ms\s+)?(statement|parse|bind|execute)\b(.*)", re.S
)


@contextlib.asynccontextmanager
async def logged(server) -> AsyncIterator[Callable[[], list[tuple[str, str, str]]]]:
    """Log every statement of the test cluster while the block runs; the callable returns what was
    logged since the block began: (backend pid, kind, statement text)."""
    admin = await asyncpg.connect(host="127.0.0.1", port=server.port, user="postgres", database="postgres")
    start = os.path.getsize(server.log)

    def since() -> list[tuple[str, str, str]]:
        with open(server.log) as f:
            f.seek(start)
            text = f.read()
        entries = [text[m.start() : n.start() if n else len(text)] for m, n in _pairs(ENTRY.finditer(text))]
        found = [LINE.search(entry) for entry in entries]
        return [
            (m.group(1), m.group(2), " ".join(m.group(3).split()).removeprefix(":").strip())
            for m in found
            if m
            and "pg_reload_conf" not in m.group(3)
            and "ALTER SYSTEM" not in m.group(3)
            and "SHOW" not in m.group(3)
        ]

    async def apply() -> str:
        await admin.execute("SELECT pg_reload_conf()")
        async with asyncio.timeout(10):  # until the backends have the new setting (the reload is signalled)
            while (await admin.fetchval("SHOW log_statement")) != wanted:
                await asyncio.sleep(0.01)
        return wanted

    try:
        wanted = "all"
        await admin.execute("ALTER SYSTEM SET log_statement = 'all'")
        await admin.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
        await apply()
        yield since
    finally:
        wanted = "none"
        await admin.execute("ALTER SYSTEM RESET log_statement")
        await admin.execute("ALTER SYSTEM RESET log_min_duration_statement")
        await apply()
        await admin.close()


def _pairs(matches):
    items = list(matches)
    return zip(items, [*items[1:], None])


async def settled(since: Callable[[], list], count: int) -> list[tuple[str, str, str]]:
    """What the log holds once it shows `count` executions (the server writes it a moment after answering)."""
    async with asyncio.timeout(10):
        while len(lines := [line for line in since() if line[1] in ("execute", "statement")]) < count:
            await asyncio.sleep(0.02)  # polling the log file
    return lines


async def test_a_query_runs_on_one_connection_without_begin_or_rollback_binding_each_batch_s_keys_as_one_array(
    pg_api, pg_writable, postgres_server
):
    await pg_api.post("{ __typename }")  # the token, kept by this process from now on
    # Every pooled connection (the pool hands them out in turn) prepares the statements once, and asyncpg
    # reads the array type's description once per connection: what follows is the steady state.
    for _ in range(pg_writable.engine.sync_engine.pool.checkedin() + 1):
        await pg_api.post(NESTED, {"n": 1})
    texts = {}
    for n in (1, 20):
        async with logged(postgres_server) as since:
            response = await pg_api.post(NESTED, {"n": n})
            assert response.status_code == 200 and "errors" not in response.json()
            count = statements(response)
            assert count == 4  # accounts, opportunities, quotes, items
            executed = await settled(since, count)
        assert [kind for _, kind, _ in executed] == ["execute"] * count  # no BEGIN, no ROLLBACK, nothing else
        assert len({pid for pid, _, _ in executed}) == 1  # one connection
        assert not [line for line in since() if line[1] == "parse"]  # prepared before: one round trip each
        texts[n] = [text.split(": ", 1)[1] for _, _, text in executed]  # without asyncpg's statement name
    # The same statements for 1 and for 20 accounts: each batch binds its keys as one array.
    assert texts[1] == texts[20]
    batches = texts[20][1:]  # after the root list
    assert all("= ANY ($1::INTEGER[])" in text and not re.search(r"IN \(\$\d", text) for text in batches)


async def test_a_mutation_still_runs_in_one_transaction_that_it_commits(pg_api, pg_writable, postgres_server):
    first = await pg_api.data("{ accounts(first: 1, filter: {kind: ORGANIZATION}) { nodes { id } } }")
    account = first["accounts"]["nodes"][0]["id"]
    async with logged(postgres_server) as since:
        response = await pg_api.post(RENAME, {"input": {"id": account, "name": "Renamed in one transaction"}})
        assert response.json()["data"]["updateAccount"]["account"]["name"] == "Renamed in one transaction"
        await settled(since, 3)
        logged_lines = since()
    simple = [text.split()[0].rstrip(";").upper() for _, kind, text in logged_lines if kind == "statement"]
    assert simple[0].startswith("BEGIN") and "COMMIT" in simple and "ROLLBACK" not in simple
    transaction = simple.index("COMMIT")
    writer = next(pid for pid, kind, text in logged_lines if kind == "statement" and text.startswith("BEGIN"))
    # Everything the workflow wrote ran on the transaction's connection.
    writes = [pid for pid, kind, text in logged_lines if kind == "execute" and re.search(r"\b(UPDATE|INSERT)\b", text)]
    assert writes and set(writes) == {writer} and transaction > 0
