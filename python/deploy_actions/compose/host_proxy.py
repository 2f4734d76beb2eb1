"""The host's shared proxy (blue-green with `hostname`): the names an app is reached by, the
TLS settings, and the Caddy JSON the proxy runs — built here, pure, and written on the host
by compose/host_proxy.sh, which only moves files.

Nothing on the proxy is ever reloaded, so no request is lost to a reload (measured: a Caddy
reload cuts connections under load). Two Caddy tiers, each with a config that never changes:

- the **front** (`deploy-actions-proxy`) holds the listeners and TLS. It sends every request
  to the router named in /config/router, read per request. It asks /config/allowed/<name>
  (a file that exists or not) whether to get a certificate for a name during the handshake
  (on-demand TLS), and redirects HTTP to HTTPS for names in /config/https/.
- a **router** routes by name (and path prefix) to each app's live copy, read per request
  from /config/apps/<app>/live. Adding, changing or removing an app's names starts a new
  router beside the current one, then renames /config/router: the same switch as an app's.

Each app's route also checks, per request, a pause deadline (/config/apps/<app>/until): while
it is ahead, requests wait at the router for the app's `gate` (deploy-actions pause), so a
pause is two renamed files as well.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from deploy_actions.errors import UsageError
from deploy_actions.options import Option
from deploy_actions.values import parse_duration, parse_list

LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"^(?=[a-z0-9.-]{{1,253}}$)(?:{LABEL}\.)+(?=[a-z0-9-]*[a-z])({LABEL})$")  # a TLD has a letter
PREFIX = re.compile(r"^(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._~-]+)+$")  # no . or .. segment
TLS_MODES = ("auto", "acme", "internal", "off")
APP_TOKEN = "%APP%"  # host_proxy.sh puts the app's name (its Compose project's) in its place
HEALTH_HOST = "deploy-actions-router.invalid"  # how host_proxy.sh asks a new router whether it serves
ALLOWED_PATH = "/.well-known/deploy-actions/allowed"
CERTIFICATE_PATH = "/.well-known/deploy-actions/certificate"  # answered to the front itself only
PAUSE_LIMIT = 60  # seconds a pause may last at most (deploy-actions pause): requests wait that long


PAUSE_TIMEOUT = Option(
    "pause-timeout",
    f"How long a pause lasts at most, 1s to {PAUSE_LIMIT}s (whole seconds); then the waiting requests go on by "
    "themselves.",
    default="10s",
)


def parse_pause_timeout(raw: Mapping[str, str]) -> int:
    seconds = parse_duration(raw["pause-timeout"], "pause-timeout", minimum=1)
    if seconds > PAUSE_LIMIT or seconds != int(seconds):
        raise UsageError(
            f"expected whole seconds from 1s to {PAUSE_LIMIT}s (requests wait that long), got "
            f"{raw['pause-timeout'].strip()!r}",
            input="pause-timeout",
        )
    return int(seconds)


@dataclass(frozen=True)
class Name:
    host: str
    prefix: str = ""

    def __str__(self) -> str:
        return self.host + self.prefix


@dataclass(frozen=True)
class HostProxy:
    names: tuple[Name, ...]
    tls: str  # acme | internal | off
    acme_ca: str
    acme_email: str
    tls_listen: str
    certificate: str = field(default="", repr=False)  # PEM chain + key, from secrets: the app's names


def parse_names(text: str) -> tuple[Name, ...]:
    names: list[Name] = []
    for item in parse_list(text):
        host, slash, prefix = item.partition("/")
        host = host.lower().rstrip(".")
        prefix = (slash + prefix).rstrip("/") if slash else ""
        if not host.isascii() or not HOSTNAME.match(host):
            raise UsageError(
                f"expected a DNS name such as app.example.com (IDNs as xn--…; no IP address, port or *), got {item!r}",
                input="hostname",
            )
        if prefix and not PREFIX.match(prefix):
            raise UsageError(f"expected a path prefix such as /api after the name, got {item!r}", input="hostname")
        name = Name(host, prefix)
        if name in names:
            raise UsageError(f"{item!r} is listed twice", input="hostname")
        names.append(name)
    return tuple(names)


def parse(raw: Mapping[str, str], listen_pattern: re.Pattern) -> HostProxy | None:
    """The host-proxy inputs, or None without `hostname` (the app keeps a proxy of its own)."""
    names = parse_names(raw["hostname"])
    tls = raw["tls"].strip()
    if tls not in TLS_MODES:
        raise UsageError(f"expected one of {', '.join(TLS_MODES)}, got {tls!r}", input="tls")
    ca, email = raw["acme-ca"].strip(), raw["acme-email"].strip()
    if ca and not re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$", ca):
        raise UsageError(f"expected the https:// URL of an ACME directory, got {ca!r}", input="acme-ca")
    if email and not re.match(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", email):
        raise UsageError(f"expected an e-mail address, got {email!r}", input="acme-email")
    tls_listen = raw["proxy-tls-listen"].strip()
    match = listen_pattern.match(tls_listen)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise UsageError(f"expected [address]:port such as :443, got {tls_listen!r}", input="proxy-tls-listen")
    cert, key = raw["tls-certificate"].strip(), raw["tls-key"].strip()
    if not names:
        if tls not in ("auto", "off") or ca or email or cert or key:
            raise UsageError(
                "tls, acme-ca, acme-email, tls-certificate and tls-key apply to the names in hostname; set hostname",
                input="tls",
            )
        return None
    if (cert or key) and tls == "off":
        raise UsageError("a certificate was given with tls: off", input="tls-certificate")
    bundle = check_certificate(cert, key, names) if cert or key else ""
    return HostProxy(names, "acme" if tls == "auto" else tls, ca, email, tls_listen, bundle)


@contextlib.contextmanager
def _private_dir() -> Iterator[str]:
    """A 0700 folder in memory where there is one (/dev/shm), removed whatever happens."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = tempfile.mkdtemp(prefix="deploy-actions-tls-", dir=base)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _covers(pattern: str, host: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def check_certificate(cert: str, key: str, names: tuple[Name, ...]) -> str:
    """The certificate chain and its key as one PEM bundle, after checking that they are PEM,
    that the key belongs to the certificate and that the certificate names every host name.
    Messages never quote either: the key is a secret."""
    if not cert:
        raise UsageError("tls-key was given without tls-certificate", input="tls-certificate")
    if not key:
        raise UsageError("tls-certificate was given without tls-key", input="tls-key")
    if "-----BEGIN CERTIFICATE-----" not in cert or not cert.isascii():
        raise UsageError("expected a PEM certificate chain (-----BEGIN CERTIFICATE-----)", input="tls-certificate")
    if not re.search(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----", key) or not key.isascii():
        raise UsageError("expected a PEM private key (-----BEGIN PRIVATE KEY-----)", input="tls-key")
    if "ENCRYPTED" in key:
        raise UsageError("the private key is encrypted; give it without a passphrase", input="tls-key")
    with _private_dir() as folder:
        cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        for path, text in ((cert_path, cert), (key_path, key)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as out:
                out.write(text + "\n")
        try:
            decoded = ssl._ssl._test_decode_cert(cert_path)  # noqa: SLF001 (the stdlib's own X.509 reader)
        except (ssl.SSLError, OSError, ValueError):
            raise UsageError("the certificate cannot be read as X.509 PEM", input="tls-certificate") from None
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)
        except ssl.SSLError:
            raise UsageError("the private key does not belong to the certificate", input="tls-key") from None
    sans = [value for kind, value in decoded.get("subjectAltName", ()) if kind == "DNS"]
    missing = [n.host for n in names if not any(_covers(san, n.host) for san in sans)]
    if missing:
        raise UsageError(
            f"the certificate does not name {', '.join(sorted(set(missing)))} (its names: {', '.join(sans) or 'none'})",
            input="tls-certificate",
        )
    return cert.strip() + "\n" + key.strip() + "\n"


def route_lines(proxy: HostProxy) -> str:
    """The app's routes for the router, one per line as `<order>\\t<json>`: sorted by order,
    longer path prefixes come first, so `example.com/api` wins over another app's `example.com`."""
    lines = []
    for name in proxy.names:
        match: dict = {"host": [name.host]}
        if name.prefix:
            match["path"] = [name.prefix, name.prefix + "/*"]
        route = {
            "match": [match],
            "handle": [{"handler": "subroute", "routes": [_held(), _to_live()]}],
            "terminal": True,
        }
        lines.append(f"{100000 - len(name.prefix):06d}\t{json.dumps(route, separators=(',', ':'))}")
    return "\n".join(lines)


def _held() -> dict:
    """While the app is paused (`until`, host time in ms, is ahead): each request waits at the
    proxy, dialling `gate` — a socket that does not exist — every 50 ms, until the pause ends
    and `gate` names the live copy. The deadline is checked per request: a pause whose end was
    never written (its host lost) holds new requests no longer than it was asked to."""
    until = f"int(ph(req, 'file./config/apps/{APP_TOKEN}/until')) > int(ph(req, 'time.now.unix_ms'))"
    return {
        "match": [{"expression": until}],
        "handle": [
            {
                "handler": "reverse_proxy",
                "load_balancing": {"try_duration": f"{PAUSE_LIMIT + 5}s", "try_interval": "50ms"},
                "upstreams": [{"dial": f"{{file./config/apps/{APP_TOKEN}/gate}}"}],
            }
        ],
        "terminal": True,
    }


def _to_live() -> dict:
    return {
        "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": f"{{file./config/apps/{APP_TOKEN}/live}}"}]}]
    }


