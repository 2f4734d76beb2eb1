"""Shared by the deploy integration and end-to-end tests: a test service whose tags behave
differently (ready, ready later, never ready, not ready on one host) and a deploy folder
on every test host."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from conftest import ROOT, free_port, read_outputs
from deploy_actions.cli import main

START = """#!/bin/sh
# v3 images are not ready on the host named in /www/fail-on; v1.2.0 becomes ready after 3 s;
# v5 exits at once, as a release with a broken start does.
[ -f /www/crash ] && { echo "crashing on start"; exit 3; }
# On a swarm node, /node/addr (the node's own, mounted per node ID) is where to listen.
if [ -f /node/addr ]; then HOST_ADDR=$(cat /node/addr); BIND="$HOST_ADDR:${BIND##*:}"; fi
if [ -f /www/fail-on ] && [ "$(cat /www/fail-on)" = "$HOST_ADDR" ]; then rm -f /www/ready; fi
if [ -f /www/ready-later ]; then (sleep 3; echo ok > /www/ready) & fi
httpd -f -p "$BIND" -h /www &
trap 'kill $!; exit 0' TERM INT  # stop promptly, as a service should (PID 1 ignores TERM otherwise)
wait
"""
IMAGES = {
    "v1.0.0": {"ready": True},
    "v1.1.0": {"ready": True},
    "v1.2.0": {"ready": False, "ready-later": True},
    "v2.0.0-rc.1": {"ready": False},
    "v3.0.0-rc.1": {"ready": True, "fail-on": "127.0.0.3"},
    "v4.0.0-rc.1": {"ready": True, "proxy-fails": True},
    "v5.0.0-rc.1": {"ready": True, "crash": True},
    "v6.0.0-rc.1": {"ready": True, "errors": True},
    "v7.0.0-rc.1": {"ready": True, "slow": True},
}
# CGI endpoints of every tag: /cgi-bin/slow answers after 2 s; /cgi-bin/check answers 500
# when reached through a proxy (X-Forwarded-For) in a tag marked proxy-fails — a release
# that passes on its own and fails only once users reach it.
SLOW = """#!/bin/sh
sleep 2
printf 'Content-Type: text/plain\r\n\r\nslow %s' "$(cat /www/version)"
"""
# /cgi-bin/work answers after 20 ms ("work <tag>"); 60 ms in a tag marked slow; in a tag
# marked errors, every 20th request (counted by appending a byte) answers 500: a canary's two faults.
WORK = """#!/bin/sh
if [ -f /www/slow ]; then usleep 60000; else usleep 20000; fi
if [ -f /www/errors ]; then
  echo >>/www/hits
  if [ $(( $(wc -c </www/hits) % 20 )) = 0 ]; then
    printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n'
    printf 'failed %s' "$(cat /www/version)"; exit 0
  fi
fi
printf 'Content-Type: text/plain\r\n\r\nwork %s' "$(cat /www/version)"
"""
CHECK = """#!/bin/sh
if [ -f /www/proxy-fails ] && [ -n "$HTTP_X_FORWARDED_FOR" ]; then
  printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nbroken behind a proxy'
else
  printf 'Content-Type: text/plain\r\n\r\nok'
fi
"""
COMPOSE = """services:
  web:
    image: {repo}:${{IMAGE_TAG}}
    network_mode: host
    environment:
      BIND: ${{DEPLOY_HOST_ADDR}}:${{WEB_PORT}}
      HOST_ADDR: ${{DEPLOY_HOST_ADDR}}
