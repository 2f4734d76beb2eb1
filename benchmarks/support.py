"""What the deploy benchmarks share: the local services' environment, a temporary-folder
maker for the test image builder, and one ssh-compose-deploy run as its own process (as a
workflow step runs it), timed, and the machine line every result carries."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "tests")]
STATE = Path(os.environ.get("DA_STATE", "/var/lib/deploy-actions-dev"))


def services() -> dict[str, str]:
    """The variables `scripts/services up` wrote."""
    return dict(line.split("=", 1) for line in (STATE / "env").read_text().splitlines() if "=" in line)


class Dirs:
    """tmp_path_factory's one method, for deploy_support.build_web_images."""

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name))


def ssh_compose_deploy(services: dict, hosts: str, path: str, tag: str, *args: str) -> tuple[int, str, float]:
    """(exit code, output, seconds) of one deploy, the key and known hosts by environment."""
    return compose_command(services, "ssh-compose-deploy", hosts, path, "--image-tag", tag, *args)


def compose_command(
    services: dict, command: str, hosts: str, path: str, *args: str, json_doc: bool = False
) -> tuple[int, str, float]:
    """(exit code, output, seconds) of ssh-compose-deploy, promote or abort on `hosts`; with
    `json_doc`, the output is the --json document alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(
        PYTHONPATH=str(ROOT / "python"),
        INPUT_SSH_KEY=Path(services["DA_SSH_KEY"]).read_text(),
        INPUT_KNOWN_HOSTS=Path(services["DA_SSH_KNOWN_HOSTS"]).read_text(),
    )
    flags = ["--json"] if json_doc else []
    argv = [sys.executable, "-m", "deploy_actions", *flags, command, "--hosts", hosts, "--deploy-path", path]
    started = time.perf_counter()
    proc = subprocess.run([*argv, *args], env=env, capture_output=True, text=True)
    output = proc.stdout if json_doc else proc.stdout + proc.stderr
    return proc.returncode, output, time.perf_counter() - started


def machine() -> str:
    """The machine a benchmark ran on, as its figures are quoted with."""
    return f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
