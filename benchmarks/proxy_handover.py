"""Moving an app from its own proxy onto the host's shared proxy (its first deploy with
`hostname`), with clients on the app's address at 160 requests a second (half opening a
connection per request, half keeping theirs and retrying a request on a kept connection the
server closed, as browsers do). Side by side in one run, N moves each:

- handover: the shared proxy listens on the own proxy's address (SO_REUSEPORT), which then
  stops (what the deploy does when the addresses are equal), here a specific one
  (`{host}:PORT`);
- handover, wildcard: the same on `:PORT` (proxy-listen's default form), where the front also
  binds an IPv4 socket that takes every new IPv4 connection before the own proxy stops
  (benchmarks/caddy_shutdown.py shows why that matters);
- beside: the shared proxy on other ports, the own proxy keeps serving its address;
- stop first: the own proxy removed by hand, then the deploy (the earlier advice).

Reports moves with a failed request, failed requests and what they got for each.
Needs sudo scripts/services up. Usage: proxy_handover.py [moves] [way;…] (default 20, all four)"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Dirs, machine, ssh_compose_deploy  # noqa: E402
from support import services as local_services

from deploy_support import COMPOSE_SHARED, ONE, LoadClient, SharedProxy, Target, build_web_images  # noqa: E402


def deploy(services: dict, target: Target, tag: str, args: list[str]) -> str:
    code, out, _ = ssh_compose_deploy(services, target.hosts(ONE), target.path, tag, "--ready-timeout", "8s", *args)
    assert code == 0, out[-3000:]
    return out


def own_proxy(target: Target, port: int, listen: str) -> list[str]:
    args = target.blue_green_args()
    args[args.index("--proxy-listen") + 1] = listen
    return [*args, "--ready-url", f"http://{{host}}:{port}/ready"]


def move(services: dict, repo: str, method: str) -> tuple[list[str], int]:
    """One app moved while users are on its address: (each failed request's client — a new
    connection per request, or kept — and what it got; requests)."""
    target = Target(services, repo, addrs=[ONE], compose=COMPOSE_SHARED)
    proxy = SharedProxy(services, Path(tempfile.mkdtemp()))
    name = proxy.name("app")
    port = proxy.http if method != "beside" else target.port
    listen = f":{port}" if method == "handover, wildcard" else f"{{host}}:{port}"
    shared = proxy.args(target, name, tls="off")
    if method != "beside":
        shared[shared.index("--proxy-listen") + 1] = listen
    try:
        deploy(services, target, "v1.0.0", own_proxy(target, port, listen))
        url = f"http://{name}:{port}/version"
        with (
            LoadClient(url, rate=80, connect_to=ONE) as fresh,
            LoadClient(url, rate=80, connect_to=ONE, keep_alive=True, retry_reused=True) as kept,
        ):
            time.sleep(1)
            if method == "stop first":
                target.docker(ONE, "rm", "-f", f"{target.name}-proxy", check=True)
            out = deploy(services, target, "v1.1.0", shared)
            time.sleep(1)
        assert ("handed" in out) == method.startswith("handover"), out[-2000:]
        failed = [f"{who}: {a[1]}" for who, c in (("new", fresh), ("kept", kept)) for a in c.answers if a[1] != 200]
        return failed, len(fresh.answers) + len(kept.answers)
    finally:
        target.down()
        proxy.down(target)


def main() -> None:
    moves = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    services = local_services()
    repo = build_web_images(services, Dirs())
    result: dict = {"moves": moves, "rate_per_s": 160}
    ways = sys.argv[2].split(";") if len(sys.argv) > 2 else ["handover", "handover, wildcard", "beside", "stop first"]
    for method in ways:
        runs = [move(services, repo, method) for _ in range(moves)]
        got = [what for failed, _ in runs for what in failed]
        result[method] = {
            "moves_with_a_failed_request": sum(1 for failed, _ in runs if failed),
            "failed_requests": len(got),
            "requests": sum(total for _, total in runs),
            "failures": {what: got.count(what) for what in sorted(set(got))},
        }
    result["machine"] = machine()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