"""
# The same service for blue-green: each copy listens on the port the deploy gives it.
COMPOSE_BLUE_GREEN = COMPOSE.replace("${{WEB_PORT}}", "${{APP_PORT}}")


def build_web_images(services, tmp_path_factory) -> str:
    """Push the test service's tags to the local registry; return the repository."""
    repo = f"{services['DA_REGISTRY']}/deploy-it-{uuid.uuid4().hex[:6]}/web"
    for tag, spec in IMAGES.items():
        ctx = tmp_path_factory.mktemp(f"web-{tag}")
        (ctx / "www").mkdir()
        shutil.copy("/bin/busybox", ctx / "busybox")
        (ctx / "start").write_text(START)
        (ctx / "start").chmod(0o755)
        (ctx / "www" / "health").write_text("ok\n")
        (ctx / "www" / "version").write_text(tag)
        if spec["ready"]:
            (ctx / "www" / "ready").write_text("ok\n")
        if spec.get("ready-later"):
            (ctx / "www" / "ready-later").write_text("")
        if spec.get("fail-on"):
            (ctx / "www" / "fail-on").write_text(spec["fail-on"])
        if spec.get("crash"):
            (ctx / "www" / "crash").write_text("")
        if spec.get("proxy-fails"):
            (ctx / "www" / "proxy-fails").write_text("")
        (ctx / "www" / "cgi-bin").mkdir()
        for flag in ("errors", "slow"):
            if spec.get(flag):
                (ctx / "www" / flag).write_text("")
        for name, text in (("slow", SLOW), ("check", CHECK), ("work", WORK)):
            (ctx / "www" / "cgi-bin" / name).write_text(text)
            (ctx / "www" / "cgi-bin" / name).chmod(0o755)
        (ctx / "Dockerfile").write_text(
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            'COPY www /www\nCOPY start /start\nCMD ["/start"]\n'
        )
        subprocess.run(["docker", "build", "-q", "-t", f"{repo}:{tag}", str(ctx)], check=True, capture_output=True)
        subprocess.run(["docker", "push", "-q", f"{repo}:{tag}"], check=True, capture_output=True)
    return repo


def page_or_down(url: str, timeout: float = 3) -> str:
    """The page's text, or "down (…)" when it cannot be fetched whole: a server stopped mid-answer
    cuts the body short (IncompleteRead, an HTTPException rather than an OSError)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode().strip()
    except (OSError, http.client.HTTPException) as exc:
        return f"down ({type(exc).__name__}: {exc})"


class Target:
    """One deploy folder on every host, like /opt/backend on real servers."""

    def __init__(self, services, repo, addrs=None, compose=COMPOSE):
        self.services = services
        self.name = f"t-{uuid.uuid4().hex[:8]}"
        self.path = f"{services['DA_SSH_DEPLOY_ROOT']}/{self.name}"
        self.port = free_port()
        self.upstream_ports = (free_port(), free_port())
        dirs = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_DIRS"].split(","))
        self.addrs = addrs or services["DA_SSH_HOSTS"].split(",")[:2]
        self.dirs = {addr: Path(dirs[addr]) / self.name for addr in self.addrs}
        for folder in self.dirs.values():
            folder.mkdir()
            (folder / "compose.yml").write_text(compose.format(repo=repo))
            (folder / ".env").write_text(f"# written by hand\nWEB_PORT={self.port}\nIMAGE_TAG=none\n")
            shutil.chown(folder, services["DA_SSH_USER"], services["DA_SSH_USER"])
            for child in folder.iterdir():
                shutil.chown(child, services["DA_SSH_USER"], services["DA_SSH_USER"])

    def hosts(self, *addrs):
        return "\n".join(
            f"{self.services['DA_SSH_USER']}@{a}:{self.services['DA_SSH_PORT']}" for a in (addrs or self.addrs)
        )

    def version(self, addr) -> str:
        return page_or_down(f"http://{addr}:{self.port}/version")

    def env_file(self, addr) -> str:
        return (self.dirs[addr] / ".env").read_text()

    def history(self, addr) -> list[list[str]]:
        path = self.dirs[addr] / ".deploy-actions" / "history"
        return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []

    def down(self):
        compose_down(self.services, self.name, self.addrs)
        blue_green_down(self.services, self.name, self.addrs)

    def docker(self, addr: str, *args: str, check: bool = False, data: str | None = None):
        """`docker ARGS` on host `addr`'s own engine."""
        return host_docker(self.services, addr, *args, check=check, data=data)

    def blue_green_args(self, *extra: str) -> list[str]:
        """ssh-compose-deploy inputs for blue-green on the test hosts: the proxy serves users on
        {host}:port (the port the recreate tests' service uses), the copies on two other ports."""
        return [
            "--strategy",
            "blue-green",
            "--proxy-listen",
            f"{{host}}:{self.port}",
            "--upstream-host",
            "{host}",
            "--upstream-ports",
            ",".join(map(str, self.upstream_ports)),
            "--proxy-image",
            self.services["DA_PROXY_IMAGE"],
            "--drain-timeout",
            "10s",
            *extra,
        ]


