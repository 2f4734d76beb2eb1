"""Why an address handed from one Caddy to another can lose a request: the root cause, shown
on loopback with the official static Caddy from .venv (no Docker, no deploy).

Each move: Caddy A serves a port; clients open a new connection per request to it (the
case that fails); Caddy B starts on the same port (SO_REUSEPORT: the kernel gives each new
connection to one of them); then A's server goes away. Only failures between that moment
and 0.3 s later count. net.ipv4.tcp_migrate_req is 1 throughout (the hand-over sets it), so
connections still queued on A's closing listener move to B's instead of being reset.

- stop: A gets SIGTERM (what `docker stop` does);
- reload: A's server is moved to another port by its admin API, A itself keeps running
  (what a config reload does to a server);
- stop, IPv4 socket beside: as stop, but B also binds `tcp4/0.0.0.0:PORT` beside its
  dual-stack `:PORT`. The kernel gives a new IPv4 connection to a socket of its own family
  before any dual-stack one, so B gets every new connection the moment it starts, and A
  stops with none arriving. This is what the shared proxy's front does on a wildcard address.

Every failure in the first two is the same: A accepted the connection, read the request and
closed it without an answer (strace shows read(), then close() with no write(); the request
is in no access log). A Caddy server shutting down drops a connection it accepts in that
instant, with or without reverse_proxy, HTTP/1 only or not, with grace_period or
shutdown_delay (which only moves the instant).

Needs root (the sysctl). Usage: caddy_shutdown.py [moves]   (default 100 each)"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CADDY = str(ROOT / ".venv" / "bin" / "caddy")
MIGRATE = Path("/proc/sys/net/ipv4/tcp_migrate_req")
BASE_PORT = 19400


def config(listen: list[str], admin: str | None = None) -> dict:
    return {
        "admin": {"listen": f"unix/{admin}"} if admin else {"disabled": True},
        "logging": {"logs": {"default": {"level": "ERROR"}}},
        "apps": {
            "http": {
                "servers": {
                    "s": {
                        "listen": listen,
                        "automatic_https": {"disable": True},
                        "routes": [{"handle": [{"handler": "static_response", "status_code": 200, "body": "ok"}]}],
                    }
                }
            }
        },
    }


class Clients:
    """Two clients, a new connection per request, aimed at `port` (None: idle)."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.failed: list[tuple[float, str]] = []
        self.answered = 0
        self._stop = False
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        while not self._stop:
            port = self.port
            if port is None:
                time.sleep(0.01)
                continue
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                self.answered += 1
            except (OSError, http.client.HTTPException) as exc:
                self.failed.append((time.monotonic(), type(exc).__name__))
            time.sleep(0.002)

    def __enter__(self) -> Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        for thread in self._threads:
            thread.join()


class Caddy:
    def __init__(self, folder: Path, name: str, listen: list[str], admin: bool = False) -> None:
        self.admin = str(folder / f"{name}.sock") if admin else None
        path = folder / f"{name}.json"
        path.write_text(json.dumps(config(listen, self.admin)))
        env = {**os.environ, "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
        self.proc = subprocess.Popen(
            [CADDY, "run", "--config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )

    def load(self, listen: list[str]) -> None:
        subprocess.run(
            ["curl", "-sSf", "--unix-socket", str(self.admin), "-H", "Content-Type: application/json", "-d",
             json.dumps(config(listen, self.admin)), "http://localhost/load"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def sockets(port: int) -> int:
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def wait_for(port: int, count: int) -> None:
    deadline = time.monotonic() + 10
    while sockets(port) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"Caddy did not bind {count} sockets on port {port}")
        time.sleep(0.005)


def move(folder: Path, clients: Clients, port: int, way: str) -> list[str]:
    """One hand-over of `port` from A to B: what the clients got in the moment A's server went."""
    a = Caddy(folder, f"a{port}", [f":{port}"], admin=way == "reload")
    b = None
    try:
        wait_for(port, 1)
        clients.port = port
        time.sleep(0.3)
        beside = way == "stop, IPv4 socket beside"
        b = Caddy(folder, f"b{port}", [f":{port}", f"tcp4/0.0.0.0:{port}"] if beside else [f":{port}"])
        wait_for(port, 3 if beside else 2)
        time.sleep(0.2)
        start = time.monotonic()
        if way == "reload":
            a.load([f":{port + 5000}"])
        else:
            a.stop()
        time.sleep(0.3)
        end = time.monotonic()
        return [kind for at, kind in clients.failed if start <= at <= end]
    finally:
        clients.port = None
        time.sleep(0.05)
        for caddy in (a, b):
            if caddy and caddy.proc.poll() is None:
                caddy.stop()


def main() -> None:
    moves = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    if not Path(CADDY).exists():
        raise SystemExit(f"no Caddy at {CADDY}: run scripts/dev-env")
    was = MIGRATE.read_text().strip()
    MIGRATE.write_text("1\n")
    result: dict = {
        "moves": moves,
        "caddy": subprocess.run([CADDY, "version"], capture_output=True, text=True).stdout.split()[0],
    }
    try:
        with tempfile.TemporaryDirectory() as scratch, Clients() as clients:
            port = BASE_PORT
            for way in ("stop", "reload", "stop, IPv4 socket beside"):
                runs = []
                for _ in range(moves):
                    runs.append(move(Path(scratch), clients, port, way))
                    port = BASE_PORT + (port + 1 - BASE_PORT) % 2000
                got = [kind for failed in runs for kind in failed]
                result[way] = {
                    "moves_with_a_failed_request": sum(1 for failed in runs if failed),
                    "failed_requests": len(got),
                    "failures": {kind: got.count(kind) for kind in sorted(set(got))},
                }
                print(f"  {way}: {result[way]}", file=sys.stderr)
            result["requests"] = clients.answered + len(clients.failed)
    finally:
        MIGRATE.write_text(was + "\n")
    result["machine"] = machine()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
