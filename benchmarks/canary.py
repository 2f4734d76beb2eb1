"""strategy: canary against users at 160 requests a second (kept connections, HTTP through the
host's shared proxy), side by side in one run:

- a bad canary (v6.0.0-rc.1: one request in twenty answers 500 on /cgi-bin/work) for each
  step size and interval: the time from its first answer to its last (the abort), the
  requests it served and how many of them failed;
- the analysis' cost on the proxy: p50/p99 of a static page with the router's access log
  on (a canary held at 1%) and off (after promote), the same copies, one after the other.

Needs sudo scripts/services up. Usage: canary.py [step%:interval,…] (default 5:10,10:10,25:10,10:20)"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, compose_command, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_support import COMPOSE_SHARED, ONE, LoadClient, SharedProxy, Target, build_web_images  # noqa: E402

WORK = "/cgi-bin/work"


def setup(services: dict, repo: str) -> tuple[Target, SharedProxy, str, list[str]]:
    target = Target(services, repo, addrs=[ONE], compose=COMPOSE_SHARED)
    proxy = SharedProxy(services, Path(tempfile.mkdtemp()))
    name = proxy.name("app")
    args = [*proxy.args(target, name, tls="off"), "--ready-timeout", "8s"]
    code, out, _ = ssh_compose_deploy(services, target.hosts(ONE), target.path, "v1.0.0", *args)
    assert code == 0, out[-3000:]
    return target, proxy, name, args


def bad_canary(services: dict, repo: str, step: int, interval: int) -> dict:
    target, proxy, name, args = setup(services, repo)
    try:
        canary = ["--strategy", "canary", "--canary-steps", f"{step}%", "--canary-interval", f"{interval}s"]
        url = proxy.url(name, WORK, scheme="http")
        with LoadClient(url, rate=160, threads=8, connect_to=ONE, keep_alive=True) as load:
            time.sleep(1)
            code, out, seconds = ssh_compose_deploy(
                services, target.hosts(ONE), target.path, "v6.0.0-rc.1", *args, *canary
            )
            time.sleep(1)
        assert code == 1 and "step FAILED" in out, out[-3000:]
        served = sorted(a for a in load.answers if "v6.0.0-rc.1" in a[2])
        return {
            "step_percent": step,
            "interval_s": interval,
            "first_to_abort_s": round(served[-1][0] - served[0][0], 2) if served else None,
            "requests_served": len(served),
            "of_which_failed": sum(1 for a in served if a[1] != 200),
            "deploy_s": round(seconds, 1),
            "users_failed_elsewhere": sum(1 for a in load.answers if a[1] != 200 and "v6" not in a[2]),
        }
    finally:
        target.down()
        proxy.down(target)


def percentiles(load: LoadClient) -> dict:
    ms = sorted(1000 * seconds for _, seconds in load.latencies)
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[int(0.99 * len(ms)) - 1], 2),
        "failed": len(load.failed),
    }


def analysis_cost(services: dict, repo: str, seconds: float = 20) -> dict:
    target, proxy, name, args = setup(services, repo)
    try:
        url = proxy.url(name, "/version", scheme="http")
        canary = ["--strategy", "canary", "--canary-steps", "1%", "--canary-interval", "10s", "--hold"]
        canary += ["--canary-min-requests", "1"]
        with LoadClient(url, rate=160, threads=8, connect_to=ONE, keep_alive=True):  # the step needs traffic
            code, out, _ = ssh_compose_deploy(services, target.hosts(ONE), target.path, "v1.1.0", *args, *canary)
        assert code == 0 and "is held" in out, out[-3000:]
        with LoadClient(url, rate=160, threads=8, connect_to=ONE, keep_alive=True) as logged:
            time.sleep(seconds)
        reach = [a for a in args if a not in ("--strategy", "blue-green")]
        code, out, _ = compose_command(services, "promote", target.hosts(ONE), target.path, *reach)
        assert code == 0, out[-3000:]
        with LoadClient(url, rate=160, threads=8, connect_to=ONE, keep_alive=True) as plain:
            time.sleep(seconds)
        return {"access_log_on": percentiles(logged), "access_log_off": percentiles(plain)}
    finally:
        target.down()
        proxy.down(target)


def main() -> None:
    runs = sys.argv[1] if len(sys.argv) > 1 else "5:10,10:10,25:10,10:20"
    services = local_services()
    repo = build_web_images(services, Dirs())
    result: dict = {"rate_per_s": 160, "bad_canary": []}
    for item in runs.split(","):
        step, interval = (int(x) for x in item.split(":"))
        result["bad_canary"].append(bad_canary(services, repo, step, interval))
    result["analysis_cost"] = analysis_cost(services, repo)
    result["machine"] = f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
