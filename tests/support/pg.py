"""A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary folder,
start on a free port, stop and delete on exit. Runs as an unprivileged user when we are root.

`python -m tests.support.pg` starts one, prints its URL and waits for Ctrl-C."""

from __future__ import annotations

import asyncio
import atexit
import glob
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable

from tests.support.server import free_port

USER = "postgres"
FALLBACK_USER = "salesgraph-pg"
BINARIES = ("initdb", "pg_ctl", "postgres")


def find_pg_bin() -> str | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = [os.environ.get("PG_BIN", ""), "/usr/local/bin"]
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(found))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versioned, key=_version_key, reverse=True)
    for folder in candidates:
        if folder and all(os.access(os.path.join(folder, b), os.X_OK) for b in BINARIES):
            return folder
    return None


def _version_key(path: str) -> tuple[int, ...]:
    version = path.rstrip("/").split("/")[-2]
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)


def _service_user() -> str | None:
    """initdb and postgres refuse to run as root: pick (or make) a system user for them."""
    if os.geteuid() != 0:
        return None
    for name in (USER, FALLBACK_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER],
        check=True,
        capture_output=True,
        text=True,
    )
    return FALLBACK_USER


def _reachable_by_others(path: str) -> bool:
    """Whether every folder from / down to `path` lets other users through (o+x)."""
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _temp_parent(as_other_user: bool) -> str | None:
    """Where to make the server's folder: the usual temp dir, unless the service user can't reach it
    or it is so deep that the Unix socket path would pass the kernel's ~107 byte limit."""
    parent = tempfile.gettempdir()
    if len(parent) > 60 or (as_other_user and not _reachable_by_others(parent)):
        return "/tmp"
    return None


class PostgresServer:
    def __init__(self, keep: str | None = None) -> None:
        """`keep`: a folder whose cluster is used again if it has one and kept at the end (benchmarks that
        reuse a seeded database); by default a new temporary cluster, removed at the end."""
        self.bin = find_pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found; set PG_BIN or install postgresql")
        self.user = _service_user()
        self.keep = keep
        if keep is not None:
            os.makedirs(keep, exist_ok=True)
            self.folder = os.path.abspath(keep)
        else:
            self.folder = tempfile.mkdtemp(prefix="salesgraph-pg-", dir=_temp_parent(self.user is not None))
        self.data = os.path.join(self.folder, "data")
        self.log = os.path.join(self.folder, "log")
        self.port = free_port()
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        # cwd: the service user may not be allowed into our working directory
        return subprocess.run(command, check=True, capture_output=True, text=True, cwd=self.folder)

    def start(self) -> PostgresServer:
        if self.started:
            return self
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.folder, info.pw_uid, info.pw_gid)
        try:
            if not (self.keep is not None and os.path.exists(os.path.join(self.data, "PG_VERSION"))):
                self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale")
        except subprocess.CalledProcessError as error:
            self._cleanup()
            raise RuntimeError(f"initdb failed:\n{error.stdout}\n{error.stderr}") from None
        atexit.register(self.stop)
        for attempt in range(3):
            try:
                self._pg_ctl_start()
                break
            except subprocess.CalledProcessError as error:
                log = self._read_log()
                if "already in use" in log and attempt < 2:  # someone took the free port meanwhile
                    self.port = free_port()
                    continue
                self.started = True  # a server that came up too slowly still gets stopped
                self.stop()
                raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from None
        self.started = True
        return self

    def _pg_ctl_start(self) -> None:
        options = (
            f"-F -p {self.port} -k {shlex.quote(self.folder)} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options, "start")

    def halt(self, mode: str = "fast") -> None:
        """Stop the server and keep its data (an outage: `resume()` starts it again on the same port).
        `fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def resume(self) -> None:
        """Start a server stopped by `halt()` again, on the same port and data."""
        self._pg_ctl_start()

    def _read_log(self) -> str:
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create an empty database, or a copy of the database `template` (which nobody may be
        connected to); return its SQLAlchemy URL."""
        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
                if int(await conn.fetchval("SHOW server_version_num")) >= 150000:
                    # Copy the files, as before PostgreSQL 15, instead of writing every block of the
                    # template to the WAL: ~10 times faster for a seeded database (fsync is off here).
                    statement += " STRATEGY FILE_COPY"
                await conn.execute(statement)
            finally:
                await conn.close()

        _run_coroutine(create)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            self.started = False
            try:
                # (a kept cluster is stopped cleanly: it is started again later)
                mode = "immediate" if self.keep is None else "fast"
                self._run("pg_ctl", "-D", self.data, "-m", mode, "stop")
            except (subprocess.CalledProcessError, OSError):
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        atexit.unregister(self.stop)
        if self.keep is None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def has_database(self, name: str) -> bool:
        import asyncpg

        found: list[bool] = []

        async def look() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                found.append(bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)))
            finally:
                await conn.close()

        _run_coroutine(look)
        return found[0]

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run_coroutine(factory: Callable[[], Awaitable[None]]) -> None:
    """asyncio.run, or in a thread when called from inside a running event loop (async fixtures)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(factory())
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def main() -> None:
    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    with PostgresServer() as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
