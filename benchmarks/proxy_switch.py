"""The blue-green switch under load, each way side by side in one run: Caddy's config reload
(the switch up to 0.9) and the live file Caddy reads per request (the switch now). The proxy
is the real image with the config the deploy writes (proxy_config, read out of compose/deploy.sh);
two upstreams answer "blue" and "green"; clients at about 160 requests a second, half with a
new connection per request, half reusing theirs. Per way: switches during which a request
failed / switches, and p99 latency in the half second after each switch vs steady state.
Needs scripts/services up (the engine and the proxy image). Usage: proxy_switch.py [switches]"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from deploy_support import LoadClient, free_port  # noqa: E402

REMOTE = ROOT / "python" / "deploy_actions" / "compose" / "deploy.sh"
IMAGE = os.environ.get("DA_PROXY_IMAGE", "deploy-actions-local/caddy:2")
ADDR = "127.0.0.1"


UPSTREAM = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = sys.argv[2].encode()  # one write: headers and body apart meet Nagle's delay
        self.wfile.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body))
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((sys.argv[3], int(sys.argv[1])), Handler).serve_forever()
"""


def upstream(name: str) -> tuple[int, subprocess.Popen]:
    """A copy of the app, in its own process (the clients' threads would slow it here)."""
    port = free_port()
    return port, subprocess.Popen([sys.executable, "-c", UPSTREAM, str(port), name, ADDR])


def proxy_config(listen: str) -> str:
    """The config the deploy writes, from compose/deploy.sh itself."""
    script = REMOTE.read_text()
    function = script[script.index("proxy_config() {") : script.index("\n}\n", script.index("proxy_config() {")) + 3]
    env = {"PATH": os.environ["PATH"], "DRAIN": "10", "PROXY_LISTEN": listen}
    return subprocess.run(
        ["sh", "-c", function + "proxy_config"], env=env, capture_output=True, text=True, check=True
    ).stdout


def docker(*args: str, data: str | None = None) -> str:
    return subprocess.run(["docker", *args], input=data, capture_output=True, text=True, check=True).stdout


def run_way(way: str, switches: int, ports: tuple[int, int]) -> dict:
    listen = f"{ADDR}:{free_port()}"
    name = f"bench-proxy-{os.getpid()}"
    config = proxy_config(listen)
    if way == "reload":
        config = config.replace("{file./config/live}", f"{ADDR}:{ports[0]}")
    docker("volume", "create", name)
    try:
        docker(
            "run",
            "--rm",
            "-i",
            "-v",
            f"{name}:/config",
            "--entrypoint",
            "sh",
            IMAGE,
            "-c",
            f"printf '%s' {ADDR}:{ports[0]} >/config/live && cat >/config/caddy.json",
            data=config,
        )
        docker(
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "host",
            "-v",
            f"{name}:/config",
            IMAGE,
            "caddy",
            "run",
            "--config",
            "/config/caddy.json",
        )
        url = f"http://{listen}/"
        deadline = time.monotonic() + 10
        while subprocess.run(["curl", "-fs", url], capture_output=True).returncode and time.monotonic() < deadline:
            time.sleep(0.1)
        fresh, kept = LoadClient(url, rate=80, limit=3600), LoadClient(url, rate=80, limit=3600, keep_alive=True)
        with fresh, kept:
            time.sleep(3)
            steady_until = time.monotonic()
            marks = []
            for i in range(switches):
                target = f"{ADDR}:{ports[(i + 1) % 2]}"
                marks.append(time.monotonic())
                if way == "reload":
                    script = "cat >/config/caddy.json && caddy reload --config /config/caddy.json"
                    data = config.replace(f"{ADDR}:{ports[0]}", target).replace(f"{ADDR}:{ports[1]}", target)
                else:
                    script, data = "cat >/config/live.next && mv -f /config/live.next /config/live", target
                docker("exec", "-i", name, "sh", "-c", script, data=data)
                time.sleep(0.5)
            end = time.monotonic()
        answers = fresh.answers + kept.answers
        latencies = fresh.latencies + kept.latencies
        failed = [a for a in answers if a[1] != 200]
        bad = {max((m for m in marks if m <= f[0]), default=None) for f in failed}
        during = [s for t, s in latencies if any(m <= t < m + 0.5 for m in marks)]
        steady = [s for t, s in latencies if t < steady_until]

        def p99(values: list[float]) -> float:
            return round(statistics.quantiles(values, n=100)[98] * 1000, 2) if len(values) > 2 else 0.0

        return {
            "way": way,
            "switches": switches,
            "switches_with_a_failed_request": len(bad - {None}),
            "failed_requests": len(failed),
            "failures": sorted({str(f[1]) for f in failed}),
            "requests": len(answers),
            "rate_per_s": round(sum(1 for a in answers if a[0] >= steady_until) / (end - steady_until), 1),
            "alternated": len(fresh.bodies()) > switches // 2,
            "p99_steady_ms": p99(steady),
            "p99_switch_ms": p99(during),
        }
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", name], capture_output=True)


def main() -> None:
    switches = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    (blue, blue_proc), (green, green_proc) = upstream("blue"), upstream("green")
    caddy = docker("run", "--rm", "--network", "none", "--entrypoint", "caddy", IMAGE, "version").split()[0]
    results = [run_way(way, switches, (blue, green)) for way in ("reload", "live-file")]
    print(json.dumps({"caddy": caddy, "image": IMAGE, "results": results}, indent=2))
    blue_proc.terminate()
    green_proc.terminate()


if __name__ == "__main__":
    main()
