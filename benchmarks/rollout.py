"""Deploy to 1, 2, 4 and 8 loopback hosts with a parallel rollout (wall time per host
count), and the overhead ssh-compose-deploy adds over the same ssh + docker compose
commands typed by hand. Needs DA_SSH_HOST_COUNT=8 sudo -E scripts/services up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_support import Target, build_web_images  # noqa: E402


def cpu_busy() -> float:
    """Machine-wide busy CPU seconds so far (all processes: ssh, sshd, Compose, dockerd)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def deploy(services: dict, target: Target, tag: str, parallel: int) -> float:
    ready = f"http://{{host}}:{target.port}/ready"
    args = ["--max-parallel", str(parallel), "--strategy", "recreate", "--ready-url", ready]
    code, out, seconds = ssh_compose_deploy(services, target.hosts(), target.path, tag, *args)
    if code != 0:
        raise SystemExit(out[-3000:])
    return seconds


def by_hand(services: dict, target: Target, tag: str) -> float:
    """What a person would run: ssh in, set the tag, pull, up -d, then poll /ready."""
    addr = target.addrs[0]
    ssh = [
        "ssh",
        "-p",
        services["DA_SSH_PORT"],
        "-i",
        services["DA_SSH_KEY"],
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={services['DA_SSH_KNOWN_HOSTS']}",
        f"{services['DA_SSH_USER']}@{addr}",
    ]
    started = time.perf_counter()
    subprocess.run(
        ssh
        + [
            f"cd {target.path} && sed -i 's/^IMAGE_TAG=.*/IMAGE_TAG={tag}/' .env && "
            "docker compose pull -q && docker compose up -d"
        ],
        check=True,
        capture_output=True,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://{addr}:{target.port}/ready", timeout=2):
                break
        except OSError:
            time.sleep(0.1)
    return time.perf_counter() - started


def main() -> dict:
    services = local_services()
    addrs = services["DA_SSH_HOSTS"].split(",")
    if len(addrs) < 8:
        raise SystemExit("needs 8 deploy hosts: DA_SSH_HOST_COUNT=8 scripts/services up")
    repo = build_web_images(services, Dirs())
    result: dict = {"hosts": {}, "cpu_s": {}, "cores": os.cpu_count()}
    for count in (1, 2, 4, 8):
        target = Target(services, repo, addrs[:count])
        try:
            deploy(services, target, "v1.0.0", count)  # first deploy: containers exist afterwards
            busy = cpu_busy()
            result["hosts"][count] = round(deploy(services, target, "v1.1.0", count), 2)
            result["cpu_s"][count] = round(cpu_busy() - busy, 2)
        finally:
            target.down()
        print(f"  {count} hosts: {result['hosts'][count]} s, {result['cpu_s'][count]} CPU-s", file=sys.stderr)
    target = Target(services, repo, addrs[:1])
    try:
        deploy(services, target, "v1.0.0", 1)
        action = [deploy(services, target, tag, 1) for tag in ("v1.1.0", "v1.0.0", "v1.1.0")]
        manual = [by_hand(services, target, tag) for tag in ("v1.0.0", "v1.1.0", "v1.0.0")]
    finally:
        target.down()
    result["action_s"] = round(sorted(action)[1], 2)
    result["by_hand_s"] = round(sorted(manual)[1], 2)
    result["overhead_s"] = round(result["action_s"] - result["by_hand_s"], 2)
    result["ratio_8_to_1"] = round(result["hosts"][8] / result["hosts"][1], 2)
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
