"""Shared fixtures. Services come from scripts/services (started by scripts/test); the
example service in examples/hello is the real HTTP server the smoke tests talk to."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "hello"))

from app import App  # noqa: E402


def read_outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT heredoc records (`name<<DELIM` … `DELIM`)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    outputs: dict[str, str] = {}
    for match in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.S | re.M):
        outputs[match.group(1)] = match.group(3)
    return outputs


_HANDED_OUT: set[int] = set()


def self_signed(folder: Path, name: str, *hosts: str) -> tuple[str, str, str]:
    """A self-signed EC certificate naming `hosts`: (certificate PEM, key PEM, the certificate's
    file, which is what a client trusts)."""
    import subprocess

    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", f"/CN={hosts[0]}", "-addext", "subjectAltName=" + ",".join(f"DNS:{h}" for h in hosts),
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert.read_text(), key.read_text(), str(cert)


def free_port() -> int:
    """A port no one listens on, on any address (the test hosts are 127.0.0.2, 127.0.0.3, …),
    and never the same twice in a session: the kernel may give a just-closed port again, and
    a Target asks for three that must differ."""
    while True:
        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@pytest.fixture
def gha_env(tmp_path):
    """A GitHub Actions step environment whose file commands land in tmp_path."""
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "PATH": os.environ.get("PATH", ""),
    }
    return env


@pytest.fixture
def start_app():
    apps: list[App] = []

    def start(**kwargs) -> App:
        app = App(**kwargs).start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def service_env() -> dict[str, str]:
    """What scripts/services wrote about the running services; skip (or fail, under
    scripts/test and CI) when they are not up."""
    path = Path(os.environ.get("DA_STATE", "/var/lib/deploy-actions-dev")) / "env"
    if not path.exists():
        message = f"local services are not running ({path} missing): run scripts/services up"
        if os.environ.get("CI") or os.environ.get("DA_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    return service_env()


def act_binary() -> str:
    import shutil

    found = shutil.which("act") or (str(ROOT / ".venv/bin/act") if (ROOT / ".venv/bin/act").exists() else None)
    if not found:
        pytest.fail("act is not installed: scripts/dev-env puts it in .venv/bin")
    return found


@pytest.fixture(scope="session")
def action_repo(tmp_path_factory) -> Path:
    """The library as a consumer's runner gets it: only the files git tracks (plus new,
    not-ignored ones during development), never .venv or caches."""
    from deploy_actions.commands.local_run import export_tracked

    dest = tmp_path_factory.mktemp("deploy-actions-export")
    export_tracked(ROOT, dest)
    return dest


@pytest.fixture(scope="session")
def busybox_image(services) -> str:
    """A test image built FROM scratch with Debian's busybox-static (no pulls are possible)."""
    import shutil
    import subprocess
    import tempfile

    tag = "deploy-actions-test/busybox:latest"
    with tempfile.TemporaryDirectory() as context:
        shutil.copy("/bin/busybox", Path(context) / "busybox")
        (Path(context) / "Dockerfile").write_text(
            'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            'CMD ["/bin/sh"]\n'
        )
        subprocess.run(["docker", "build", "-q", "-t", tag, context], check=True, capture_output=True)
    return tag


@pytest.fixture(scope="session")
def web_repo(services, tmp_path_factory) -> str:
    from deploy_support import build_web_images

    return build_web_images(services, tmp_path_factory)


def commit_all(repo: Path, message: str = "change") -> None:
    """Commit the working tree of a consumer repository made by a test (git init if needed)."""
    import subprocess

    git = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t"]
    if not (repo / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", message, "--allow-empty"], cwd=repo, check=True)


def run_act(repo: Path, action_repo: Path, event: str, *extra: str, env: dict | None = None, timeout: int = 600):
    """act on the host (`-P ubuntu-latest=-self-hosted`), `org/deploy-actions@v1` mapped to the
    clean export of this checkout; extra arguments pass through (-e, --env, -s, -W …)."""
    import subprocess

    # act asks api.nektosact.com for notices unless told not to: tests talk to loopback only.
    env = {**(os.environ if env is None else env), "ACT_DISABLE_VERSION_CHECK": "1"}
    return subprocess.run(
        [
            act_binary(),
            event,
            "-P",
            "ubuntu-latest=-self-hosted",
            "--no-cache-server",
            *extra,
            "--local-repository",
            f"org/deploy-actions@v1={action_repo}",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def bystander(request):
    """What the suite must leave alone, as scripts/demo's services: a container with a restart
    policy on every deploy host's engine and a table in the shared PostgreSQL, made before the
    first test that uses the services and checked after the last (tests that stop an engine
    must let it come back). A failure here is the suite breaking a demo run beside it."""
    import subprocess
    import time
    import uuid

    if not any(item.get_closest_marker("services") for item in request.session.items):
        yield
        return
    env = service_env()
    engines = dict(pair.split("=", 1) for pair in env["DA_SSH_HOST_ENGINES"].split(","))
    name, db = f"da-bystander-{uuid.uuid4().hex[:6]}", f"da_bystander_{uuid.uuid4().hex[:6]}"
    keep = "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"

    def docker(engine: str, *args: str) -> subprocess.CompletedProcess:
        run_env = {**os.environ, "DOCKER_HOST": engine}
        return subprocess.run(["docker", *args], env=run_env, capture_output=True, text=True, timeout=120)

    def psql(url: str, sql: str) -> subprocess.CompletedProcess:
        return subprocess.run(["psql", "-qAtX", url, "-c", sql], capture_output=True, text=True, timeout=60)

    base = env["DA_POSTGRES_URL"].rsplit("/", 1)[0]
    for engine in engines.values():
        args = ["run", "-d", "--name", name, "--restart", "unless-stopped", "--network", "none"]
        made = docker(engine, *args, "--entrypoint", "sh", env["DA_PROXY_IMAGE"], "-c", keep)
        assert made.returncode == 0, made.stderr
    assert psql(env["DA_POSTGRES_URL"], f"CREATE DATABASE {db}").returncode == 0
    assert psql(f"{base}/{db}", "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')").returncode == 0
    yield
    try:
        for addr, engine in engines.items():
            deadline = time.monotonic() + 60
            while docker(engine, "inspect", "-f", "{{.State.Running}}", name).stdout.strip() != "true":
                assert time.monotonic() < deadline, f"the suite stopped a bystander container on {addr} for good"
                time.sleep(1)
        kept = psql(f"{base}/{db}", "SELECT note FROM kept")
        assert kept.stdout.strip() == "still here", f"the suite changed a bystander database: {kept.stderr}"
    finally:
        for engine in engines.values():
            docker(engine, "rm", "-f", name)
        psql(env["DA_POSTGRES_URL"], f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
