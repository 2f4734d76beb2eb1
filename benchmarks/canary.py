"""strategy: canary against users at 160 requests a second (kept connections, HTTP through the
host's shared proxy), side by side in one run:

- a bad canary (v6.0.0-rc.1: one request in twenty answers 500 on /cgi-bin/work) for each
  step size and interval: the time from its first answer to its last (the abort), the
  requests it served and how many of them failed;
- the analysis' cost on the proxy: p50/p99 of a static page with the router's access log
  on (a canary held at 1%) and off (after promote), the same copies, one after the other;
- `verdicts N`, on its own: N healthy canaries (v1.1.0), N healthy ones with one heavy user
  stuck to the new copy by its cookie (20 requests back to back, a new TLS connection each,
  as the step starts), and N three times slower ones (v7.0.0-rc.1: 60 ms of work instead of
  20), taking turns, each through the steps asked (one of 10% by default) of 10 s under HTTPS
  users, and how often each latency rule fails a step: the new copy's p95 over the limit
  (the earlier rule), or the lower bound of its 99% confidence interval (the rule now). The
  host reports both, so each step is judged both ways on the same requests.

Needs sudo scripts/services up. Usage: canary.py [step%:interval,…] (default 5:10,10:10,25:10,10:20)
or canary.py verdicts N [steps] (default one step, 10%)"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, compose_command, machine, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_actions.compose.canary import latency_limit  # noqa: E402
from deploy_support import (  # noqa: E402
    COMPOSE_SHARED,
    ONE,
    LoadClient,
    SharedProxy,
    Target,
    build_web_images,
    visit,
)

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


def heavy_user(url: str, cafile: str, tag: str, stop: threading.Event) -> None:
    """Once the new copy serves: a visitor it got, then 20 more of its requests back to back."""
    while not stop.wait(0.05):
        _, body, cookie = visit(url, ONE, cafile)
        if body == f"work {tag}":
            for _ in range(20):
                visit(url, ONE, cafile, cookie)
            return


def latency_verdicts(services: dict, repo: str, rounds: int, steps: str) -> dict:
    target = Target(services, repo, addrs=[ONE], compose=COMPOSE_SHARED)
    proxy = SharedProxy(services, Path(tempfile.mkdtemp()))
    name = proxy.name("app")
    args = proxy.args(target, name)
    hosts = target.hosts(ONE)
    code, out, _ = ssh_compose_deploy(services, hosts, target.path, "v1.0.0", *args)
    assert code == 0, out[-3000:]
    reach = [a for a in args if a not in ("--strategy", "blue-green")]
    canary = ["--strategy", "canary", "--canary-steps", steps, "--canary-interval", "10s", "--hold"]
    kinds: dict = {"healthy v1.1.0": [], "healthy, a heavy user on it v1.1.0": [], "3x slower v7.0.0-rc.1": []}
    url, cafile = proxy.url(name, WORK), proxy.trust(target)
    try:
        with LoadClient(url, rate=160, threads=16, connect_to=ONE, cafile=cafile, keep_alive=True, limit=200 * rounds):
            for _ in range(rounds):
                for kind, releases in kinds.items():
                    tag = kind.split()[-1]
                    run = ("ssh-compose-deploy", hosts, target.path, "--image-tag", tag, *reach, *canary)
                    stop = threading.Event()
                    heavy = (
                        threading.Thread(target=heavy_user, args=(url, cafile, tag, stop)) if "heavy" in kind else None
                    )
                    if heavy:
                        heavy.start()
                    code, doc, _ = compose_command(services, *run, json_doc=True)
                    stop.set()
                    if heavy:
                        heavy.join()
                    document = json.loads(doc)
                    if code == 0:  # held at its last step: back to the live copy alone
                        done, out, _ = compose_command(services, "abort", hosts, target.path, *reach)
                        assert done == 0, out[-3000:]
                    releases.append({"failure": document["failure"] or "", "steps": []})
                    for step in document["canary_steps"]:
                        seen = next(iter(step["hosts"].values()))
                        live, new = seen["live"], seen["new"]
                        limit = latency_limit(live["p95_ms"], 2)  # canary-max-latency-ratio's default
                        releases[-1]["steps"].append(
                            {
                                "weight": step["weight"],
                                "requests": new["requests"],
                                "p95_ms": new["p95_ms"],
                                "p95_low_ms": new["p95_low_ms"],
                                "live_p95_ms": live["p95_ms"],
                                "failed_by_p95": new["p95_ms"] > limit,
                                "failed_by_bound": new["p95_low_ms"] > limit,
                            }
                        )
    finally:
        target.down()
        proxy.down(target)
    return {
        kind: {
            "releases": len(releases),
            "steps_judged": sum(len(r["steps"]) for r in releases),
            # a release a rule stops at any step it reached (the earlier rule stops at its first fail)
            "stopped_by_p95": sum(any(s["failed_by_p95"] for s in r["steps"]) for r in releases),
            "stopped_by_bound": sum(any(s["failed_by_bound"] for s in r["steps"]) for r in releases),
            "deploys_failed": sum(bool(r["failure"]) for r in releases),
            "releases_seen": releases,
        }
        for kind, releases in kinds.items()
    }


def main() -> None:
    runs = sys.argv[1] if len(sys.argv) > 1 else "5:10,10:10,25:10,10:20"
    services = local_services()
    repo = build_web_images(services, Dirs())
    if runs == "verdicts":
        steps = sys.argv[3] if len(sys.argv) > 3 else "10%"
        result = {
            "rate_per_s": 160,
            "steps": steps,
            "verdicts": latency_verdicts(services, repo, int(sys.argv[2]), steps),
        }
        result["machine"] = machine()
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    result: dict = {"rate_per_s": 160, "bad_canary": []}
    for item in runs.split(","):
        step, interval = (int(x) for x in item.split(":"))
        result["bad_canary"].append(bad_canary(services, repo, step, interval))
    result["analysis_cost"] = analysis_cost(services, repo)
    result["machine"] = machine()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
