"""A real HAProxy (Debian's `haproxy`) in front of several `salesgraph serve` processes: round robin,
WebSockets passed through, each server checked on /readyz (by default every 300 ms, down after two
failures). Its own messages (servers marked down or up) go to `haproxy.log` in its folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HAProxy:
    def __init__(
        self, backends: list[str], check: str = "inter 300ms fall 2 rise 1", check_timeout: str = "2s"
    ) -> None:
        """`check`: how often each server is checked and after how many failures or successes it is marked
        down or up (the tests check fast; deploy/haproxy.cfg checks every 2 s, 2 to fall, 2 to rise)."""
        self.binary = find_haproxy()
        if self.binary is None:
            raise RuntimeError("haproxy not found (apt-get install haproxy)")
        self.folder = Path(tempfile.mkdtemp(prefix="salesgraph-haproxy-"))
        self.port = _free_port()
        servers = "\n".join(
            f"    server s{n} {address.removeprefix('http://')} check" for n, address in enumerate(backends)
        )
        (self.folder / "haproxy.cfg").write_text(
            "defaults\n"
            "    mode http\n"
            "    timeout connect 2s\n"
            "    timeout client 60s\n"
            "    timeout server 60s\n"
            "    timeout tunnel 1h\n"
            f"    timeout check {check_timeout}\n"
            "    retries 3\n"
            "    option redispatch\n"
            "frontend salesgraph\n"
            f"    bind 127.0.0.1:{self.port}\n"
            "    default_backend servers\n"
            "backend servers\n"
            "    balance roundrobin\n"
            "    option httpchk GET /readyz\n"
            "    http-check expect status 200\n"
            f"    default-server {check}\n"
            f"{servers}\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15) -> HAProxy:
        self.process = subprocess.Popen(
            [self.binary, "-db", "-f", str(self.folder / "haproxy.cfg")],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "haproxy.log", "w"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("haproxy exited:\n" + (self.folder / "haproxy.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)  # polling until the port accepts
        self.stop()
        raise RuntimeError("haproxy did not listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
