"""The benchmarks run and count only what they should: `bench/compare_peers.py --quick` against a
real PostgreSQL (Salesgraph and the raw asyncpg yardstick; the PostGraphile peers need npm and are
left to the full run), and the load client's rule that any answer other than a 200 without GraphQL
errors stops a run."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bench.common import BenchError, check_answer

ROOT = Path(__file__).resolve().parents[2]


async def test_compare_peers_checks_that_salesgraph_and_the_raw_server_hold_the_same_rows_then_measures(
    pg_writable,
):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "compare_peers.py"),
        "--quick",
        "--database-url",
        pg_writable.url,
        "--peers",
        "salesgraph,raw",
        "--warmup",
        "0.3",
        "--seconds",
        "1",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    report = out.decode()
    assert process.returncode == 0, err.decode()[-3000:]
    assert "answers checked to hold the same rows: small 1 account" in report, report
    rows = [
        line.split("|")[1:4]
        for line in report.splitlines()
        if line.startswith("| small") or line.startswith("| nested")
    ]
    assert [(query.strip(), server.strip()) for query, server, _ in rows] == [
        ("small", "Salesgraph"),
        ("small", "raw asyncpg + orjson"),
        ("nested", "Salesgraph"),
        ("nested", "raw asyncpg + orjson"),
    ], report
    assert all(float(rate.replace(",", "")) > 0 for _, _, rate in rows), report


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, b'{"errors":[{"message":"rate limited","extensions":{"code":"RATE_LIMITED"}}]}'),
        (500, b"Internal Server Error"),
        (200, b'{"data":{"node":null},"errors":[{"message":"boom","path":["node"]}]}'),
        (400, b'{"errors":[{"message":"Cannot query field"}]}'),
    ],
)
def test_an_answer_a_bench_must_not_count_stops_the_run(status, body):
    with pytest.raises(BenchError, match=str(status) if status != 200 else "GraphQL errors"):
        check_answer(status, body, "a query")


def test_data_that_merely_mentions_errors_is_counted():
    check_answer(200, b'{"data":{"account":{"name":"\\"errors\\" Ltd","errors":3}}}', "a query")
