"""The host's shared proxy (blue-green with `hostname`) on a real sshd host with its own
engine: two apps behind one Caddy, each by its name over HTTPS from Caddy's internal CA,
clients on both while either is deployed or added, and nothing lost."""

import ssl
import time
import uuid
from urllib.parse import urlsplit

import pytest

from deploy_support import (
    COMPOSE_BLUE_GREEN,
    LoadClient,
    Target,
    deploy,
    free_port,
    named_connection,
    named_headers,
    succeeded,
)

pytestmark = pytest.mark.services

ONE = "127.0.0.2"
PROXY = "deploy-actions-proxy"
ROOT_CERT = "/data/caddy/pki/authorities/local/root.crt"


class Host:
    """The shared proxy's listeners on ONE, for every app of one test; removed afterwards."""

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
        target.docker(ONE, "volume", "rm", "-f", PROXY, f"{PROXY}-data")


@pytest.fixture
def apps(services, web_repo, tmp_path):
    made = [Target(services, web_repo, addrs=[ONE], compose=COMPOSE_BLUE_GREEN) for _ in range(2)]
    host = Host(services, tmp_path)
    yield host, made
    for target in made:
        target.down()
    host.down(made[0])


def bg(target, gha_env, capsys, tag, args):
    return deploy(target, gha_env, capsys, tag, *args, hosts=target.hosts(ONE))


def users(host: Host, name: str, cafile: str, **kwargs) -> LoadClient:
    return LoadClient(host.url(name), connect_to=ONE, cafile=cafile, **kwargs)


def test_two_apps_by_name_over_https_deploying_or_adding_one_never_disturbs_the_other(apps, gha_env, capsys):
    host, (first, second) = apps
    a, b = host.name("a"), host.name("b")
    succeeded(bg(first, gha_env, capsys, "v1.0.0", host.args(first, a)))
    cafile = host.trust(first)
    assert host.get(host.url(a), cafile)[:2] == (200, "v1.0.0")  # the name's certificate, from that root
    # HTTP redirects to HTTPS, keeping the path
    status, _, headers = host.get(host.url(a, "/version?x=1", scheme="http"))
    assert status == 308 and headers["Location"] == f"https://{a}:{host.https}/version?x=1"
    # a name no app claims: no certificate, and no route over HTTP
    with pytest.raises(ssl.SSLError):
        host.get(host.url(host.name("nobody")), cafile)
    status, body, _ = host.get(host.url(host.name("nobody"), scheme="http"))
    assert status == 404 and "no app on this host serves this name" in body

    # adding a second app (a new router beside the current one) while users are on the first
    with users(host, a, cafile, rate=80) as fresh, users(host, a, cafile, rate=80, keep_alive=True) as kept:
        time.sleep(0.5)
        succeeded(bg(second, gha_env, capsys, "v1.0.0", host.args(second, b)))
        time.sleep(0.5)
    for load in (fresh, kept):
        assert load.failed == [] and set(load.bodies()) == {"v1.0.0"}, load.failed[:3]
        assert len(load.answers) / load.seconds() >= 70
    assert host.get(host.url(b), cafile)[:2] == (200, "v1.0.0")

    # deploying the first app while users are on both
    with (
        users(host, a, cafile, rate=80, keep_alive=True) as on_a,
        users(host, b, cafile, rate=80) as on_b,
    ):
        time.sleep(0.5)
        code, out, _ = bg(first, gha_env, capsys, "v1.1.0", host.args(first, a))
        time.sleep(0.5)
    assert code == 0, out
    assert on_a.failed == [] and on_a.bodies() == ["v1.0.0", "v1.1.0"]
    assert on_b.failed == [] and on_b.bodies() == ["v1.0.0"]  # B never changed
    assert (len(on_a.answers) + len(on_b.answers)) / on_a.seconds() >= 150
    assert "shared proxy:" in out


def test_a_name_claimed_by_another_app_is_refused_and_nothing_changes(apps, gha_env, capsys):
    host, (first, second) = apps
    a = host.name("a")
    succeeded(bg(first, gha_env, capsys, "v1.0.0", host.args(first, a)))
    code, out, _ = bg(second, gha_env, capsys, "v1.1.0", host.args(second, host.name("b"), a))
    assert code == 2, out
    assert f"hostname {a} is already served by app {first.name}" in out and "::error" in out
    assert second.history(ONE) == []
    cafile = host.trust(first)
    assert host.get(host.url(a), cafile)[:2] == (200, "v1.0.0")
    # other listeners or TLS settings than the host's proxy runs with: refused as well
    changed = host.args(second, host.name("b"), tls="off")
    code, out, _ = bg(second, gha_env, capsys, "v1.1.0", changed)
    assert code == 2 and "the shared proxy on" in out and "issuer=off" in out, out
    assert second.history(ONE) == []


def test_restarted_proxy_containers_serve_the_live_copies_again(apps, gha_env, capsys):
    host, (first, _) = apps
    a = host.name("a")
    succeeded(bg(first, gha_env, capsys, "v1.0.0", host.args(first, a)))
    succeeded(bg(first, gha_env, capsys, "v1.1.0", host.args(first, a)))
    cafile = host.trust(first)
    routers = first.docker(ONE, "ps", "-q", "--filter", "label=org.deploy-actions.role=host-proxy-router")
    assert len(routers.stdout.split()) == 1  # the old router is gone once drained
    first.docker(ONE, "restart", "-t", "1", PROXY, *routers.stdout.split(), check=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if host.get(host.url(a), cafile)[:2] == (200, "v1.1.0"):
                break
        except OSError:
            time.sleep(0.2)
    assert host.get(host.url(a), cafile)[:2] == (200, "v1.1.0")
