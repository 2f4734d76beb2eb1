"""Two build-push measurements, each side by side in one run against the real engine and
the local registry of scripts/services (127.0.0.1:5000):

1. An app-only change built on an empty engine (what a fresh hosted runner has): no cache
   against the layer cache taken from the previous release (build-push's default).
   The Dockerfile has a heavy dependency layer (~300 MB of data compressed, ~40 MB kept)
   and a small app layer.
2. A cold multi-stage build (two independent heavy stages, one unused debug stage): the
   classic builder against BuildKit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = os.environ.get("DA_REGISTRY", "127.0.0.1:5000")
DOCKER = "/usr/bin/docker"
HEAVY = (
    "RUN mkdir -p /tmp /deps && dd if=/dev/urandom bs=1048576 count=300 2>/dev/null | gzip -1 > /tmp/x"
    " && dd if=/tmp/x of=/deps/{name} bs=1048576 count=40 2>/dev/null && rm /tmp/x"
)

APP = (
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    + HEAVY.format(name="blob")
    + "\nCOPY app.txt /app/app.txt\n"
)

STAGES = (
    'FROM scratch AS base\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    + "FROM base AS deps-one\n"
    + HEAVY.format(name="one")
    + "\nFROM base AS deps-two\n"
    + HEAVY.format(name="two")
    + "\nFROM base AS debug\n"
    + HEAVY.format(name="debug")
    + "\nFROM base AS app\nCOPY --from=deps-one /deps/one /deps/one\nCOPY --from=deps-two /deps/two /deps/two\n"
    + "COPY app.txt /app/app.txt\n"
)


def docker(*args: str) -> None:
    subprocess.run([DOCKER, *args], check=True, capture_output=True)


def empty_engine(*images: str) -> None:
    for image in images:
        subprocess.run([DOCKER, "rmi", "-f", image], capture_output=True)
    docker("builder", "prune", "-af")


def build_push(context: Path, image: str, version: str, *args: str) -> tuple[float, str]:
    env = {
        **os.environ,
        "GITHUB_REF": f"refs/tags/{version}",
        "GITHUB_SHA": uuid.uuid4().hex + uuid.uuid4().hex[:8],
        "SOURCE_DATE_EPOCH": "1767225600",
    }
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "build-push", "--image", image, "--context", str(context), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT / "python",
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"build-push failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def context_with(root: Path, dockerfile: str) -> Path:
    context = root / uuid.uuid4().hex[:6]
    context.mkdir()
    shutil.copy("/bin/busybox", context / "busybox")
    (context / "app.txt").write_text("one\n")
    (context / "Dockerfile").write_text(dockerfile)
    return context


def cache_from_release(root: Path) -> dict:
    image = f"{REGISTRY}/bench-{uuid.uuid4().hex[:8]}/app"
    context = context_with(root, APP)
    first_s, _ = build_push(context, image, "v1.0.0", "--mode", "push")
    (context / "app.txt").write_text("two\n")  # the app-only change
    empty_engine(f"{image}:v1.0.0")
    cold_s, _ = build_push(context, image, "v1.1.0", "--cache-from", "none")
    empty_engine(f"{image}:v1.1.0")
    cached_s, out = build_push(context, image, "v1.1.0")
    assert "layer cache from" in out and out.count("CACHED") >= 2, out[-2000:]
    return {
        "release_build_push_s": round(first_s, 2),
        "no_cache_s": round(cold_s, 2),
        "cache_from_previous_release_s": round(cached_s, 2),
        "speedup": round(cold_s / cached_s, 1),
    }


def classic_against_buildkit(root: Path) -> dict:
    image = f"{REGISTRY}/bench-{uuid.uuid4().hex[:8]}/stages"
    context = context_with(root, STAGES)
    empty_engine()
    classic_s, _ = build_push(context, image, "v1.0.0", "--builder", "classic", "--target", "app")
    empty_engine(f"{image}:v1.0.0")
    buildkit_s, _ = build_push(context, image, "v1.0.0", "--target", "app")
    return {
        "classic_s": round(classic_s, 2),
        "buildkit_s": round(buildkit_s, 2),
        "speedup": round(classic_s / buildkit_s, 1),
    }


def main() -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        return {"cache": cache_from_release(Path(scratch)), "stages": classic_against_buildkit(Path(scratch))}


if __name__ == "__main__":
    print(json.dumps(main()))
