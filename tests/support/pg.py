"""A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary folder,
start on a free port, stop and delete on exit. Runs as an unprivileged user when we are root."""
from __future__ import annotations

import asyncio
import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

USER = "postgres"


def find_pg_bin() -> str | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = [os.environ.get("PG_BIN", ""), "/usr/local/bin"]
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(found))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for folder in candidates:
        if folder and all(os.access(os.path.join(folder, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> str | None:
    """initdb and postgres refuse to run as root: pick (or make) a system user for them."""
    if os.geteuid() != 0:
        return None
    for name in (USER, "salesgraph-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "salesgraph-pg"],
                   check=True)
    return "salesgraph-pg"


class PostgresServer:
    def __init__(self) -> None:
        self.bin = find_pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found; set PG_BIN or install postgresql")
        self.user = _service_user()
        self.folder = tempfile.mkdtemp(prefix="salesgraph-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.folder, info.pw_uid, info.pw_gid)
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale")
        options = (f"-F -p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        try:
            self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-t", "60",
                      "-o", options, "start")
        except subprocess.CalledProcessError as error:
            log = open(os.path.join(self.folder, "log")).read() if os.path.exists(os.path.join(self.folder, "log")) else ""
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from None
        self.started = True
        atexit.register(self.stop)
        return self

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create()) if not _loop_running() else _run_in_thread(create)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            self.started = False
            try:
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def _run_in_thread(factory) -> None:  # noqa: ANN001
    import threading

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


if __name__ == "__main__":
    with PostgresServer() as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
