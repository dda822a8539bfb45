"""Memory per idle WebSocket and per idle subscription, by ASGI server: the server's VmRSS (summed over
its processes) with N idle sockets, minus before, / N. Memory is not disturbed by CPU contention,
so these figures hold on a busy machine (times are not taken).

    .venv/bin/python bench/ws_memory.py [--sockets 1000] [--per-socket 10]
        [--servers uvicorn,uvicorn-websockets,uvicorn-wsproto,hypercorn,granian] [--apps bare,salesgraph]
        [--tracemalloc]

Apps: `bare`, a Starlette WebSocket that accepts and waits (what the server and Starlette cost a
socket), and `salesgraph`, the API on a small seeded SQLite database, each socket signed in and
holding one `scoreboardUpdated` subscription (the fan-out bench's document), then --per-socket
subscriptions on each of N / --per-socket sockets (what a subscription costs beyond its socket).
Servers: uvicorn with its `ws` implementations (`auto` is websockets-sansio), hypercorn (wsproto)
and granian (Rust); those not installed are skipped (`pip install hypercorn granian wsproto`).
Compression is off on every server that allows it (salesgraph serve's setting).

--tracemalloc runs the salesgraph app on uvicorn in a process that records allocations and prints
where the memory of N idle subscriptions went (by file and line), for the one-per-socket and the
many-per-socket cases."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, free_port, machine, table
from bench.fanout import DOCUMENT, VARIABLES
from bench.fanout_client import raise_open_files_limit

SERVERS = {
    "uvicorn": "uvicorn",  # ws="auto": websockets-sansio with uvicorn 0.54+
    "uvicorn-websockets": "uvicorn",
    "uvicorn-wsproto": "wsproto",
    "hypercorn": "hypercorn",
    "granian": "granian",
}


async def bare_app(scope: dict, receive: Any, send: Any) -> None:
    """A Starlette WebSocket that accepts and waits for the client to leave (and a 200 for /readyz)."""
    from starlette.responses import PlainTextResponse
    from starlette.websockets import WebSocket, WebSocketDisconnect

    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        await PlainTextResponse("ok")(scope, receive, send)
        return
    ws = WebSocket(scope, receive, send)
    await ws.accept(subprotocol=(scope.get("subprotocols") or [None])[0])
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass


def available(server: str) -> bool:
    return importlib.util.find_spec(SERVERS[server]) is not None


def command(server: str, app: str, port: int) -> list[str]:
    # (the bare app is this file's, served from --root's directory: run bare apps with the default root)
    target = "bench.ws_memory:bare_app" if app == "bare" else "gql.app:create_app"
    if server.startswith("uvicorn"):
        ws = {"uvicorn": "auto", "uvicorn-websockets": "websockets", "uvicorn-wsproto": "wsproto"}[server]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            *(["--factory"] if app != "bare" else []),
            "--port",
            str(port),
            "--ws",
            ws,
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
        ]
    if server == "hypercorn":
        return [
            sys.executable,
            "-m",
            "hypercorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target if app == "bare" else target + "()",
        ]
    # granian: one worker process under its main process (the RSS of both is counted)
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--ws",
        "--backlog",
        "4096",
        "--backpressure",
        "100000",  # (its default, backlog / workers, would hold back sockets beyond the 1,024th)
        *(["--factory"] if app != "bare" else []),
        target,
    ]


def tree_rss_kib(pid: int) -> int:
    """VmRSS of a process and its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(c) for c in children]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


# --- the client: a forked process holding the sockets ---


async def _hold(url: str, count: int, per_socket: int, token: str | None, ready: Any, release: Any) -> None:
    from websockets.asyncio.client import connect

    sockets = []
    errors: list[str] = []
    gate = asyncio.Semaphore(100)

    async def open_one(n: int) -> None:
        async with gate:
            try:
                ws = await connect(
                    url, subprotocols=["graphql-transport-ws"], max_size=None, compression=None, proxy=None
                )
                sockets.append(ws)
                if token is None:
                    return
                await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
                await ws.recv()
                for k in range(per_socket):
                    payload = {"query": DOCUMENT, "variables": VARIABLES}
                    await ws.send(json.dumps({"type": "subscribe", "id": str(k), "payload": payload}))
                received = 0
                while received < per_socket:
                    message = str(await ws.recv())
                    if message.startswith('{"type":"ping"'):  # the server's keep-alive (a slow start)
                        await ws.send('{"type":"pong"}')
                        continue
                    if '"next"' not in message or '"errors"' in message:
                        raise RuntimeError(message[:200])
                    received += 1
            except Exception as error:  # noqa: BLE001 - reported
                errors.append(repr(error)[:200])

    await asyncio.gather(*(open_one(n) for n in range(count)))
    ready.put({"sockets": len(sockets), "errors": errors[:3], "failed": len(errors)})

    async def drain(ws: Any) -> None:  # answer keep-alive pings, read whatever comes
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith('{"type":"ping"'):
                    await ws.send('{"type":"pong"}')
        except Exception:  # noqa: BLE001
            pass

    readers = [asyncio.create_task(drain(ws)) for ws in sockets]
    await asyncio.to_thread(release.get)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def hold(url: str, count: int, per_socket: int, token: str | None, ready: Any, release: Any) -> None:
    asyncio.run(_hold(url, count, per_socket, token, ready, release))


