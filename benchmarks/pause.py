"""deploy-actions pause against users at 160 requests a second (8 of them on kept HTTP
connections, each waiting on one request while a pause lasts: the test app's busybox httpd
listens with a backlog of 9, and more requests released at once measure that), side by side
in one run:

- release: for pauses of 2 s and 5 s that end by themselves, how late after the deadline the
  waiting requests were answered (p50, max), how many waited, and how many failed; the
  deadline is the host's own (`until` in the command's --json), the hosts' clock this one's;
- the route's cost: every request checks the app's pause deadline (a CEL match reading a
  file) before it goes to the live copy. p50/p99 of a static page through a Caddy with that
  route and through one with the plain route (the route before pauses existed), the same
  backend, alternating in rounds of 5 s.

Needs sudo scripts/services up. Usage: pause.py"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from canary import percentiles, setup  # noqa: E402
from support import Dirs, compose_command, machine  # noqa: E402
from support import services as local_services

from deploy_actions.compose import host_proxy  # noqa: E402
from deploy_support import ONE, LoadClient, build_web_images  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def release(services: dict, repo: str, lengths: tuple[int, ...] = (2, 5)) -> list[dict]:
    target, proxy, name, args = setup(services, repo)
    reach = [a for a in args if a not in ("--strategy", "blue-green")]
    to_monotonic = time.time() - time.monotonic()
    rows = []
    try:
        url = proxy.url(name, "/version", scheme="http")
        for seconds in lengths:
            with LoadClient(url, rate=160, threads=8, connect_to=ONE, keep_alive=True, timeout=30) as load:
                time.sleep(1)
                code, out, _ = compose_command(
                    services, "pause", target.hosts(ONE), target.path, "--json", *reach,
                    "--state", "on", "--pause-timeout", f"{seconds}s",
                )  # fmt: skip
                assert code == 0, out[-3000:]
                document, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
                end = int(document["hosts"][0]["until"]) / 1000 - to_monotonic
                time.sleep(max(0.0, end + 2 - time.monotonic()))
            start = end - seconds
            waited = sorted(
                (began + took - end) * 1000
                for began, took in load.latencies
                if start <= began < end and began + took >= end
            )
            rows.append(
                {
                    "pause_s": seconds,
                    "requests_waited": len(waited),
                    "answered_after_deadline_p50_ms": round(statistics.median(waited), 1) if waited else None,
                    "answered_after_deadline_max_ms": round(waited[-1], 1) if waited else None,
                    "answered_during_pause": sum(
                        1 for b, t in load.latencies if start + 0.4 <= b < end and b + t < end
                    ),
                    "failed": len(load.failed),
                }
            )
    finally:
        target.down()
        proxy.down(target)
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def route_cost(rounds: int = 6, seconds: float = 5) -> dict:
    """Two Caddies, the same backend (busybox httpd): the pause-ready route and the plain one."""
    caddy = ROOT / ".venv" / "bin" / "caddy"
    work = Path(tempfile.mkdtemp(prefix="pause-bench-"))
    www = work / "www"
    www.mkdir()
    (www / "index.html").write_text("ok\n")
    backend_port = _free_port()
    procs = [subprocess.Popen(["busybox", "httpd", "-f", "-p", f"127.0.0.1:{backend_port}", "-h", str(www)])]
    app = work / "apps" / "app"
    app.mkdir(parents=True)
    (app / "live").write_text(f"127.0.0.1:{backend_port}")
    (app / "gate").write_text(f"127.0.0.1:{backend_port}")
    (app / "until").write_text("0")
    names = host_proxy.parse_names("app.example.test")
    ready = host_proxy.route_lines(host_proxy.HostProxy(names, "off", "", "", ":443"))
    route = json.loads(ready.split("\t", 1)[1].replace("/config/apps/%APP%", str(app)))
    plain = {**route, "handle": route["handle"][0]["routes"][-1]["handle"]}
    ports = {}
    try:
        for label, variant in (("pause_ready", route), ("plain", plain)):
            ports[label] = _free_port()
            server = {
                "listen": [f"127.0.0.1:{ports[label]}"],
                "automatic_https": {"disable": True},
                "routes": [variant],
            }
            config = {"admin": {"disabled": True}, "apps": {"http": {"servers": {"s": server}}}}
            path = work / f"{label}.json"
            path.write_text(json.dumps(config))
            procs.append(
                subprocess.Popen(
                    [str(caddy), "run", "--config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        time.sleep(1.5)
        loads: dict[str, list] = {label: [] for label in ports}
        for _ in range(rounds):
            for label, port in ports.items():
                url = f"http://app.example.test:{port}/"
                with LoadClient(url, rate=400, threads=8, connect_to="127.0.0.1", keep_alive=True) as load:
                    time.sleep(seconds)
                loads[label].append(load)
        result = {}
        for label, runs in loads.items():
            merged = LoadClient("http://x/")
            for run in runs:
                merged.spans += run.spans
                merged.answers += run.answers
            result[label] = percentiles(merged)
        return result
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()


def main() -> None:
    services = local_services()
    repo = build_web_images(services, Dirs())
    result = {
        "rate_per_s": 160,
        "release": release(services, repo),
        "route_cost_at_400_per_s": route_cost(),
        "machine": machine(),
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
