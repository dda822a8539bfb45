"""Shared pieces of the benchmarks: databases, a real server process, a closed-loop load, tables."""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"commit {commit or 'unknown'}{' (with uncommitted changes)' if dirty else ''}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`salesgraph serve` in its own process on a free port."""

    def __init__(self, database_url: str, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
        self.log = tempfile.NamedTemporaryFile(prefix="salesgraph-bench-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
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
        ticks = os.sysconf("SC_CLK_TCK")
        pids, total = {self.process.pid}, 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent pid
                pids.add(int(stat.parent.name))
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def row(self, name: str) -> list[str]:
        lat = sorted(self.latencies)
        n = len(lat)
        pct = (lambda p: lat[min(n - 1, int(p * n))] * 1000) if n else (lambda p: float("nan"))
        return [
            name,
            str(n),
            f"{n / self.seconds:.1f}" if self.seconds else "-",
            f"{pct(0.5):.1f}",
            f"{pct(0.99):.1f}",
            f"{statistics.mean(self.statements):.1f}" if self.statements else "-",
            f"{statistics.mean(self.sizes) / 1024:.1f}" if self.sizes else "-",
            str(self.errors),
        ]


HEADER = ["query", "requests", "req/s", "p50 ms", "p99 ms", "SQL/req", "KiB/resp", "errors"]


async def closed_loop(
    url: str, token: str, body: dict, concurrency: int, seconds: float, max_requests: int = 1_000_000
) -> LoadResult:
    """`concurrency` clients, each sending the next request when the last answer arrived, for `seconds`."""
    result = LoadResult()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        await http.post("/graphql", json=body)  # warm-up: caches, connection pool
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()

        async def client() -> None:
            while time.perf_counter() < stop_at and len(result.latencies) < max_requests:
                t0 = time.perf_counter()
                response = await http.post("/graphql", json=body)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200 or b'"errors"' in response.content:
                    result.errors += 1
                    continue
                result.latencies.append(elapsed)
                result.sizes.append(len(response.content))
                timing = response.headers.get("server-timing", "")
                if 'desc="' in timing:
                    result.statements.append(int(timing.split('desc="', 1)[1].split(" ", 1)[0]))

        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
