"""`salesgraph serve --demo` as a real server process, as a new user starts it."""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Under pytest-xdist (`./sg test` runs two workers) each worker takes ports from a block of its own,
# below the kernel's ephemeral range (32768 on): a port one worker picked is never the port another
# worker picks before the first one's server has bound it (two servers on one port would let a test
# talk to the other worker's server, or fail to start). A single process asks the kernel (port 0).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_BLOCK = 1000
_next_in_block = itertools.count(random.randrange(_BLOCK))


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    if not _WORKER.startswith("gw"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    start = 20000 + _BLOCK * (int(_WORKER[2:]) % 12)
    for _ in range(_BLOCK):
        port = start + next(_next_in_block) % _BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{start + _BLOCK - 1}")


@dataclass
class DemoServer:
    url: str
    tokens: dict[str, str]
    output: list[str]
    process: subprocess.Popen = field(repr=False)
    database: Path | None = None
    log: Path | None = None  # everything the process writes (stdout and stderr), as a user redirecting it

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_demo_server(folder: Path, timeout: float = 120) -> DemoServer:
    """Start `serve --demo` on a fresh SQLite file in `folder`; return once it answers /healthz. `output`
    holds what it printed for its user (URLs and tokens, on stdout); `log` is its logs (stderr)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3"}
    log, printed = folder / "demo.log", folder / "demo.out"
    # Files, not pipes: nobody reads a pipe once the tokens are found, and a full pipe stops the server. What
    # it prints for its user (stdout) apart from its logs (stderr).
    with open(log, "w") as logs, open(printed, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "salesgraph.cli", "serve", "--demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=sink,
            stderr=logs,
        )
    output: list[str] = []
    tokens: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with open(printed, "rb") as reader:
        while time.monotonic() < deadline:
            raw = reader.readline()
            if not raw.endswith(b"\n"):
                if process.poll() is not None:
                    break
                reader.seek(-len(raw), 1)
                time.sleep(0.05)  # polling a file that another process is still writing
                continue
            line = raw.decode()
            output.append(line)
            found = re.match(r"\s+(admin|partner) token:\s+(\S+)", line)
            if found:
                tokens[found.group(1)] = found.group(2)
            if "(tokens expire" in line:  # the end of what the demo prints for its user
                break
    server = DemoServer(f"http://127.0.0.1:{port}", tokens, output, process, folder / "demo.sqlite3", log)
    if len(tokens) < 2:
        server.stop()
        raise AssertionError("serve --demo printed no tokens:\n" + "".join(output))
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError("serve --demo did not answer /healthz")


@dataclass
class Server:
    url: str
    process: subprocess.Popen = field(repr=False)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash (nothing of it runs afterwards)."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def start_server(database_url: str, folder: Path, timeout: float = 60, workers: int = 1, **env: str) -> Server:
    """`salesgraph serve` on an existing, migrated database; returns once it answers /healthz."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=folder,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=subprocess.DEVNULL,
        stderr=open(folder / f"server-{port}.log", "w"),
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"serve did not answer /healthz:\n{(folder / f'server-{port}.log').read_text()}")
