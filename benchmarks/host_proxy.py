"""The shared host proxy (ssh-compose-deploy with `hostname`) on one loopback host with its own
engine, over HTTPS from Caddy's internal CA. In one run:

- deploy time of one app when it is alone on the host, and when 4 more share the proxy;
- adding 4 apps (each a new router) while clients use the first: failed requests;
- N deploys of the first app (each a switch) while clients use it and a second app, half of
  them opening a connection per request, half keeping theirs: switches with a failed
  request, p99 latency during the deploys against steady state, and whether the second
  app's answers ever changed;
- the TLS handshake: a request on a new HTTPS connection against one on a kept connection.

Needs sudo scripts/services up. Usage: host_proxy.py [deploys] (default 40)"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, machine, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_support import (  # noqa: E402
    COMPOSE_SHARED,
    ONE,
    LoadClient,
    SharedProxy,
    Target,
    build_web_images,
    named_connection,
    named_headers,
)


def deploy(services: dict, target: Target, proxy: SharedProxy, name: str, tag: str) -> float:
    code, out, seconds = ssh_compose_deploy(services, target.hosts(ONE), target.path, tag, *proxy.args(target, name))
    assert code == 0, out[-3000:]
    return seconds


def p99_ms(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=100)[98] * 1000, 1) if len(values) >= 100 else 0.0


def handshake(proxy: SharedProxy, name: str, cafile: str, rounds: int = 200) -> dict:
    """Median time of a request on a new HTTPS connection (TCP + TLS handshake + request)
    against a request on a connection kept open."""
    url = proxy.url(name)
    fresh, kept = [], []
    conn = named_connection(url, ONE, cafile)
    for _ in range(rounds):
        started = time.perf_counter()
        one = named_connection(url, ONE, cafile)
        one.request("GET", "/version", headers=named_headers(url))
        one.getresponse().read()
        one.close()
        fresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        conn.request("GET", "/version", headers=named_headers(url))
        conn.getresponse().read()
        kept.append(time.perf_counter() - started)
    conn.close()
    return {
        "new_connection_ms": round(statistics.median(fresh) * 1000, 2),
        "kept_connection_ms": round(statistics.median(kept) * 1000, 2),
    }


def main() -> None:
    deploys = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    services = local_services()
    repo = build_web_images(services, Dirs())
    proxy = SharedProxy(services, Path(tempfile.mkdtemp()))
    apps = [Target(services, repo, addrs=[ONE], compose=COMPOSE_SHARED) for _ in range(5)]
    names = [proxy.name(f"app{i}") for i in range(5)]
    result: dict = {}
    try:
        deploy(services, apps[0], proxy, names[0], "v1.0.0")
        result["deploy_s_1_app"] = round(deploy(services, apps[0], proxy, names[0], "v1.1.0"), 2)
        cafile = proxy.trust(apps[0])
        url = proxy.url(names[0])
        with LoadClient(url, rate=80, connect_to=ONE, cafile=cafile, keep_alive=True, limit=3600) as load:
            added = [deploy(services, t, proxy, n, "v1.0.0") for t, n in zip(apps[1:], names[1:], strict=True)]
        result["adding_4_apps"] = {
            "requests": len(load.answers),
            "failed": len(load.failed),
            "deploy_s": [round(s, 1) for s in added],
        }
        result["deploy_s_5_apps"] = round(deploy(services, apps[0], proxy, names[0], "v1.0.0"), 2)

        other = proxy.url(names[1])
        kw = {"connect_to": ONE, "cafile": cafile, "limit": 3600}
        with (
            LoadClient(url, rate=80, **kw) as fresh,
            LoadClient(url, rate=80, keep_alive=True, **kw) as kept,
            LoadClient(other, rate=40, **kw) as bystander,
        ):
            time.sleep(3)
            began = time.monotonic()
            marks = []
            for i in range(deploys):
                marks.append(time.monotonic())
                deploy(services, apps[0], proxy, names[0], "v1.1.0" if i % 2 == 0 else "v1.0.0")
            marks.append(time.monotonic())
            time.sleep(1)
        answers = fresh.answers + kept.answers
        failed = [a for a in answers if a[1] != 200]
        bad = {max(i for i, m in enumerate(marks) if m <= f[0]) for f in failed if f[0] >= marks[0]}
        latencies = fresh.latencies + kept.latencies
        result["switches"] = {
            "deploys": deploys,
            "with_a_failed_request": len(bad),
            "failed_requests": len(failed),
            "requests": len(answers) + len(bystander.answers),
            "rate_per_s": round((len(answers) + len(bystander.answers)) / fresh.seconds(), 1),
            "p99_steady_ms": p99_ms([s for t, s in latencies if t < began]),
            "p99_deploys_ms": p99_ms([s for t, s in latencies if t >= began]),
            "versions_seen": len(kept.bodies()),
            "other_app_failed": len(bystander.failed),
            "other_app_versions": sorted(set(bystander.bodies())),
        }
        result["tls"] = handshake(proxy, names[0], cafile)
        result["machine"] = machine()
    finally:
        for target in apps:
            target.down()
        proxy.down(apps[0])
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
