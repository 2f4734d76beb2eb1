"""Each local service from scripts/services starts and answers, used the way later
actions will use it: Docker builds and runs with host networking, the registry takes a
push, sshd verifies host keys, PostgreSQL answers, Compose brings a service up."""

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import free_port

pytestmark = pytest.mark.services


def sh(*argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


def test_docker_runs_a_scratch_image_on_host_network(busybox_image):
    proc = sh("docker", "run", "--rm", "--network", "host", busybox_image, "sh", "-c", "echo up && ip addr show lo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("up") and "127.0.0.1" in proc.stdout


def test_registry_takes_a_push_and_serves_the_manifest(services, busybox_image):
    registry = services["DA_REGISTRY"]
    ref = f"{registry}/services-check/busybox:probe"
    assert sh("docker", "tag", busybox_image, ref).returncode == 0
    push = sh("docker", "push", ref)
    assert push.returncode == 0, push.stderr
    with urllib.request.urlopen(f"http://{registry}/v2/services-check/busybox/tags/list", timeout=10) as resp:
        assert "probe" in json.load(resp)["tags"]
    request = urllib.request.Request(
        f"http://{registry}/v2/services-check/busybox/manifests/probe",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Docker-Content-Digest"].startswith("sha256:")


@pytest.mark.parametrize("index", [0, 1])
def test_sshd_per_host_with_verified_host_keys(services, index, tmp_path):
    host = services["DA_SSH_HOSTS"].split(",")[index]
    base = [
        "ssh",
        "-p",
        services["DA_SSH_PORT"],
        "-i",
        services["DA_SSH_KEY"],
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=10",
    ]
    target = f"{services['DA_SSH_USER']}@{host}"
    known = f"UserKnownHostsFile={services['DA_SSH_KNOWN_HOSTS']}"
    ok = sh(*base, "-o", known, target, "id -un && docker info -f '{{.ServerVersion}}'")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == services["DA_SSH_USER"]  # and the deploy user may use Docker
    unknown = tmp_path / "empty_known_hosts"
    unknown.write_text("")
    refused = sh(*base, "-o", f"UserKnownHostsFile={unknown}", target, "true")
    assert refused.returncode == 255 and "Host key verification failed" in refused.stderr


def test_postgres_answers(services):
    proc = sh("psql", services["DA_POSTGRES_URL"], "-Atc", "select 40 + 2")
    assert proc.returncode == 0 and proc.stdout.strip() == "42", proc.stderr


def test_compose_brings_a_host_network_service_up_and_down(busybox_image, tmp_path):
    port = free_port()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "ready").write_text("ok\n")
    (tmp_path / "compose.yml").write_text(f"""
services:
  web:
    image: {busybox_image}
    network_mode: host
    command: ["httpd", "-f", "-p", "127.0.0.1:{port}", "-h", "/www"]
    volumes: ["./www:/www:ro"]
""")
    project = ["docker", "compose", "-p", f"svc-check-{port}", "-f", str(tmp_path / "compose.yml")]
    assert sh(*project, "up", "-d").returncode == 0
    try:
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as resp:
                    assert resp.read() == b"ok\n"
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the compose service never answered")
    finally:
        assert sh(*project, "down", "--timeout", "1").returncode == 0


@pytest.mark.parametrize("tool", ["act", "zizmor"])
def test_tools_installed(tool):
    assert shutil.which(tool), f"{tool} not on PATH (scripts/dev-env installs it into .venv)"
    assert sh(tool, "--version").returncode == 0
