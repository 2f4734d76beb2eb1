"""One HTTP request, answered with a status or a named kind of failure — never an
exception — so every caller can report *why* an endpoint is not answering."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from deploy_actions import __version__

MAX_BODY = 5 * 1024 * 1024
EXCERPT = 300

# Failure kinds at the transport level; wrong-status/wrong-body/too-slow come from checks.
REFUSED, TIMEOUT, DNS, TLS, RESET, CLOSED, CONNECTION = (
    "connection-refused",
    "timeout",
    "dns",
    "tls",
    "connection-reset",
    "connection-closed",
    "connection-error",
)


@dataclass
class Response:
    url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    failure: str | None = None  # transport failure kind, None when an HTTP answer came back
    error: str = ""

    def excerpt(self, limit: int = EXCERPT) -> str:
        text = " ".join(self.body.decode("utf-8", "replace").split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def describe(self) -> str:
        if self.failure:
            return f"{self.failure}: {self.error}" if self.error else self.failure
        return f"HTTP {self.status}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None  # the 3xx itself becomes the answer


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


class _SameOriginSecrets(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but the caller's own headers (tokens, cookies: secrets) go only to
    the origin they were given for — not to another host or port, and not from HTTPS to HTTP."""

    def __init__(self, secret_headers: set[str]):
        self.secret_headers = {name.lower() for name in secret_headers}

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            for name in list(new.headers):
                if name.lower() in self.secret_headers | {"authorization", "cookie", "proxy-authorization"}:
                    del new.headers[name]
        return new


def classify(exc: BaseException) -> tuple[str, str]:
    """Map a transport exception to (kind, short message)."""
    wrapped = isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError)
    reason = exc.reason if wrapped else exc
    if isinstance(reason, str):
        return CONNECTION, reason
    text = str(reason) or type(reason).__name__
    if isinstance(reason, ConnectionRefusedError):
        return REFUSED, "connection refused (nothing listening?)"
    if isinstance(reason, socket.gaierror):
        return DNS, f"host name did not resolve ({text})"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return TLS, f"certificate not trusted ({reason.verify_message or text}); set ca-bundle, or insecure: true"
    if isinstance(reason, ssl.SSLError):
        return TLS, text
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return TIMEOUT, "no answer within the request timeout"
    if isinstance(reason, ConnectionResetError):
        return RESET, "connection reset by peer"
    if isinstance(reason, (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionAbortedError)):
        return CLOSED, "server closed the connection without a complete answer"
    if isinstance(reason, http.client.HTTPException):
        return CONNECTION, f"bad HTTP answer ({type(reason).__name__})"
    return CONNECTION, text


def _connecting(base: Any, connect_to: dict[str, str]) -> Any:
    """A connection class that reaches the address `connect_to` gives for the URL's host name
    (curl's --connect-to): the name stays in the Host header and TLS (SNI, certificate check),
    and is never resolved."""

    def make(host: str, **kwargs: Any) -> Any:
        conn = base(host, **kwargs)
        address = connect_to.get(conn.host)
        if address:
            create = conn._create_connection
            conn._create_connection = lambda addr, *args, **kw: create((address, addr[1]), *args, **kw)
        return conn

    return make


class _ConnectTo(urllib.request.HTTPHandler):
    def __init__(self, connect_to: dict[str, str]):
        super().__init__()
        self._connect_to = connect_to

    def http_open(self, req):  # noqa: D102
        return self.do_open(_connecting(http.client.HTTPConnection, self._connect_to), req)


class _LazyTLS(urllib.request.HTTPSHandler):
    """The TLS context (the system's CA store: ~30 ms to load) only once an https URL is
    opened: most checks here are plain http on loopback."""

    def __init__(self, make: Any, connect_to: dict[str, str] | None = None):
        super().__init__()
        self._make = make
        self._connect_to = connect_to or {}

    def https_open(self, req):  # noqa: D102
        if self._context is None:
            self._context = self._make()
        return self.do_open(_connecting(http.client.HTTPSConnection, self._connect_to), req, context=self._context)


class _Trickle(Exception):
    """A body still arriving at the deadline (each read within the socket timeout)."""


def _read_until(resp: Any, deadline: float) -> bytes:
    """The body, at most MAX_BODY bytes, read by chunks so that a server trickling it in
    cannot hold the check past its deadline (the socket timeout is per read)."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        if time.monotonic() > deadline:
            raise _Trickle
        chunk = resp.read1(min(65536, MAX_BODY - size)) if hasattr(resp, "read1") else resp.read(MAX_BODY - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class Client:
    def __init__(
        self,
        *,
        headers: dict[str, str] | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        follow_redirects: bool = True,
        connect_to: dict[str, str] | None = None,
    ):
        """`connect_to`: host name → the address to reach it at, instead of resolving it."""
        self.headers = {"User-Agent": f"deploy-actions/{__version__} smoke-ready", **(headers or {})}

        def context() -> ssl.SSLContext:
            made = ssl.create_default_context(cafile=ca_bundle)
            if not verify:
                made.check_hostname = False
                made.verify_mode = ssl.CERT_NONE
            return made

        handlers: list[Any] = [_LazyTLS(context, connect_to), *([_ConnectTo(connect_to)] if connect_to else [])]
        handlers.append(_SameOriginSecrets(set(headers or {})) if follow_redirects else _NoRedirect())
        self._opener = urllib.request.build_opener(*handlers)

    def request(
        self, method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None, json_body: Any = None
    ) -> Response:
        data = None
        all_headers = {**self.headers, **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        start = time.monotonic()
        answer = Response(url=url)
        try:
            try:
                with self._opener.open(request, timeout=max(timeout, 0.001)) as resp:
                    answer.status = resp.status
                    answer.headers = dict(resp.headers.items())
                    answer.body = _read_until(resp, start + timeout)
            except urllib.error.HTTPError as exc:  # an HTTP answer, just not 2xx
                answer.status = exc.code
                answer.headers = dict(exc.headers.items()) if exc.headers else {}
                try:
                    answer.body = _read_until(exc, start + timeout)
                except (OSError, http.client.HTTPException):  # the status is what matters
                    answer.body = b""
        except _Trickle:
            answer.status, answer.failure = None, TIMEOUT
            answer.error = "the answer was still arriving when the request timeout ran out"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            answer.failure, answer.error = classify(exc)
        answer.seconds = time.monotonic() - start
        return answer
