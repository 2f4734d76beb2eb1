"""The example service: a tiny notes API whose /ready tells the truth.

/health answers as soon as the process serves HTTP; /ready only when the database is
reachable *and* at the migration head this release was built with — what the deploy
actions wait for before sending traffic. Standard library plus pg8000 (pure Python), so
the image stays small and needs no compiler.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
VERSION = os.environ.get("APP_VERSION", "dev")
URL_VARIABLE = "DATABASE_URL"


def migration_head(folder: Path = HERE.parent / "migrations" / "versions") -> str:
    """The newest revision shipped in this image (a linear history: preflight enforces one head)."""
    revisions, parents = set(), set()
    for path in folder.glob("*.py"):
        text = path.read_text()
        scope: dict = {}
        for line in text.splitlines():
            if line.startswith(("revision =", "down_revision =")):
                exec(line, {}, scope)  # noqa: S102 — our own files, plain string assignments
        revisions.add(scope.get("revision"))
        parents.add(scope.get("down_revision"))
    heads = revisions - parents - {None}
    if len(heads) != 1:
        raise SystemExit(f"notes: expected one migration head, found {sorted(heads)}")
    return heads.pop()


def connect(url: str):
    import pg8000.native

    parts = urlsplit(url)
    return pg8000.native.Connection(
        user=unquote(parts.username or ""),
        password=unquote(parts.password or "") or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=parts.path.lstrip("/"),
        timeout=3,
    )


def readiness(url: str | None, head: str) -> tuple[bool, str]:
    if not url:
        return False, f"{URL_VARIABLE} is not set"
    try:
        conn = connect(url)
    except Exception as exc:  # noqa: BLE001 — any failure means not ready; say which
        return False, f"database unreachable: {type(exc).__name__}: {exc}"
    try:
        rows = conn.run("SELECT version_num FROM alembic_version")
    except Exception:  # noqa: BLE001
        return False, f"migrations not applied: no alembic_version table (this release needs {head})"
    finally:
        conn.close()
    current = rows[0][0] if rows else None
    if current != head:
        return False, f"migrations not applied: database at {current}, this release needs {head}"
    return True, head


class Handler(BaseHTTPRequestHandler):
    server_version = "notes"
    head = ""

    def send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        url = os.environ.get(URL_VARIABLE)
        if self.path == "/health":
            self.send(200, {"status": "up", "version": VERSION})
        elif self.path == "/version":
            self.send(200, {"version": VERSION})
        elif self.path == "/ready":
            ok, detail = readiness(url, self.head)
            self.send(200 if ok else 503, {"ready": ok, ("revision" if ok else "reason"): detail})
        elif self.path == "/notes":
            conn = connect(url)
            try:
                rows = conn.run("SELECT id, text FROM notes ORDER BY id")
            finally:
                conn.close()
            self.send(200, [{"id": i, "text": t} for i, t in rows])
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/notes":
            return self.send(404, {"error": "not found"})
        try:
            text = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["text"]
        except (ValueError, KeyError, TypeError):
            return self.send(400, {"error": 'expected {"text": "..."}'})
        conn = connect(os.environ.get(URL_VARIABLE))
        try:
            [[note_id]] = conn.run("INSERT INTO notes (text) VALUES (:text) RETURNING id", text=str(text))
        finally:
            conn.close()
        self.send(201, {"id": note_id, "text": text})

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")


def main() -> None:
    host, _, port = os.environ.get("BIND", "127.0.0.1:18000").rpartition(":")
    Handler.head = migration_head()
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    # Compose stops with SIGTERM: shut down at once instead of waiting to be killed.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"notes {VERSION} serving on {host}:{port} (migrations head {Handler.head})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
