"""Shared pieces of the benchmarks: databases, a real server process, a closed-loop load, tables."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    """The commit of the code this process runs (read once at import: a commit made while a long
    bench runs must not be printed as the one it measured)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return f"{commit or 'unknown'}{' (with uncommitted changes)' if dirty else ''}"


COMMIT = _commit()


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; commit {COMMIT}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Rate limits off: a bench measures what the server does, not what its budgets refuse (with the
# defaults, 600 requests a minute per token, ten clients are answered 429 within seconds).
RATE_LIMITS_OFF = {
    "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
    "SALESGRAPH_RATE_COST_PER_MINUTE": "0",
    "SALESGRAPH_RATE_ANONYMOUS_REQUESTS_PER_MINUTE": "0",
    "SALESGRAPH_RATE_NEW_DOCUMENT_TOKENS_PER_MINUTE": "0",
}


class BenchError(RuntimeError):
    """An answer a bench must not count: not 200, or GraphQL errors. The run stops on the first."""


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) used so far by a process and its children: the live
    ones and those that ended (PostgreSQL's backends come and go with the clients' connections)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids, total = {pid}, 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent pid
            pids.add(int(stat.parent.name))
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return total


class BackgroundServer:
    """An HTTP server in its own process on a free port, its output in a log file."""

    def __init__(
        self,
        command: list[str],
        port: int,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        ready: tuple[str, dict | None] = ("/readyz", None),
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready = ready
        self.log = tempfile.NamedTemporaryFile(prefix="salesgraph-bench-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until `ready` answers 200: a GET of the path, or a POST of the JSON body when there is one."""
        path, body = self.ready
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if body is None:
                    response = httpx.get(self.url + path, timeout=1)
                else:
                    response = httpx.post(self.url + path, json=body, timeout=1)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log.name}")

    def rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server process and its children (workers)."""
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ServerProcess(BackgroundServer):
    """`salesgraph serve` in its own process on a free port."""

    def __init__(self, database_url: str, workers: int = 1, env: dict[str, str] | None = None) -> None:
        port = free_port()
        super().__init__(
            [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(port), "--workers", str(workers)],
            port,
            env={"DATABASE_URL": database_url, **(env or {})},
        )


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0
    # CPU seconds over the measured window: "client" (this process, the load generator) and one
    # entry per meter given to closed_loop ("server", "postgresql", …).
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")

    def cpu_ms_per_request(self, meter: str = "server") -> float:
        if meter not in self.cpu or not self.latencies:
            return float("nan")
        return self.cpu[meter] / len(self.latencies) * 1000

    def row(self, name: str) -> list[str]:
        return [
            name,
            str(len(self.latencies)),
            f"{self.requests_per_second:.1f}" if self.seconds else "-",
            f"{self.percentile_ms(0.5):.1f}",
            f"{self.percentile_ms(0.99):.1f}",
            f"{statistics.mean(self.statements):.1f}" if self.statements else "-",
            f"{statistics.mean(self.sizes) / 1024:.1f}" if self.sizes else "-",
        ]


HEADER = ["query", "requests", "req/s", "p50 ms", "p99 ms", "SQL/req", "KiB/resp"]

STATEMENTS = re.compile(rb'desc="(\d+) statements?"')


class KeepAliveConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending one prepared request at a time. httptools parses the
    answers (Content-Length or chunked), so a request costs the client some tens of microseconds:
    the load generator, on the same cores as the servers, must not be what limits them (httpx cost
    some thirty times as much a request here; see docs/decisions.md)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self.body: list[bytes] = []
        self.timing = b""
        self.lost: Exception | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> KeepAliveConnection:
        _, connection = await asyncio.get_running_loop().create_connection(cls, host, port)
        return connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(BenchError(f"unreadable HTTP answer: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or BenchError("the server closed the connection")
        self._fail(self.lost)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"server-timing":
            self.timing = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        answer = (self.parser.get_status_code(), b"".join(self.body), self.timing)
        self.body, self.timing = [], b""
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    async def send(self, request: bytes) -> tuple[int, bytes, bytes]:
        """(status, body, Server-Timing header) of the answer to `request`."""
        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def graphql_request(url: str, body: dict, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of a POST of `body` to `url`'s /graphql, ready to send again and again."""
    address = urlsplit(url)
    payload = orjson.dumps(body)
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {address.netloc}",
        "Content-Type: application/json",
        "Accept: application/graphql-response+json, application/json;q=0.9",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def check_answer(status: int, content: bytes, label: str) -> None:
    """Raise BenchError unless the answer is a 200 without GraphQL `errors`."""
    if status != 200:
        raise BenchError(f"{label}: HTTP {status}: {content[:500].decode(errors='replace')}")
    if b'"errors"' in content and "errors" in orjson.loads(content):
        raise BenchError(f"{label}: GraphQL errors: {content[:500].decode(errors='replace')}")


async def closed_loop(
    url: str,
    token: str | None,
    body: dict,
    concurrency: int,
    seconds: float,
    max_requests: int = 1_000_000,
    meters: dict[str, Callable[[], float]] | None = None,
    label: str = "",
) -> LoadResult:
    """`concurrency` clients, each on its own keep-alive connection sending the next request when the
    last answer arrived, for `seconds`. Any answer other than a 200 without GraphQL errors stops the
    run with BenchError. Each of `meters` (CPU seconds so far of a process, say the server's) is read
    at the start and the end of the measured window, which follows one warm-up request per
    connection."""
    address = urlsplit(url)
    request = graphql_request(url, body, {"Authorization": f"Bearer {token}"} if token else None)
    label = label or f"{url} {body.get('query', '')[:60]!r}"
    result = LoadResult()
    connections = [
        await KeepAliveConnection.open(address.hostname or "127.0.0.1", address.port or 80) for _ in range(concurrency)
    ]
    try:
        for status, content, _ in await asyncio.gather(*(c.send(request) for c in connections)):  # warm-up
            check_answer(status, content, label)
        meters = {"client": _own_cpu_seconds, **(meters or {})}
        before = {name: read() for name, read in meters.items()}
        started = time.perf_counter()
        stop_at = started + seconds

        async def client(connection: KeepAliveConnection) -> None:
            while time.perf_counter() < stop_at and len(result.latencies) < max_requests:
                t0 = time.perf_counter()
                status, content, timing = await connection.send(request)
                elapsed = time.perf_counter() - t0
                check_answer(status, content, label)
                result.latencies.append(elapsed)
                result.sizes.append(len(content))
                found = STATEMENTS.search(timing)
                if found:
                    result.statements.append(int(found.group(1)))

        await asyncio.gather(*(client(c) for c in connections))
        result.seconds = time.perf_counter() - started
        result.cpu = {name: read() - before[name] for name, read in meters.items()}
    finally:
        for connection in connections:
            connection.close()
    return result


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
