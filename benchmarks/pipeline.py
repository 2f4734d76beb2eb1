"""The whole local release → stage → production run (scripts/demo's three workflows through
`deploy-actions local-run`), and how much of it is the library's own overhead.

Per run:
- wall: the three act runs, end to end (what a person waits for);
- library overhead, as the library itself measures it (DEPLOY_ACTIONS_TIMING=1): start-up
  of each action step (shell → interpreter → bootstrap → imports → inputs parsed), SSH
  set-up (from starting ssh to the remote script running), and polling slack (the last
  pause before /ready answered: the most it can have been late);
- act: wall minus the library's action steps (job set-up, copying the working tree, act's
  Pre/Post handling of composite actions);
- by hand: the same Docker, SSH, alembic and HTTP work as a careful shell script would do
  it (docker build/run/push, ssh + docker compose, curl polling every 100 ms) on a second,
  identical environment. The action steps minus this is an upper bound of everything the
  library adds, its checks included (digests, tags, image IDs, history, reports).
Runs twice per repeat: with python3 as this machine has it (a pyenv shim, a bash script
that costs ~0.2 s per call) and with python3 a plain binary first on PATH (as on GitHub's
runner images). The image layers are built once beforehand so both sides hit the same build cache (the
worst case for the overhead's share: uncached builds make Docker's part larger).
Needs root and the local services.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes"
sys.path.insert(0, str(ROOT / "tests"))

from deploy_support import blue_green_down, compose_down  # noqa: E402  (the tests' clean-up, the same here)

STEP = re.compile(r"✅  Success - Main (?P<name>.+?) \[(?P<n>[\d.]+)(?P<unit>µs|ms|s)?\]$")
TIMING = re.compile(r"deploy-actions timing (\{.*\})")
LIBRARY_STEP = re.compile(r"org/deploy-actions|Preflight the release")


def services() -> dict[str, str]:
    path = Path(os.environ.get("DA_STATE", "/var/lib/deploy-actions-dev")) / "env"
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def seconds(number: str, unit: str | None) -> float:
    return float(number) * {"µs": 1e-6, "ms": 1e-3}.get(unit or "s", 1.0)


def library_steps(log: str) -> float:
    total = 0.0
    for line in log.splitlines():
        match = STEP.search(line)
        if match and LIBRARY_STEP.search(match.group("name")):
            total += seconds(match.group("n"), match.group("unit"))
    return total


def own_time(log: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for match in TIMING.finditer(log):
        for kind, value in json.loads(match.group(1)).items():
            totals[kind] = totals.get(kind, 0.0) + value
    return totals


def environment(tmp: Path, label: str, port: int) -> dict:
    suffix = uuid.uuid4().hex[:6]
    env = {
        "name": f"bench-{label}-{suffix}",
        "image": f"{services()['DA_REGISTRY']}/bench-{suffix}/notes",
        "files": tmp / f"env-{label}",
        "port": port,
    }
    subprocess.run(
        [str(NOTES / "local-env"), str(env["files"]), env["name"], env["image"], str(port)],
        check=True,
        capture_output=True,
    )
    return env


def plain_python_path(tmp: Path) -> str:
    """PATH with the interpreter itself as python3 first, no shim in between."""
    real = os.path.realpath(
        subprocess.run(
            ["python3", "-c", "import sys; print(sys.executable)"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    folder = tmp / "plain-python"
    folder.mkdir(exist_ok=True)
    if not (folder / "python3").exists():
        (folder / "python3").symlink_to(real)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def by_library(repo: Path, env: dict, path: str) -> tuple[float, float, dict[str, float]]:
    runs = [
        ("release-images.yml", ["--tag", "v0.1.0"], "ci.vars"),
        ("deploy-stage.yml", ["--dispatch", "image_tag=v0.1.0"], "stage.vars"),
        ("deploy-production.yml", ["--dispatch", "image_tag=v0.1.0"], "production.vars"),
    ]
    wall = steps = 0.0
    own: dict[str, float] = {}
    for workflow, event, variables in runs:
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy_actions",
                "local-run",
                "--repo",
                str(repo),
                "--workflow",
                workflow,
                *event,
                "--vars-file",
                str(env["files"] / variables),
                "--secrets-file",
                str(env["files"] / "secrets"),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": path, "DEPLOY_ACTIONS_TIMING": "1"},
        )
        wall += time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(f"{workflow} failed:\n{proc.stdout[-4000:]}")
        steps += library_steps(proc.stdout)
        for kind, value in own_time(proc.stdout).items():
            own[kind] = own.get(kind, 0.0) + value
    return wall, steps, own


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never became ready")


def smoke(base: str) -> None:
    for path in ("/health", "/version", "/notes"):
        urllib.request.urlopen(base + path, timeout=5).read()


# The example's Dockerfile uses BuildKit syntax; by hand that is Debian's 20.10 CLI with
# DOCKER_BUILDKIT=1 (the engine here has no bridge, so RUN steps get network none).
BUILDKIT_BUILD = ("/usr/bin/docker", "build", "-q", "--network", "none")
BUILDKIT_ENV = {**os.environ, "DOCKER_BUILDKIT": "1"}


def sh(*argv: str, env: dict | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def by_hand(repo: Path, env: dict) -> float:
    """The same work without the library: what a careful shell script would run."""
    info = services()
    image, sha = env["image"], sh("git", "-C", str(repo), "rev-parse", "--short=7", "HEAD").strip()
    server = info["DA_POSTGRES_URL"].rsplit("/", 1)[0]
    ci_db = f"{server}/{env['name'].replace('-', '_')}_ci"
    started = time.monotonic()
    # release: build, migrate the CI database, boot, /ready + smoke, push both tags
    sh(*BUILDKIT_BUILD, "-t", f"{image}:v0.1.0", "--build-arg", "VERSION=v0.1.0", str(repo), env=BUILDKIT_ENV)
    sh(
        "docker",
        "run",
        "--rm",
        "--network",
        "host",
        "-e",
        f"DATABASE_URL={ci_db}",
        f"{image}:v0.1.0",
        "alembic",
        "upgrade",
        "head",
    )
    cid = sh(
        "docker",
        "run",
        "-d",
        "--network",
        "host",
        "-e",
        f"DATABASE_URL={ci_db}",
        "-e",
        "BIND=127.0.0.1:18000",
        f"{image}:v0.1.0",
    ).strip()
    try:
        wait_ready("http://127.0.0.1:18000/ready")
        smoke("http://127.0.0.1:18000")
    finally:
        sh("docker", "rm", "-f", cid)
    sh("docker", "push", "-q", f"{image}:v0.1.0")
    sh("docker", "tag", f"{image}:v0.1.0", f"{image}:sha-{sha}")
    sh("docker", "push", "-q", f"{image}:sha-{sha}")
    # stage, then production: rehearse the migrations, then over SSH pull, migrate, switch
    key, known = info["DA_SSH_KEY"], info["DA_SSH_KNOWN_HOSTS"]
    for addr in info["DA_SSH_HOSTS"].split(",")[:2]:
        scratch = f"bench_{uuid.uuid4().hex[:8]}"
        sh("psql", "-q", info["DA_POSTGRES_URL"], "-c", f"CREATE DATABASE {scratch}")
        sh(
            "docker",
            "run",
            "--rm",
            "--network",
            "host",
            "-e",
            f"DATABASE_URL={server}/{scratch}",
            f"{image}:v0.1.0",
            "alembic",
            "upgrade",
            "head",
        )
        sh("psql", "-q", info["DA_POSTGRES_URL"], "-c", f"DROP DATABASE {scratch}")
        folder = f"{info['DA_SSH_DEPLOY_ROOT']}/{env['name']}"
        # By hand, the service replaced in place on the public port (what recreate does).
        remote = (
            f"cd {folder} && export APP_PORT={env['port']} && sed -i '/^IMAGE_TAG=/d' .env && "
            "echo IMAGE_TAG=v0.1.0 >> .env && "
            "docker compose pull -q && docker compose run --rm --no-deps notes alembic upgrade head && "
            "docker compose up -d"
        )
        sh(
            "ssh",
            "-i",
            key,
            "-p",
            info["DA_SSH_PORT"],
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            f"{info['DA_SSH_USER']}@{addr}",
            remote,
        )
        wait_ready(f"http://{addr}:{env['port']}/ready")
        smoke(f"http://{addr}:{env['port']}")
    return time.monotonic() - started


def down(env: dict) -> None:
    info = services()
    compose_down(info, env["name"], info["DA_SSH_HOSTS"].split(",")[:2])
    blue_green_down(info, env["name"], info["DA_SSH_HOSTS"].split(",")[:2])


def main(repeats: int = 3) -> dict:
    subprocess.run([str(NOTES / "base" / "build")], check=True, capture_output=True)
    results: dict[str, list] = {"shim": [], "plain": []}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        for run in range(2 * repeats):
            variant = "shim" if run % 2 == 0 else "plain"
            path = os.environ["PATH"] if variant == "shim" else plain_python_path(tmp)
            repo = tmp / f"notes-{run}"
            subprocess.run([str(NOTES / "new-repo"), str(repo)], check=True, capture_output=True)
            subprocess.run(["git", "tag", "v0.1.0"], cwd=repo, check=True)
            sh(
                *BUILDKIT_BUILD, "-t", f"bench-warm:{run}", str(repo), env=BUILDKIT_ENV
            )  # the layers, cached for both sides
            hand_env, lib_env = environment(tmp, "hand", 18300 + run), environment(tmp, "lib", 18400 + run)
            try:
                hand = by_hand(repo, hand_env)
                wall, steps, own = by_library(repo, lib_env, path)
            finally:
                down(hand_env)
                down(lib_env)
            library = sum(own.values())
            row = {
                "wall_s": wall,
                "steps_s": steps,
                "act_s": wall - steps,
                "by_hand_s": hand,
                "library_s": library,
                "startup_s": own.get("startup", 0.0),
                "ssh_s": own.get("ssh", 0.0),
                "polling_s": own.get("polling", 0.0),
                "extra_over_hand_s": steps - hand,
            }
            print(
                f"  {variant} python3: wall {wall:.1f}s = act {wall - steps:.1f}s + action steps {steps:.1f}s; "
                f"library's own {library:.2f}s ({100 * library / wall:.0f}%: start-up {row['startup_s']:.2f}s, "
                f"ssh {row['ssh_s']:.2f}s, polling {row['polling_s']:.2f}s); by hand {hand:.1f}s",
                file=sys.stderr,
            )
            results[variant].append(row)
    summary = {}
    for variant, rows in results.items():
        median = {key: round(statistics.median(r[key] for r in rows), 2) for key in rows[0]}
        median["library_pct"] = round(100 * median["library_s"] / median["wall_s"], 1)
        median["extra_over_hand_pct"] = round(100 * median["extra_over_hand_s"] / median["wall_s"], 1)
        summary[variant] = median
    summary["runs"] = repeats
    return summary


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