def _is_ip(address: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return True


def _cidr(address: str) -> str:
    bare = address.strip("[]")
    return f"{bare}/128" if ":" in bare else f"{bare}/32"


def _split(listen: str) -> tuple[str, str]:
    host, _, port = listen.rpartition(":")
    return host, port


WILDCARDS = ("", "0.0.0.0", "[::]")


def http_listeners(listen: str) -> list[str]:
    """Where the front serves HTTP. On a wildcard address Go binds one dual-stack IPv6 socket.
    An IPv4 socket beside it outranks every dual-stack one for IPv4 clients (the kernel
    prefers a socket of the connection's own family), so from the moment the front starts it
    gets every new IPv4 connection, and an app's own proxy that hands it the address stops
    with none arriving. That matters because a Caddy shutting a server down closes, without
    an answer, a connection it accepts in that instant (benchmarks/caddy_shutdown.py)."""
    host, port = _split(listen)
    return [listen, f"tcp4/0.0.0.0:{port}"] if host in WILDCARDS else [listen]


def settings(proxy: HostProxy, listen: str) -> str:
    """What the host's proxy is set up with: one deploy that asks for other settings is refused."""
    return (
        f"listen={listen} tls-listen={proxy.tls_listen} issuer={proxy.tls} "
        f"acme-ca={proxy.acme_ca or '-'} acme-email={proxy.acme_email or '-'}"
    )


def front_config(proxy: HostProxy, listen: str, drain: int) -> str:
    """The front's config (listen and tls-listen with `{host}` already replaced)."""
    host, port = _split(listen)
    asked = host if _is_ip(host) and host not in WILDCARDS else "127.0.0.1"
    tls_port = _split(proxy.tls_listen)[1]
    to_router = {
        "handler": "reverse_proxy",
        "transport": {"protocol": "http", "keep_alive": {"idle_timeout": "2s"}},
        "upstreams": [{"dial": "{file./config/router}"}],
    }
    issuer: dict = {"module": "internal"}
    if proxy.tls == "acme":
        issuer = {"module": "acme", **({"ca": proxy.acme_ca} if proxy.acme_ca else {})}
        if proxy.acme_email:
            issuer["email"] = proxy.acme_email
    https_suffix = "" if tls_port == "443" else f":{tls_port}"
    # Only the front itself may ask (it connects from its own address): the certificate
    # answer holds a private key.
    itself = {"host": [asked.strip("[]")], "remote_ip": {"ranges": [_cidr(asked), "127.0.0.1/32", "::1/128"]}}
    http_routes = [
        {  # on-demand TLS asks here: a certificate only for a name some app on this host claims
            "match": [
                {
                    **itself,
                    "path": [ALLOWED_PATH],
                    "file": {"root": "/config/allowed", "try_files": ["/{http.request.uri.query.domain}"]},
                }
            ],
            "handle": [{"handler": "static_response", "status_code": 200}],
            "terminal": True,
        },
        {  # a certificate from secrets for this name (PEM chain and key), else 204: Caddy issues one
            "match": [{**itself, "path": [CERTIFICATE_PATH]}],
            "handle": [
                {
                    "handler": "subroute",
                    "routes": [
                        {
                            "match": [
                                {
                                    "file": {
                                        "root": "/config/certs",
                                        "try_files": ["/{http.request.uri.query.server_name}.pem"],
                                    }
                                }
                            ],
                            "handle": [
                                {"handler": "rewrite", "uri": "{http.matchers.file.relative}"},
                                {"handler": "file_server", "root": "/config/certs"},
                            ],
                            "terminal": True,
                        },
                        {"handle": [{"handler": "static_response", "status_code": 204}]},
                    ],
                }
            ],
            "terminal": True,
        },
        {
            "match": [{"file": {"root": "/config/https", "try_files": ["/{http.request.host}"]}}],
            "handle": [
                {
                    "handler": "static_response",
                    "status_code": 308,
                    "headers": {"Location": [f"https://{{http.request.host}}{https_suffix}{{http.request.uri}}"]},
                }
            ],
            "terminal": True,
        },
        {"handle": [to_router]},
    ]
    # Caddy's automatic HTTPS stays off: it would take the front's own address for a site and
    # serve TLS on the HTTP port. The policy above does the TLS; ACME's HTTP challenges are
    # answered on any server regardless.
    servers = {
        "http": {"listen": http_listeners(listen), "automatic_https": {"disable": True}, "routes": http_routes},
        "https": {
            "listen": [proxy.tls_listen],
            "automatic_https": {"disable": True},
            "tls_connection_policies": [{}],
            "routes": [{"handle": [to_router]}],
        },
    }
    if proxy.tls == "off":
        del servers["https"]
    config = {
        "admin": {"listen": "unix//config/admin.sock"},
        "apps": {
            "http": {"grace_period": f"{drain}s", "servers": servers},
            "pki": {"certificate_authorities": {"local": {"install_trust": False}}},
            "tls": {
                "automation": {
                    "policies": [
                        {
                            "get_certificate": [{"via": "http", "url": f"http://{asked}:{port}{CERTIFICATE_PATH}"}],
                            "issuers": [issuer],
                            "on_demand": True,
                        }
                    ],
                    "on_demand": {"permission": {"module": "http", "endpoint": f"http://{asked}:{port}{ALLOWED_PATH}"}},
                }
            },
        },
    }
    return json.dumps(config, separators=(",", ":"))