# The shared host proxy (hostname): its container, its internal CA's root, copies that come back
# with their host's engine (as a service on a real host is set up).
PROXY = "deploy-actions-proxy"
ROOT_CERT = "/data/caddy/pki/authorities/local/root.crt"
ONE = "127.0.0.2"
COMPOSE_SHARED = COMPOSE_BLUE_GREEN.replace(
    "    network_mode: host\n", "    network_mode: host\n    restart: unless-stopped\n"
)


class SharedProxy:
    """The shared proxy's listeners on host ONE for every app of a test (or benchmark), the
    internal CA's root its clients trust, and its removal afterwards."""

    def __init__(self, services, tmp_path):
        self.services = services
        self.http, self.https = free_port(), free_port()
        self.cafile = tmp_path / "internal-root.crt"
        self.suffix = uuid.uuid4().hex[:6]

    def name(self, app: str) -> str:
        return f"{app}-{self.suffix}.test"

    def args(self, target: Target, *names: str, tls: str = "internal") -> list[str]:
        args = target.blue_green_args()
        args[args.index("--proxy-listen") + 1] = f"{{host}}:{self.http}"
        scheme, port = ("http", self.http) if tls == "off" else ("https", self.https)
        return [
            *args,
            "--hostname",
            "\n".join(names),
            "--tls",
            tls,
            "--proxy-tls-listen",
            f"{{host}}:{self.https}",
            # the check through the proxy: by the app's name, reached at the host, over verified TLS
            "--ready-url",
            f"{scheme}://{names[0].split('/')[0]}:{port}/ready",
            "--ready-connect-to",
            "{host}",
            "--ready-ca-bundle",
            self.trust(target),
        ]

    def trust(self, target: Target) -> str:
        """The root of the proxy's internal CA, the one thing the clients trust. Made before the
        proxy exists (Caddy makes its CA in the data volume when it first starts), so the first
        deploy's check through the proxy can verify it too."""
        if self.cafile.exists():
            return str(self.cafile)
        seed = f"{PROXY}-ca-seed-{self.suffix}"
        config = (
            '{"admin":{"disabled":true},"apps":{"pki":{"certificate_authorities":{"local":{"install_trust":false}}}}}'
        )
        start = f"echo '{config}' >/tmp/c.json && exec caddy run --config /tmp/c.json"
        volume = f"{PROXY}-data:/data"
        image = self.services["DA_PROXY_IMAGE"]
        run = ["run", "-d", "--name", seed, "--network", "none", "-v", volume, "--entrypoint", "sh", image, "-c", start]
        target.docker(ONE, *run, check=True)
        try:
            deadline = time.monotonic() + 20
            while target.docker(ONE, "exec", seed, "test", "-f", ROOT_CERT).returncode and time.monotonic() < deadline:
                time.sleep(0.2)
            self.cafile.write_text(target.docker(ONE, "exec", seed, "cat", ROOT_CERT, check=True).stdout)
        finally:
            target.docker(ONE, "rm", "-f", seed)
        return str(self.cafile)

    def url(self, name: str, path: str = "/version", scheme: str = "https") -> str:
        return f"{scheme}://{name}:{self.https if scheme == 'https' else self.http}{path}"

    def get(self, url: str, cafile: str | None = None) -> tuple[int, str, dict]:
        parts = urlsplit(url)
        conn = named_connection(url, ONE, cafile)
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=named_headers(url))
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        return resp.status, body, dict(resp.getheaders())

    def down(self, target: Target) -> None:
        routers = target.docker(ONE, "ps", "-aq", "--filter", "label=org.deploy-actions.role=host-proxy-router")
        target.docker(ONE, "rm", "-f", PROXY, *routers.stdout.split())
        target.docker(ONE, "volume", "rm", "-f", PROXY, f"{PROXY}-data", f"{PROXY}-logs")


