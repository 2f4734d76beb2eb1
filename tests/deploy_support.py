"""Shared by the deploy integration and end-to-end tests: a test service whose tags behave
differently (ready, ready later, never ready, not ready on one host) and a deploy folder
on every test host."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

from conftest import free_port

START = """#!/bin/sh
# v3 images are not ready on the host named in /www/fail-on; v1.2.0 becomes ready after 3 s.
if [ -f /www/fail-on ] && [ "$(cat /www/fail-on)" = "$HOST_ADDR" ]; then rm -f /www/ready; fi
if [ -f /www/ready-later ]; then (sleep 3; echo ok > /www/ready) & fi
httpd -f -p "$BIND" -h /www &
trap 'kill $!; exit 0' TERM INT  # stop promptly, as a service should (PID 1 ignores TERM otherwise)
wait
"""
IMAGES = {"v1.0.0": {"ready": True}, "v1.1.0": {"ready": True}, "v1.2.0": {"ready": False, "ready-later": True},
          "v2.0.0-rc.1": {"ready": False}, "v3.0.0-rc.1": {"ready": True, "fail-on": "127.0.0.3"}}
COMPOSE = """services:
  web:
    image: {repo}:${{IMAGE_TAG}}
    network_mode: host
    environment:
      BIND: ${{DEPLOY_HOST_ADDR}}:${{WEB_PORT}}
      HOST_ADDR: ${{DEPLOY_HOST_ADDR}}
"""


def build_web_images(services, tmp_path_factory) -> str:
    """Push the test service's tags to the local registry; return the repository."""
    repo = f"{services['DA_REGISTRY']}/deploy-it-{uuid.uuid4().hex[:6]}/web"
    for tag, spec in IMAGES.items():
        ctx = tmp_path_factory.mktemp(f"web-{tag}")
        (ctx / "www").mkdir()
        shutil.copy("/bin/busybox", ctx / "busybox")
        (ctx / "start").write_text(START)
        (ctx / "start").chmod(0o755)
        (ctx / "www" / "health").write_text("ok\n")
        (ctx / "www" / "version").write_text(tag)
        if spec["ready"]:
            (ctx / "www" / "ready").write_text("ok\n")
        if spec.get("ready-later"):
            (ctx / "www" / "ready-later").write_text("")
        if spec.get("fail-on"):
            (ctx / "www" / "fail-on").write_text(spec["fail-on"])
        (ctx / "Dockerfile").write_text('FROM scratch\nCOPY busybox /bin/busybox\n'
                                        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
                                        'COPY www /www\nCOPY start /start\nCMD ["/start"]\n')
        subprocess.run(["docker", "build", "-q", "-t", f"{repo}:{tag}", str(ctx)], check=True, capture_output=True)
        subprocess.run(["docker", "push", "-q", f"{repo}:{tag}"], check=True, capture_output=True)
    return repo


class Target:
    """One deploy folder on every host, like /opt/backend on real servers."""

    def __init__(self, services, repo, addrs=None):
        self.services = services
        self.name = f"t-{uuid.uuid4().hex[:8]}"
        self.path = f"{services['DA_SSH_DEPLOY_ROOT']}/{self.name}"
        self.port = free_port()
        dirs = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_DIRS"].split(","))
        self.addrs = addrs or services["DA_SSH_HOSTS"].split(",")[:2]
        self.dirs = {addr: Path(dirs[addr]) / self.name for addr in self.addrs}
        for folder in self.dirs.values():
            folder.mkdir()
            (folder / "compose.yml").write_text(COMPOSE.format(repo=repo))
            (folder / ".env").write_text(f"# written by hand\nWEB_PORT={self.port}\nIMAGE_TAG=none\n")
            shutil.chown(folder, services["DA_SSH_USER"], services["DA_SSH_USER"])
            for child in folder.iterdir():
                shutil.chown(child, services["DA_SSH_USER"], services["DA_SSH_USER"])

    def hosts(self, *addrs):
        return "\n".join(f"{self.services['DA_SSH_USER']}@{a}:{self.services['DA_SSH_PORT']}"
                         for a in (addrs or self.addrs))

    def version(self, addr) -> str:
        try:
            with urllib.request.urlopen(f"http://{addr}:{self.port}/version", timeout=3) as resp:
                return resp.read().decode()
        except OSError as exc:
            return f"down ({exc})"

    def env_file(self, addr) -> str:
        return (self.dirs[addr] / ".env").read_text()

    def history(self, addr) -> list[list[str]]:
        path = self.dirs[addr] / ".deploy-actions" / "history"
        return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []

    def down(self):
        compose_down(self.services, self.name, self.addrs)


def compose_down(services, name: str, addrs) -> None:
    """Stop what a test deployed into deploy folder `name` on each host (the host's Compose
    project holds other folders' services too: only this compose file's go)."""
    dirs = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_DIRS"].split(","))
    for addr in addrs:
        folder = Path(dirs[addr]) / name
        subprocess.run(["docker", "compose", "-p", f"host-{addr.replace('.', '-')}", "-f", str(folder / "compose.yml"),
                        "--env-file", str(folder / ".env"), "down", "-t", "1"], capture_output=True,
                       env={**os.environ, "DEPLOY_HOST_ADDR": addr})


def local_run(repo: Path, *args: str, library: Path | None = None, timeout: int = 900):
    """`deploy-actions --json local-run` on a repository: exit code, the JSON result, act's log."""
    extra = ["--library-path", str(library)] if library else []
    proc = subprocess.run([sys.executable, "-m", "deploy_actions", "--json", "local-run", "--repo", str(repo), *extra,
                           *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else {}), proc.stderr


class ArgvSampler:
    """Reads every process's command line (/proc/*/cmdline, what `ps` shows to any user) every
    few milliseconds while a block runs: the runner's and, the test hosts being local sshd
    processes, the hosts' too."""

    def __init__(self, *needles: str, every: float = 0.005):
        self.needles = [n for n in needles if n]
        self.every = every
        self.samples = 0
        self.seen: set[int] = set()
        self.found: list[str] = []

    def _sample(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            self.seen.add(int(entry))
            self.found += [f"{needle!r} in {argv[:200]!r}" for needle in self.needles if needle in argv]
        self.samples += 1

    def __enter__(self):
        import threading

        self._stop = threading.Event()

        def loop():
            while not self._stop.is_set():
                self._sample()
                self._stop.wait(self.every)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
