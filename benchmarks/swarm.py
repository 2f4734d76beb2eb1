"""swarm-deploy on the single-node swarm of scripts/services: time from `docker stack
deploy` to convergence (every task running the new digest) for 1, 4 and 8 replicas, and
the library's own overhead over the same commands by hand (stack deploy, then polling the
service until its update completes and every task runs the new image).

The service is a sleeper (no port, so replicas can share the host network); updates are
stop-first, two tasks at a time, watched for 1 s each."""

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
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
STACK = """services:
  sleeper:
    image: {repo}:${{IMAGE_TAG}}
    networks: [hostnet]
    stop_grace_period: 1s
    deploy:
      replicas: {replicas}
      update_config: {{order: stop-first, parallelism: 2, monitor: 1s}}
      placement: {{constraints: [node.role == manager]}}  # one node: the figures compare one engine's work
networks:
  hostnet: {{external: true, name: host}}
"""


def env_file() -> dict[str, str]:
    values = {}
    for line in Path("/var/lib/deploy-actions-dev/env").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return values


def sh(*argv: str, env: dict | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def images(root: Path) -> str:
    repo = f"{REGISTRY}/bench-swarm-{uuid.uuid4().hex[:6]}/sleeper"
    for tag in ("v1.0.0", "v1.1.0"):
        context = root / tag
        context.mkdir()
        shutil.copy("/bin/busybox", context / "busybox")
        (context / "Dockerfile").write_text(
            'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            f"RUN echo {tag} > /version\n"
            'CMD ["sh", "-c", "trap \'exit 0\' TERM; sleep 3600 & wait"]\n'
        )
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        sh("/usr/bin/docker", "build", "-q", "--network", "none", "-t", f"{repo}:{tag}", str(context), env=env)
        sh("docker", "push", "-q", f"{repo}:{tag}")
    return repo


def by_hand(stack: str, stack_file: Path, tag: str) -> float:
    """What a careful script does: deploy, then poll until the update is complete and every
    task wanted running runs the tag."""
    started = time.perf_counter()
    env = {**os.environ, "IMAGE_TAG": tag}
    sh("docker", "stack", "deploy", "--with-registry-auth", "-c", str(stack_file), stack, env=env)
    service = f"{stack}_sleeper"
    while True:
        update = sh(
            "docker", "service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", service
        )
        wanted = ("--filter", "desired-state=running", "--format", "{{.CurrentState}} {{.Image}}")
        tasks = sh("docker", "service", "ps", service, *wanted)
        lines = [line for line in tasks.splitlines() if line.strip()]
        running = [line for line in lines if line.startswith("Running") and line.endswith(f":{tag}")]
        if update.strip() in ("completed", "") and lines and len(running) == len(lines):
            return time.perf_counter() - started
        time.sleep(0.5)


def library(stack: str, stack_file: Path, tag: str, info: dict) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(PYTHONPATH=str(ROOT / "python"), INPUT_SSH_KEY=Path(info["DA_SSH_KEY"]).read_text())
    argv = [
        sys.executable, "-m", "deploy_actions", "swarm-deploy",
        "--manager", f"{info['DA_SSH_USER']}@{info['DA_SWARM_MANAGER']}:{info['DA_SSH_PORT']}",
        "--known-hosts", Path(info["DA_SSH_KNOWN_HOSTS"]).read_text(),
        "--stack", stack, "--compose-files", str(stack_file), "--image-tag", tag,
    ]  # fmt: skip
    started = time.perf_counter()
    sh(*argv, env=env)
    return time.perf_counter() - started


def main() -> dict:
    info = env_file()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        repo = images(Path(scratch))
        for replicas in (1, 4, 8):
            stack = f"bench-{uuid.uuid4().hex[:6]}"
            stack_file = Path(scratch) / f"{stack}.yml"
            stack_file.write_text(STACK.format(repo=repo, replicas=replicas))
            try:
                by_hand(stack, stack_file, "v1.0.0")  # the first deploy, not timed
                hand, lib = [], []
                for _ in range(RUNS):
                    lib.append(library(stack, stack_file, "v1.1.0", info))
                    hand.append(by_hand(stack, stack_file, "v1.0.0"))
                results[str(replicas)] = {
                    "library_s": round(sorted(lib)[len(lib) // 2], 2),
                    "by_hand_s": round(sorted(hand)[len(hand) // 2], 2),
                }
                results[str(replicas)]["overhead_s"] = round(
                    results[str(replicas)]["library_s"] - results[str(replicas)]["by_hand_s"], 2
                )
            finally:
                subprocess.run(["docker", "stack", "rm", stack], capture_output=True)
                time.sleep(2)
    return {"runs": RUNS, "replicas": results}


if __name__ == "__main__":
    print(json.dumps(main()))
