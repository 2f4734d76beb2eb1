"""smoke-ready's HTTP side under hostile servers, on loopback: secret headers stay with their
origin across redirects, and a body trickling in cannot outlast the timeout."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy_actions.cli import main
from deploy_actions.smoke.http import TIMEOUT, Client


class _Server:
    def __init__(self, host: str, handler):
        self.seen: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                outer.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                handler(self)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(handler, host="127.0.0.1"):
        servers.append(_Server(host, handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _ok(request):
    request.send_response(200)
    request.send_header("Content-Length", "2")
    request.end_headers()
    request.wfile.write(b"ok")


def _redirect_to(target):
    def handler(request):
        request.send_response(302)
        request.send_header("Location", target + "/ready")
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def test_secret_headers_do_not_follow_a_redirect_to_another_origin(serve):
    other = serve(_ok, host="127.0.0.2")
    first = serve(_redirect_to(other.url))
    client = Client(headers={"Authorization": "Bearer tok-123", "X-Api-Key": "key-456"})
    answer = client.request("GET", first.url + "/ready", timeout=5)
    assert answer.status == 200
    assert first.seen[0]["authorization"] == "Bearer tok-123" and first.seen[0]["x-api-key"] == "key-456"
    assert "authorization" not in other.seen[0] and "x-api-key" not in other.seen[0]


def test_secret_headers_follow_a_redirect_within_the_origin(serve):
    holder = {}
    server = serve(lambda r: _ok(r) if r.path == "/ready" else _redirect_to(holder["url"])(r))
    holder["url"] = server.url
    client = Client(headers={"Authorization": "Bearer tok-123"})
    answer = client.request("GET", server.url + "/old", timeout=5)
    assert answer.status == 200
    assert [s["authorization"] for s in server.seen] == ["Bearer tok-123", "Bearer tok-123"]


def _trickle(request):
    request.send_response(200)
    request.send_header("Content-Length", "1000")
    request.end_headers()
    try:
        for _ in range(1000):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.2)  # each byte well within any socket timeout
    except OSError:
        pass


def test_a_trickling_body_cannot_outlast_the_timeout(serve):
    server = serve(_trickle)
    started = time.monotonic()
    answer = Client().request("GET", server.url + "/ready", timeout=1.5)
    assert time.monotonic() - started < 3
    assert answer.failure == TIMEOUT and "still arriving" in answer.error


def test_smoke_ready_overall_timeout_holds_against_a_trickle(serve, gha_env, capsys):
    server = serve(_trickle)
    started = time.monotonic()
    code = main(["smoke-ready", "--url", server.url, "--timeout", "3s", "--request-timeout", "30s"], env=gha_env)
    assert code == 1
    assert time.monotonic() - started < 6
    assert "still arriving" in capsys.readouterr().out


def test_connect_to_reaches_the_address_and_keeps_the_name(serve, monkeypatch):
    """ready-connect-to: the request goes to the given address with the URL's name as Host;
    the name is never handed to the resolver (app.invalid would not resolve at all)."""
    import socket

    server = serve(_ok, host="127.0.0.2")
    port = server.url.rsplit(":", 1)[1]
    real = socket.getaddrinfo
    asked: list[str] = []

    def only_literals(host, *args, **kwargs):
        asked.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", only_literals)
    client = Client(connect_to={"app.invalid": "127.0.0.2"})
    answer = client.request("GET", f"http://app.invalid:{port}/ready", timeout=5)
    assert answer.status == 200, answer.describe()
    assert server.seen[0]["host"] == f"app.invalid:{port}"
    assert asked == ["127.0.0.2"]