def measure(url: str, pid_rss: Any, count: int, per_socket: int, token: str | None, idle: float) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    ready, release = context.Queue(), context.Queue()
    before = pid_rss()
    client = context.Process(target=hold, args=(url, count, per_socket, token, ready, release), daemon=True)
    client.start()
    report = ready.get(timeout=600)
    time.sleep(idle)
    after = pid_rss()
    release.put(True)
    client.join(60)
    report.update(before=before, after=after)
    return report


def wait_ready(process: subprocess.Popen, url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready")


def warm(ws_url: str, token: str | None) -> None:
    """One socket (and subscription) opened and closed, so first-use costs are not counted per socket."""
    context = multiprocessing.get_context("fork")
    ready, release = context.Queue(), context.Queue()
    client = context.Process(target=hold, args=(ws_url, 1, 1, token, ready, release), daemon=True)
    client.start()
    ready.get(timeout=120)
    release.put(True)
    client.join(60)


def run_one(
    server: str, app: str, shape: tuple[int, int], args: argparse.Namespace, env: dict[str, str], token: str | None
) -> list[str]:
    """One server process for one shape (a heap does not shrink back after sockets close, so each
    measurement starts from a fresh process, warmed with one socket)."""
    sockets, per_socket = shape
    port = free_port()
    process = subprocess.Popen(
        command(server, app, port),
        cwd=args.root,  # the code served: this checkout, or --root's (to compare with other code)
        env={**os.environ, **env, "PYTHONPATH": f"{args.root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
        stdout=subprocess.DEVNULL,
        stderr=open(Path(tempfile.gettempdir()) / f"ws-memory-{server}-{app}.log", "w"),
    )
    try:
        wait_ready(process, f"http://127.0.0.1:{port}/readyz")
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        warm(ws_url, token)
        time.sleep(0.5)
        report = measure(ws_url, lambda: tree_rss_kib(process.pid), sockets, per_socket, token, args.idle)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    held = report["sockets"] * (per_socket if app != "bare" else 1)
    delta = report["after"] - report["before"]
    what = "sockets" if app == "bare" else f"subscriptions, {per_socket} per socket"
    return [
        server,
        app,
        f"{held:,} {what}",
        f"{report['before'] / 1024:.0f}",
        f"{report['after'] / 1024:.0f}",
        f"{delta / max(1, held):.1f}",
        str(report["failed"]) + (f" {report['errors'][0]}" if report["errors"] else ""),
    ]


# --- where the memory goes: tracemalloc in an in-process uvicorn ---


def traced_server(port: int, out: str, frames: int) -> None:
    """uvicorn serving the salesgraph app with tracemalloc on; SIGUSR1 writes a snapshot to `out`.N."""
    import uvicorn

    tracemalloc.start(frames)
    taken = [0]

    def snapshot(_signum: int, _frame: Any) -> None:
        taken[0] += 1
        tracemalloc.take_snapshot().dump(f"{out}.{taken[0]}")

    signal.signal(signal.SIGUSR1, snapshot)
    uvicorn.run(
        "gql.app:create_app",
        factory=True,
        port=port,
        log_level="warning",
        ws_per_message_deflate=False,
    )


def trace(args: argparse.Namespace, env: dict[str, str], token: str) -> None:
    port = free_port()
    out = tempfile.mktemp(prefix="ws-memory-trace-")
    os.environ.update(env)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=traced_server, args=(port, out, args.frames))
    process.start()
    pid = process.pid
    assert pid is not None
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        deadline = time.monotonic() + 600  # (tracemalloc slows the start-up a lot)
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("traced server not ready")
            time.sleep(0.3)
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        warm(ws_url, token)
        for sockets, per_socket in ((args.sockets, 1), (args.sockets // args.per_socket, args.per_socket)):
            n = len(list(Path(out).parent.glob(Path(out).name + ".*")))
            context_fork = multiprocessing.get_context("fork")
            ready, release = context_fork.Queue(), context_fork.Queue()
            time.sleep(1.0)
            os.kill(pid, signal.SIGUSR1)
            _wait_file(f"{out}.{n + 1}")
            client = context_fork.Process(
                target=hold, args=(ws_url, sockets, per_socket, token, ready, release), daemon=True
            )
            client.start()
            report = ready.get(timeout=600)
            time.sleep(args.idle)
            os.kill(pid, signal.SIGUSR1)
            _wait_file(f"{out}.{n + 2}")
            release.put(True)
            client.join(60)
            before = tracemalloc.Snapshot.load(f"{out}.{n + 1}")
            after = tracemalloc.Snapshot.load(f"{out}.{n + 2}")
            held = report["sockets"] * per_socket
            stats = after.compare_to(before, "traceback" if args.frames > 1 else "lineno")
            total = sum(s.size_diff for s in stats)
            print(
                f"\ntracemalloc, {held:,} idle subscriptions on {report['sockets']:,} sockets ({per_socket} per "
                f"socket), uvicorn: {total / 1024 / max(1, held):.1f} KiB of Python objects per subscription"
            )
            rows = []
            for stat in stats[: args.top]:
                where = stat.traceback.format()[-1 if args.frames == 1 else 0].strip()
                if args.frames > 1:
                    where = " <- ".join(
                        f"{Path(f.filename).name}:{f.lineno}" for f in reversed(list(stat.traceback)[-args.frames :])
                    )
                rows.append(
                    [
                        f"{stat.size_diff / max(1, held):.0f}",
                        f"{stat.count_diff / max(1, held):.1f}",
                        where[:150],
                    ]
                )
            print(table(rows, ["bytes per subscription", "blocks per subscription", "allocated at"]))
            by_file = after.compare_to(before, "filename")
            files = [
                [f"{s.size_diff / max(1, held):.0f}", _short(s.traceback[0].filename)]
                for s in by_file[: args.top]
                if abs(s.size_diff / max(1, held)) >= 50
            ]
            print(table(files, ["bytes per subscription", "allocated in"]))
            time.sleep(1.0)
    finally:
        process.terminate()
        process.join(20)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _wait_file(path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not Path(path).exists() or Path(path).stat().st_size == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot {path}")
        time.sleep(0.2)
    size = -1
    while Path(path).stat().st_size != size:  # written completely
        size = Path(path).stat().st_size
        time.sleep(0.3)


async def prepare(url: str, size: int) -> str:
    from bench.nested_read import prepare as seeded

    return await seeded(url, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose app is served (default: this one)")
    parser.add_argument("--per-socket", type=int, default=10, help="subscriptions per socket in the second shape")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--apps", default="bare,salesgraph")
    parser.add_argument("--size", type=int, default=200, help="opportunities to seed")
    parser.add_argument("--idle", type=float, default=2.0, help="seconds idle before reading the RSS")
    parser.add_argument("--tracemalloc", action="store_true", help="where the memory goes (uvicorn, salesgraph)")
    parser.add_argument("--frames", type=int, default=1, help="frames per allocation with --tracemalloc")
    parser.add_argument("--top", type=int, default=25, help="lines shown with --tracemalloc")
    args = parser.parse_args()
    raise_open_files_limit()
    with tempfile.TemporaryDirectory(prefix="ws-memory-") as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/ws.sqlite3"
        token = asyncio.run(prepare(database_url, args.size))
        env = {
            "DATABASE_URL": database_url,
            "BROADCAST_URL": "memory://",
            "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
            "SALESGRAPH_RATE_COST_PER_MINUTE": "0",
        }
        print(machine())
        if args.tracemalloc:
            trace(args, env, token)
            return
        rows = []
        for server in args.servers.split(","):
            if not available(server):
                print(f"(skipped {server}: not installed)", file=sys.stderr)
                continue
            for app in args.apps.split(","):
                print(f"… {server} {app}", file=sys.stderr, flush=True)
                shapes = [(args.sockets, 1)]
                if app != "bare" and args.per_socket > 1:
                    shapes.append((args.sockets // args.per_socket, args.per_socket))
                for shape in shapes:
                    try:
                        rows.append(run_one(server, app, shape, args, env, None if app == "bare" else token))
                    except Exception as error:  # noqa: BLE001 - shown in the table
                        rows.append([server, app, "-", "-", "-", "-", f"failed: {error!r}"[:120]])
        print(
            "\nMemory per idle socket / subscription: server VmRSS (all its processes) with them open and idle, "
            "minus before, / count"
        )
        print(table(rows, ["server", "app", "held", "RSS before MiB", "RSS idle MiB", "KiB each", "failures"]))


if __name__ == "__main__":
    main()