def engine_env(services, addr: str) -> dict:
    """The environment whose `docker` reaches deploy host `addr`'s own engine."""
    engines = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_ENGINES"].split(","))
    return {**os.environ, "DOCKER_HOST": engines[addr]}


def host_docker(services, addr: str, *args: str, check: bool = False, data: str | None = None):
    """`docker ARGS` on deploy host `addr`'s engine."""
    return subprocess.run(
        ["docker", *args], env=engine_env(services, addr), capture_output=True, text=True, check=check, input=data
    )


def blue_green_down(services, name: str, addrs) -> None:
    """Remove the blue and green copies and the proxy (and its config volume) of deploy
    folder `name` (its Compose project's name) on each host's engine."""
    for addr in addrs:
        ids = []
        for colour in ("blue", "green"):
            ids += host_docker(
                services, addr, "ps", "-aq", "--filter", f"label=com.docker.compose.project={name}-{colour}"
            ).stdout.split()
        host_docker(services, addr, "rm", "-f", *sorted(set(ids)), f"{name}-proxy")
        host_docker(services, addr, "volume", "rm", "-f", f"{name}-proxy-config")


def compose_down(services, name: str, addrs) -> None:
    """Stop what a test deployed into deploy folder `name` on each host (its Compose project
    is the folder's name)."""
    dirs = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_DIRS"].split(","))
    for addr in addrs:
        folder = Path(dirs[addr]) / name
        subprocess.run(
            [
                "docker",
                "compose",
                "-p",
                name,
                "-f",
                str(folder / "compose.yml"),
                "--env-file",
                str(folder / ".env"),
                "down",
                "-t",
                "1",
            ],
            capture_output=True,
            env={**engine_env(services, addr), "DEPLOY_HOST_ADDR": addr},
        )


def local_run(repo: Path, *args: str, library: Path | None = None, timeout: int = 900):
    """`deploy-actions --json local-run` on a repository: exit code, the JSON result, act's log."""
    extra = ["--library-path", str(library)] if library else []
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "--json", "local-run", "--repo", str(repo), *extra, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else {}), proc.stderr


