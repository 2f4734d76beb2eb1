"""Which docker CLI can drive BuildKit here. `docker buildx` where the plugin is installed
(GitHub's hosted runners); otherwise a CLI older than 23.0, whose own `docker build` talks
to the engine's built-in BuildKit when DOCKER_BUILDKIT=1 (Debian's docker.io 20.10). A 23+
CLI without buildx cannot build with BuildKit at all, so it is skipped, not used."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

PROBE_TIMEOUT = 20


@dataclass(frozen=True)
class Cli:
    path: str
    version: str
    buildx: bool

    @property
    def kind(self) -> str:
        return "buildx" if self.buildx else "docker-buildkit"


def _run(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def candidates(path: str | None = None) -> list[str]:
    """Every `docker` on PATH, then Debian's, each once (by real path)."""
    found: list[str] = []
    seen: set[str] = set()
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep) + ["/usr/bin"]:
        exe = shutil.which("docker", path=folder) if folder else None
        if exe and os.path.realpath(exe) not in seen:
            seen.add(os.path.realpath(exe))
            found.append(exe)
    return found


def major(version: str) -> int | None:
    match = re.match(r"^(\d+)\.", version)
    return int(match.group(1)) if match else None


@cache
def probe(exe: str) -> Cli | None:
    # `docker --version` needs no engine: "Docker version 20.10.24+dfsg1, build 297e128".
    match = re.search(r"version (\S+?),?(?:\s|$)", _run([exe, "--version"]) or "")
    version = match.group(1) if match else ""
    if _run([exe, "buildx", "version"]) is not None:
        return Cli(exe, version, buildx=True)
    number = major(version)
    if number is not None and number < 23:
        return Cli(exe, version, buildx=False)
    return None


def find(*, need_buildx: bool = False) -> Cli | None:
    """The first CLI that builds with BuildKit; with need_buildx, the first with buildx."""
    usable = [cli for cli in (probe(exe) for exe in candidates()) if cli]
    if need_buildx:
        usable = [cli for cli in usable if cli.buildx]
    return next((cli for cli in usable if cli.buildx), usable[0] if usable else None)
