"""The GraphQL-over-HTTP conformance audits of the `graphql-http` reference package, run against the
demo server process. Needs node and npm (skipped without them; the package comes from the npm
registry into a cache folder on first use)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "salesgraph-tests" / "graphql-http"


def _graphql_http() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the graphql-http audits")
    module = CACHE / "node_modules" / "graphql-http"
    if not module.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), "graphql-http@1", "graphql@16"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if installed.returncode != 0:
            pytest.skip(f"could not install graphql-http from the npm registry: {installed.stderr[-300:]}")
    return CACHE


def test_the_server_passes_every_graphql_over_http_audit(demo_server, tmp_path):
    cache = _graphql_http()
    script = tmp_path / "audit.mjs"
    shutil.copy(HERE.parent / "support" / "audit.mjs", script)
    (tmp_path / "node_modules").symlink_to(cache / "node_modules")
    run = subprocess.run(
        ["node", str(script), f"{demo_server.url}/graphql"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["failed"] == []
    assert report["ok"] >= 60