class ArgvSampler:
    """Reads every process's command line (/proc/*/cmdline, what `ps` shows to any user) every
    few milliseconds while a block runs: the runner's and, the test hosts being local sshd
    processes, the hosts' too."""

    def __init__(self, *needles: str, every: float = 0.005):
        self.needles = [n for n in needles if n]
        self.every = every
        self.samples = 0
        self.seen: set[int] = set()
        self.found: list[str] = []

    def _sample(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            self.seen.add(int(entry))
            self.found += [f"{needle!r} in {argv[:200]!r}" for needle in self.needles if needle in argv]
        self.samples += 1

    def __enter__(self):
        import threading

        self._stop = threading.Event()

        def loop():
            while not self._stop.is_set():
                self._sample()
                self._stop.wait(self.every)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def named_connection(url: str, connect_to: str | None = None, cafile: str | None = None, timeout: float = 5):
    """An HTTP(S) connection for `url` that reaches `connect_to` (a loopback literal: no name
    is ever resolved) while sending the URL's name as Host and as TLS SNI, verified against
    `cafile`."""
    import socket
    import ssl

    parts = urlsplit(url)
    address = connect_to or parts.hostname
    if parts.scheme != "https":  # the caller sends the Host header (named_headers)
        return http.client.HTTPConnection(address, parts.port or 80, timeout=timeout)
    context = ssl.create_default_context(cafile=cafile)

    class Connection(http.client.HTTPSConnection):
        def connect(self):
            sock = socket.create_connection((address, self.port), self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as browsers and curl do
            self.sock = context.wrap_socket(sock, server_hostname=parts.hostname)

    return Connection(parts.hostname, parts.port or 443, timeout=timeout, context=context)


def named_headers(url: str) -> dict[str, str]:
    return {"Host": urlsplit(url).netloc}


def visit(url: str, connect_to: str, cafile: str | None, cookie: str = "") -> tuple[int, str, str]:
    """One request on a new connection, as a browser would make it: (status, body, the cookie
    it was given or kept)."""
    conn = named_connection(url, connect_to, cafile)
    headers = {**named_headers(url), **({"Cookie": cookie} if cookie else {})}
    conn.request("GET", urlsplit(url).path or "/", headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode()
    given = (resp.getheader("Set-Cookie") or "").split(";")[0]
    conn.close()
    return resp.status, body, given or cookie


class LoadClient:
    """Users: requests to `url` at about `rate` a second from a few threads, each answer
    recorded (time, HTTP status or the error, body). A new connection per request, or with
    `keep_alive` one per thread, reused (a new one only after an error, which is recorded).
    With `retry_reused`, a reused connection the server closed before answering is retried once
    on a new one, as browsers and HTTP libraries do (RFC 9112, 9.3.1); `retried` counts them.
    Bounded: it stops by itself after `limit` seconds, and waits `timeout` for an answer. Loopback only."""

    def __init__(
        self,
        url: str,
        rate: float = 120,
        threads: int = 4,
        limit: float = 120,
        keep_alive: bool = False,
        connect_to: str | None = None,
        cafile: str | None = None,
        retry_reused: bool = False,
        timeout: float = 5,
    ):
        self.url, self.rate, self.threads, self.limit, self.timeout = url, rate, threads, limit, timeout
        self.keep_alive, self.connect_to, self.cafile = keep_alive, connect_to, cafile
        self.retry_reused, self.retried = retry_reused, 0
        self.answers: list[tuple[float, int | str, str]] = []  # (started, status or error, body)
        self.spans: list[tuple[float, float, str]] = []  # (started, ended, body): one append, one record

    def _worker(self, stop, offset: float) -> None:
        parts = urlsplit(self.url)
        period = self.threads / self.rate
        nxt = time.monotonic() + offset
        end = time.monotonic() + self.limit
        conn, reused = None, False
        while not stop.is_set() and time.monotonic() < end:
            started = time.monotonic()
            for attempt in (1, 2):
                try:
                    reused = conn is not None
                    conn = conn or named_connection(self.url, self.connect_to, self.cafile, self.timeout)
                    conn.request("GET", parts.path or "/", headers=named_headers(self.url))
                    resp = conn.getresponse()
                    answer: tuple = (started, resp.status, resp.read().decode("utf-8", "replace"))
                    if not self.keep_alive or resp.will_close:
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException) as exc:
                    answer = (started, type(exc).__name__, "")
                    if conn:
                        conn.close()
                    conn = None
                    closed_unanswered = isinstance(exc, (ConnectionResetError, BrokenPipeError))
                    if not (self.retry_reused and reused and closed_unanswered and attempt == 1):
                        break
                    self.retried += 1
            ended = time.monotonic()
            self.answers.append(answer)
            self.spans.append((started, ended, answer[2]))
            nxt += period
            stop.wait(max(0.0, nxt - time.monotonic()))

    def __enter__(self):
        import threading

        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._worker, args=(self._stop, i / self.rate), daemon=True)
            for i in range(self.threads)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join()

    @property
    def latencies(self) -> list[tuple[float, float]]:
        """(started, seconds) of each request."""
        return [(started, ended - started) for started, ended, _ in self.spans]

    @property
    def failed(self) -> list:
        return [a for a in self.answers if a[1] != 200]

    def bodies(self) -> list[str]:
        """The bodies in the order users got them, consecutive repeats collapsed. Requests from
        several threads overlap, so one that started a little earlier can be served after the
        switch and one that started later before it: a body seen before counts again only when
        its request started after a request with the latest body had ended (then the proxy
        really served the old one after the new one)."""
        seen: list[str] = []
        first_end: dict[str, float] = {}  # body → the earliest end of a request with it so far
        for started, ended, body in sorted(self.spans):
            overlapped = body in seen and started < first_end.get(seen[-1], float("inf"))
            if (not seen or seen[-1] != body) and not overlapped:
                seen.append(body)
            first_end[body] = min(first_end.get(body, ended), ended)
        return seen

    def seconds(self) -> float:
        return max(a[0] for a in self.answers) - min(a[0] for a in self.answers) if self.answers else 0.0


def succeeded(result: tuple) -> tuple:
    """A deploy's (code, output, outputs) that must have passed; its output is the failure message."""
    code, out, _ = result
    assert code == 0, out
    return result


def deploy(target, gha_env, capsys, tag, *args, hosts=None, env=None, key=None, known_hosts=None):
    services = target.services
    run_env = {
        **gha_env,
        "INPUT_SSH_KEY": key if key is not None else Path(services["DA_SSH_KEY"]).read_text(),
        **(env or {}),
    }
    known = known_hosts if known_hosts is not None else Path(services["DA_SSH_KNOWN_HOSTS"]).read_text()
    # Recreate unless the test says otherwise (a later --strategy wins).
    argv = [
        "ssh-compose-deploy",
        "--strategy",
        "recreate",
        "--hosts",
        hosts or target.hosts(),
        "--deploy-path",
        target.path,
        "--image-tag",
        tag,
        "--require-release-tag",
        "--known-hosts",
        known,
        "--ready-url",
        f"http://{{host}}:{target.port}/ready",
        "--ready-timeout",
        "8s",
        *args,
    ]
    if known == "":
        argv.remove("--known-hosts")
        argv.remove("")
    code = main(argv, env=run_env)
    out = capsys.readouterr().out
    outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
    Path(gha_env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
    return code, out, outputs


def states(outputs):
    return {h["host"].split("@")[1].split(":")[0]: h["state"] for h in json.loads(outputs["hosts"])}


def deploy_process(target, tag, *args, addr="127.0.0.2"):
    """`deploy-actions ssh-compose-deploy` as its own process (to run two at once, cancel or
    kill one), on one host of `target`; its output on stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(PYTHONPATH=str(ROOT / "python"), INPUT_SSH_KEY=Path(target.services["DA_SSH_KEY"]).read_text())
    argv = [
        sys.executable,
        "-m",
        "deploy_actions",
        "ssh-compose-deploy",
        "--hosts",
        target.hosts(addr),
        "--deploy-path",
        target.path,
        "--image-tag",
        tag,
        "--known-hosts",
        Path(target.services["DA_SSH_KNOWN_HOSTS"]).read_text(),
        "--ready-url",
        f"http://{{host}}:{target.port}/ready",
        *args,
    ]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def dispatch(repo: Path, action_repo: Path, services, tag: str, *extra: str):
    """act running the consumer's `workflow_dispatch` deploy with `image_tag`, the deploy key
    as the secret DEPLOY_SSH_KEY and known_hosts as the variable DEPLOY_KNOWN_HOSTS."""
    from conftest import run_act

    env = {
        **os.environ,
        "DEPLOY_SSH_KEY": Path(services["DA_SSH_KEY"]).read_text(),
        "DEPLOY_KNOWN_HOSTS": Path(services["DA_SSH_KNOWN_HOSTS"]).read_text(),
    }
    event = repo.parent / "dispatch.json"
    event.write_text(json.dumps({"inputs": {"image_tag": tag}}))
    return run_act(
        repo,
        action_repo,
        "workflow_dispatch",
        "-e",
        str(event),
        "--input",
        f"image_tag={tag}",
        "-s",
        "DEPLOY_SSH_KEY",
        "--var",
        "DEPLOY_KNOWN_HOSTS",
        *extra,
        env=env,
    )
