"""A real PgBouncer (Debian's `pgbouncer`) in transaction pooling mode in front of the tests' PostgreSQL,
with few server connections, so that consecutive transactions of one client connection land on
different server connections, as they do in production behind it."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_pgbouncer() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgBouncer:
    """`pgbouncer` on a free port, for `postgres` on `pg_port`: pool_mode=transaction, `server_connections`
    connections to PostgreSQL per database, trust authentication. As root it runs as `user` (it refuses to
    run as root)."""

    def __init__(self, pg_port: int, user: str | None, server_connections: int = 2) -> None:
        self.binary = find_pgbouncer()
        if self.binary is None:
            raise RuntimeError("pgbouncer not found (apt-get install pgbouncer)")
        self.user = user
        self.folder = Path(tempfile.mkdtemp(prefix="salesgraph-pgbouncer-", dir="/tmp"))
        self.port = _free_port()
        (self.folder / "users.txt").write_text('"postgres" ""\n')
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={pg_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder}/users.txt\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {server_connections}\n"
            "max_client_conn = 1000\n"
            f"logfile = {self.folder}/pgbouncer.log\n"
            f"pidfile = {self.folder}/pgbouncer.pid\n"
            "ignore_startup_parameters = extra_float_digits\n"
            "server_reset_query =\n"
        )
        if user is not None:
            info = pwd.getpwnam(user)
            for path in (self.folder, *self.folder.iterdir()):
                os.chown(path, info.pw_uid, info.pw_gid)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> PgBouncer:
        command = [self.binary, str(self.folder / "pgbouncer.ini")]
        if self.user is not None:
            command[1:1] = ["-u", self.user]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)  # polling until the port accepts
        self.stop()
        raise RuntimeError(f"pgbouncer did not listen:\n{self.log()}")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
