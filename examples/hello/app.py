"""A tiny service that keeps the health contract: /health answers as soon as the
process is up, /ready only once it could serve traffic (here: after a start-up delay,
standing in for "database reachable, migrations applied"). Stdlib only.

    python examples/hello/app.py --port 8000 --ready-after 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class App(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, port: int = 0, *, ready_after: float | None = 0.0, broken_items: bool = False, host: str = "127.0.0.1"
    ):
        super().__init__((host, port), Handler)
        self.started = time.monotonic()
        self.ready_at = None if ready_after is None else self.started + ready_after
        self.broken_items = broken_items
        self.items = [{"id": 1, "name": "first"}]
        self.requests: list[tuple[float, str, str]] = []  # (monotonic time, method, path)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def set_ready(self, ready: bool = True) -> None:
        self.ready_at = time.monotonic() if ready else None

    def is_ready(self) -> bool:
        return self.ready_at is not None and time.monotonic() >= self.ready_at

    def start(self) -> App:
        threading.Thread(target=self.serve_forever, name="hello-app", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: App
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet in tests and demos
        pass

    def _send(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        app = self.server
        app.requests.append((time.monotonic(), self.command, self.path))
        path = self.path.split("?")[0]
        if path == "/health":
            return self._send(200, {"status": "ok"})
        if path == "/ready":
            if app.is_ready():
                return self._send(200, {"status": "ready"})
            return self._send(503, {"status": "starting", "reason": "database not migrated yet"})
        if path == "/moved-ready":  # a redirect to the readiness endpoint
            self.send_response(302)
            self.send_header("Location", "/ready")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == "/api/items":
            if app.broken_items:
                return self._send(500, {"error": "items table missing"})
            if self.command == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                item = json.loads(self.rfile.read(length) or b"{}")
                item["id"] = len(app.items) + 1
                app.items.append(item)
                return self._send(201, item)
            return self._send(200, {"items": app.items, "count": len(app.items)})
        if path == "/api/whoami":
            token = self.headers.get("Authorization", "")
            if token != "Bearer s3cret-token-value":
                return self._send(401, {"error": "unauthorised"})
            return self._send(200, {"user": "smoke"})
        return self._send(404, {"error": "not found", "path": path})

    do_GET = do_POST = do_HEAD = _route


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ready-after", type=float, default=2.0, help="seconds until /ready answers 200")
    parser.add_argument("--never-ready", action="store_true")
    args = parser.parse_args()
    app = App(args.port, host=args.host, ready_after=None if args.never_ready else args.ready_after)
    print(f"hello service on {app.url} (ready after {args.ready_after}s)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        app.serve_forever()


if __name__ == "__main__":
    main()
