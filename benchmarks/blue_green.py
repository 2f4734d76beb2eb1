"""Users during a deploy, `recreate` vs `blue-green`, side by side in one run: a client at
200 requests a second on the public URL while v1.0.0 → v1.1.0 is deployed to one loopback
host; failed requests and p99 latency (steady state vs the deploy), the proxy's switch time,
and rollback time (a switch back after a smoke call fails through the proxy, and a redeploy
of the previous tag, whose copy is kept). Needs sudo scripts/services up."""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, machine, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_support import COMPOSE, COMPOSE_BLUE_GREEN, LoadClient, Target, build_web_images  # noqa: E402

RATE = 200


def deploy(services: dict, target: Target, tag: str, *extra: str) -> tuple[int, str, float]:
    ready = f"http://{{host}}:{target.port}/ready"
    return ssh_compose_deploy(services, target.hosts(target.addrs[0]), target.path, tag, "--ready-url", ready, *extra)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values, default=0.0)


def under_load(services: dict, target: Target, strategy_args: list[str]) -> dict:
    url = f"http://{target.addrs[0]}:{target.port}/version"
    code, out, _ = deploy(services, target, "v1.0.0", *strategy_args)
    assert code == 0, out[-3000:]
    with LoadClient(url, rate=RATE, threads=8) as load:
        time.sleep(3)  # steady state
        began = time.monotonic()
        code, out, seconds = deploy(services, target, "v1.1.0", *strategy_args)
        ended = time.monotonic()
        time.sleep(1)
    assert code == 0, out[-3000:]
    steady = [s for t, s in load.latencies if t < began]
    during = [s for t, s in load.latencies if began <= t <= ended]
    switched = re.findall(r"switched in (\d+)ms", out)
    return {
        "requests": len(load.answers),
        "failed": len(load.failed),
        "rate": round(len(load.answers) / load.seconds(), 1),
        "deploy_s": round(seconds, 2),
        "p99_steady_ms": round(p99(steady) * 1000, 1),
        "p99_deploy_ms": round(p99(during) * 1000, 1),
        "versions": load.bodies(),
        "switch_ms": int(switched[-1]) if switched else None,
    }


def rollbacks(services: dict, target: Target, args: list[str], spec: Path) -> dict:
    """Switch back after a failure through the proxy, and a redeploy of the kept previous tag."""
    url = f"http://{target.addrs[0]}:{target.port}/version"
    code, out, _ = deploy(services, target, "v1.0.0", *args, "--smoke-spec", str(spec))
    assert code == 0, out[-3000:]
    with LoadClient(url, rate=RATE, threads=8) as load:
        code, out, _ = deploy(services, target, "v4.0.0-rc.1", *args, "--smoke-spec", str(spec))
    assert code == 1, out[-3000:]
    back = [int(ms) for ms in re.findall(r"switched in (\d+)ms", out)]
    failed_back = len(load.failed)
    assert deploy(services, target, "v1.1.0", *args)[0] == 0
    with LoadClient(url, rate=RATE, threads=8) as load:
        code, out, seconds = deploy(services, target, "v1.0.0", *args)
    assert code == 0 and "no pull" in out, out[-3000:]
    return {
        "switch_back_ms": back[-1],
        "failed_during_switch_back": failed_back,
        "redeploy_previous_s": round(seconds, 2),
        "failed_during_redeploy": len(load.failed),
    }


def main() -> None:
    services = local_services()
    repo = build_web_images(services, Dirs())
    results = {}
    recreate = Target(services, repo, compose=COMPOSE)
    try:
        results["recreate"] = under_load(services, recreate, ["--strategy", "recreate"])
    finally:
        recreate.down()
    blue_green = Target(services, repo, compose=COMPOSE_BLUE_GREEN)
    spec = Path(tempfile.mkdtemp()) / "smoke.yml"
    spec.write_text("calls:\n  - name: check\n    path: /cgi-bin/check\n    expect: {status: 200}\n")
    try:
        results["blue-green"] = under_load(services, blue_green, blue_green.blue_green_args())
        results["rollback"] = rollbacks(services, blue_green, blue_green.blue_green_args(), spec)
    finally:
        blue_green.down()
    results["machine"] = machine()
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
