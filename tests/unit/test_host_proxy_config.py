"""The shared host proxy's pure parts: names, routes and the front's config."""

import json
import math
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import self_signed
from deploy_actions.compose import host_proxy
from deploy_actions.compose.settings import _LISTEN
from deploy_actions.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
RAW = {
    "hostname": "",
    "tls": "auto",
    "acme-ca": "",
    "acme-email": "",
    "proxy-tls-listen": ":443",
    "tls-certificate": "",
    "tls-key": "",
}


def parse(**changes):
    return host_proxy.parse({**RAW, **changes}, _LISTEN)


def test_no_hostname_means_no_shared_proxy():
    assert parse() is None
    assert parse(tls="off") is None


def test_names_are_lowercased_with_optional_path_prefixes():
    proxy = parse(hostname="App.Example.com\nexample.com/api/, b.test.")
    assert [str(n) for n in proxy.names] == ["app.example.com", "example.com/api", "b.test"]
    assert proxy.tls == "acme" and proxy.tls_listen == ":443"


@pytest.mark.parametrize(
    "value, message",
    [
        ("localhost", "expected a DNS name"),  # one label: no certificate can name it
        ("127.0.0.2", "expected a DNS name"),
        ("*.example.com", "expected a DNS name"),
        ("app.example.com:8080", "expected a DNS name"),
        ("bücher.example", "expected a DNS name"),
        ("-x.example.com", "expected a DNS name"),
        ("a" * 64 + ".example.com", "expected a DNS name"),
        ("example.com/a b", "expected a path prefix"),
        ("example.com/a?b", "expected a path prefix"),
        ("example.com/../x", "expected a path prefix"),
        ("a.test, A.test", "listed twice"),
    ],
)
def test_bad_names_are_refused_with_one_line(value, message):
    with pytest.raises(UsageError, match=message) as caught:
        parse(hostname=value)
    assert "\n" not in str(caught.value) and caught.value.input == "hostname"


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"tls": "on"}, "tls"),
        ({"acme-ca": "http://ca.example/directory"}, "acme-ca"),
        ({"acme-email": "not an address"}, "acme-email"),
        ({"proxy-tls-listen": "443"}, "proxy-tls-listen"),
        ({"hostname": "", "tls": "internal"}, "tls"),
    ],
)
def test_bad_tls_settings_are_refused(changes, name):
    with pytest.raises(UsageError) as caught:
        parse(**{"hostname": "a.test", **changes})
    assert caught.value.input == name


def test_longer_prefixes_route_first_whatever_app_they_belong_to():
    api = host_proxy.route_lines(parse(hostname="example.com/api/v2"))
    site = host_proxy.route_lines(parse(hostname="example.com"))
    lines = sorted([*api.splitlines(), *site.splitlines()])  # how the host sorts every app's lines
    first = json.loads(lines[0].split("\t", 1)[1])
    assert first["match"] == [{"host": ["example.com"], "path": ["/api/v2", "/api/v2/*"]}]
    assert first["handle"][0]["routes"][-1]["handle"][0]["upstreams"] == [{"dial": "{file./config/apps/%APP%/live}"}]
    assert json.loads(lines[1].split("\t", 1)[1])["match"] == [{"host": ["example.com"]}]


def test_front_asks_itself_which_names_may_get_a_certificate_and_redirects_to_https():
    proxy = parse(hostname="a.test", tls="internal", **{"proxy-tls-listen": "127.0.0.2:8443"})
    config = json.loads(host_proxy.front_config(proxy, "127.0.0.2:8080", 30))
    tls = config["apps"]["tls"]["automation"]
    (policy,) = tls["policies"]
    assert policy["issuers"] == [{"module": "internal"}] and policy["on_demand"] is True
    # certificates from secrets first (a 204 hands the name back to the issuer)
    assert policy["get_certificate"] == [{"via": "http", "url": f"http://127.0.0.2:8080{host_proxy.CERTIFICATE_PATH}"}]
    assert tls["on_demand"]["permission"]["endpoint"] == f"http://127.0.0.2:8080{host_proxy.ALLOWED_PATH}"
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    servers = config["apps"]["http"]["servers"]
    assert servers["https"]["listen"] == ["127.0.0.2:8443"] and servers["http"]["listen"] == ["127.0.0.2:8080"]
    routes = servers["http"]["routes"]
    for asked in routes[:2]:  # answered only to the front itself: one holds private keys
        assert asked["match"][0]["remote_ip"] == {"ranges": ["127.0.0.2/32", "127.0.0.1/32", "::1/128"]}
    redirect = routes[2]["handle"][0]
    assert redirect["headers"]["Location"] == ["https://{http.request.host}:8443{http.request.uri}"]
    for server in servers.values():  # never a route of its own: every request goes to the router
        assert server["routes"][-1]["handle"][0]["upstreams"] == [{"dial": "{file./config/router}"}]


def test_acme_settings_and_the_standard_port():
    proxy = parse(hostname="a.example.com", **{"acme-ca": "https://acme.test/dir", "acme-email": "ops@example.com"})
    config = json.loads(host_proxy.front_config(proxy, ":80", 30))
    issuer = config["apps"]["tls"]["automation"]["policies"][0]["issuers"][0]
    assert issuer == {"module": "acme", "ca": "https://acme.test/dir", "email": "ops@example.com"}
    redirect = config["apps"]["http"]["servers"]["http"]["routes"][2]["handle"][0]
    assert redirect["headers"]["Location"] == ["https://{http.request.host}{http.request.uri}"]
    assert config["apps"]["tls"]["automation"]["on_demand"]["permission"]["endpoint"].startswith("http://127.0.0.1:80/")
    assert "acme-ca=https://acme.test/dir" in host_proxy.settings(proxy, ":80")


@pytest.mark.parametrize(
    ("listen", "sockets"),
    [
        (":80", [":80", "tcp4/0.0.0.0:80"]),
        ("0.0.0.0:8080", ["0.0.0.0:8080", "tcp4/0.0.0.0:8080"]),
        ("[::]:8080", ["[::]:8080", "tcp4/0.0.0.0:8080"]),
        ("127.0.0.2:8080", ["127.0.0.2:8080"]),  # a specific address: no socket can outrank it
        ("[2001:db8::1]:80", ["[2001:db8::1]:80"]),
    ],
)
def test_on_a_wildcard_address_the_front_also_binds_ipv4_so_it_takes_new_ipv4_connections_first(listen, sockets):
    config = json.loads(host_proxy.front_config(parse(hostname="a.test", tls="off"), listen, 30))
    assert config["apps"]["http"]["servers"]["http"]["listen"] == sockets


def _function(name: str) -> str:
    """One shell function of compose/host_proxy.sh, to run alone."""
    text = (ROOT / "python/deploy_actions/compose/host_proxy.sh").read_text()
    return re.search(rf"^{name}\(\) {{.*?^}}$", text, re.S | re.M).group(0)


@pytest.mark.parametrize(
    ("address", "want", "bound"),
    [
        (":80", 3, True),  # the own proxy's dual-stack socket, the front's and the front's IPv4 one
        ("0.0.0.0:80", 3, True),  # Go binds 0.0.0.0 as a dual-stack socket too: ss shows *:80
        ("[::]:80", 3, True),
        (":80", 4, False),
        ("127.0.0.2:80", 2, False),  # only one socket on that very address
        ("127.0.0.2:80", 1, True),
    ],
)
def test_the_hand_over_counts_the_sockets_on_the_own_proxys_address(tmp_path, address, want, bound):
    (tmp_path / "ss").write_text(
        "#!/bin/sh\nprintf '%s\\n' 'LISTEN 0 4096 *:80 *:*' 'LISTEN 0 4096 *:80 *:*' "
        "'LISTEN 0 4096 0.0.0.0:80 0.0.0.0:*' 'LISTEN 0 4096 127.0.0.2:80 0.0.0.0:*'\n"
    )
    (tmp_path / "ss").chmod(0o755)
    (tmp_path / "sleep").write_text("#!/bin/sh\n")  # no waiting out the 10 s when the count falls short
    (tmp_path / "sleep").chmod(0o755)
    script = _function("hp_bound") + '\nhp_bound "$1" "$2"'
    proc = subprocess.run(
        ["sh", "-c", script, "hp", address, str(want)],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        timeout=30,
    )
    assert (proc.returncode == 0) == bound, proc.stderr


def test_tls_off_serves_http_only():
    proxy = parse(hostname="a.test", tls="off")
    assert "https" not in json.loads(host_proxy.front_config(proxy, ":80", 30))["apps"]["http"]["servers"]


def _sync_script() -> str:
    text = (ROOT / "python/deploy_actions/compose/host_proxy.sh").read_text()
    return re.search(r"^HP_SYNC='(.*?)'$", text, re.S | re.M).group(1)


def _caddy_validates(config: str, tmp_path) -> None:
    caddy = shutil.which("caddy", path=str(ROOT / ".venv/bin"))
    if not caddy:
        pytest.skip("no caddy in .venv (scripts/dev-env installs it)")
    (tmp_path / "c.json").write_text(config)
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([caddy, "validate", "--config", str(tmp_path / "c.json")], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_router_the_host_assembles_from_every_app_is_a_config_caddy_accepts(tmp_path):
    """compose/host_proxy.sh's HP_SYNC, run with sh on a copy of the volume's layout."""
    volume = tmp_path / "config"
    for app, names in (("site", "example.com"), ("api", "example.com/api\napi.example.com")):
        (volume / "apps" / app).mkdir(parents=True)
        (volume / "apps" / app / "names").write_text(names + "\n")
        (volume / "apps" / app / "tls").write_text("on\n")
        lines = host_proxy.route_lines(parse(hostname=names)).replace(host_proxy.APP_TOKEN, app)
        (volume / "apps" / app / "routes").write_text(lines + "\n")
    (volume / "apps" / "site" / "live").write_text("127.0.0.1:20001")
    (volume / "allowed").mkdir()
    (volume / "allowed" / "gone.example.com").write_text("")  # a name no app claims any more
    script = _sync_script().replace("/config", str(volume))
    subprocess.run(["sh", "-c", script, "hp", "127.0.0.1:20180", "30"], check=True, capture_output=True)
    assert sorted(p.name for p in (volume / "allowed").iterdir()) == ["api.example.com", "example.com"]
    config = (volume / "routers" / "next.json").read_text()
    routes = json.loads(config)["apps"]["http"]["servers"]["router"]["routes"]
    assert [r["match"][0] for r in routes[:-1]] == [
        {"host": [host_proxy.HEALTH_HOST]},
        {"host": ["example.com"], "path": ["/api", "/api/*"]},  # the prefix before the bare name
        {"host": ["api.example.com"]},
        {"host": ["example.com"]},
    ]
    held, to_live = routes[2]["handle"][0]["routes"]  # a paused app's requests wait; else the live copy
    assert to_live["handle"][0]["upstreams"] == [{"dial": "{file./config/apps/api/live}"}]
    assert held["handle"][0]["upstreams"] == [{"dial": "{file./config/apps/api/gate}"}]
    assert "file./config/apps/api/until" in held["match"][0]["expression"]
    assert held["handle"][0]["load_balancing"]["try_duration"] == f"{host_proxy.PAUSE_LIMIT + 5}s"
    # an app routed before pauses existed gets its pause files: not paused, the gate at its live copy
    assert (volume / "apps" / "site" / "until").read_text() == "0"
    assert (volume / "apps" / "site" / "gate").read_text() == "127.0.0.1:20001"
    assert not (volume / "apps" / "api" / "until").exists()  # not routed yet (no live copy)
    _caddy_validates(config, tmp_path)


def test_the_front_config_is_one_caddy_accepts(tmp_path):
    proxy = parse(hostname="a.test", tls="internal", **{"proxy-tls-listen": "127.0.0.1:18443"})
    _caddy_validates(host_proxy.front_config(proxy, "127.0.0.1:18080", 30), tmp_path)


def test_a_certificate_from_secrets_is_checked_against_its_key_and_the_names(tmp_path):
    cert, key, _ = self_signed(tmp_path, "one", "a.test", "*.example.com")
    proxy = parse(hostname="a.test, app.example.com/api", **{"tls-certificate": cert, "tls-key": key})
    assert proxy.certificate.startswith("-----BEGIN CERTIFICATE-----") and key.strip() in proxy.certificate
    assert "PRIVATE KEY" not in repr(proxy)  # never in a log line by accident

    other_cert, other_key, _ = self_signed(tmp_path, "two", "a.test")
    cases = [
        ({"tls-certificate": cert, "tls-key": other_key}, "a.test", "tls-key", "does not belong"),
        ({"tls-certificate": "not a certificate", "tls-key": key}, "a.test", "tls-certificate", "expected a PEM"),
        ({"tls-certificate": cert, "tls-key": "secret-words"}, "a.test", "tls-key", "expected a PEM private key"),
        ({"tls-certificate": other_cert, "tls-key": other_key}, "b.test", "tls-certificate", "does not name b.test"),
        ({"tls-certificate": cert, "tls-key": key}, "a.b.example.com", "tls-certificate", "does not name"),
        ({"tls-certificate": cert}, "a.test", "tls-key", "without tls-key"),
        ({"tls-certificate": cert, "tls-key": key, "tls": "off"}, "a.test", "tls-certificate", "tls: off"),
    ]
    for changes, hostname, name, message in cases:
        with pytest.raises(UsageError, match=message) as caught:
            parse(hostname=hostname, **changes)
        assert caught.value.input == name
        assert key.strip().splitlines()[1] not in str(caught.value) and "secret-words" not in str(caught.value)
    assert not list(Path("/dev/shm").glob("deploy-actions-tls-*"))  # the key's files are gone


def test_hostname_needs_blue_green_and_its_own_ports():
    from deploy_actions.compose.settings import OPTIONS, parse_inputs

    base = {o.name: o.default for o in OPTIONS} | {
        "hosts": "deploy@127.0.0.2",
        "deploy-path": "/srv/app",
        "image-tag": "v1.0.0",
        "ssh-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----",
        "known-hosts": "127.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "ready-url": "http://{host}/ready",
        "hostname": "a.test",
    }
    cases = [
        ({"strategy": "recreate"}, "hostname", "strategy: blue-green"),
        ({"during-migration": "pause"}, "during-migration", "applies while migrate-command runs"),
        ({"during-migration": "stop", "migrate-command": "m"}, "during-migration", "expected one of serve, pause"),
        (
            {"during-migration": "maintenance", "migrate-command": "m", "hostname": ""},
            "during-migration",
            "set hostname",
        ),
        ({"pause-timeout": "2m"}, "pause-timeout", "whole seconds from 1s to 60s"),
        ({"proxy-tls-listen": ":80"}, "proxy-tls-listen", "cannot share :80"),
        ({"proxy-listen": "app.example.com:80"}, "proxy-listen", "an IP address"),
    ]
    for changes, name, message in cases:
        with pytest.raises(UsageError, match=message) as caught:
            parse_inputs({**base, **changes}, env={})
        assert caught.value.input == name
    assert parse_inputs(base, env={}).host_proxy.names[0].host == "a.test"
    paused = parse_inputs({**base, "during-migration": "pause", "migrate-command": "m", "pause-timeout": "5"}, env={})
    assert (paused.during_migration, paused.pause_timeout) == ("pause", 5)


def _observe(log: Path, since_ms: int, port: str) -> str:
    """compose/host_proxy.sh's HP_OBSERVE on a copy of the router's access log, run by busybox's
    sh, awk and sort as in the proxy image (its awk has no maths built in)."""
    text = (ROOT / "python/deploy_actions/compose/host_proxy.sh").read_text()
    script = re.search(r"^HP_OBSERVE='(.*?)'$", text, re.S | re.M).group(1).replace("/logs/access.log", str(log))
    tools = log.parent / "busybox-bin"
    tools.mkdir(exist_ok=True)
    for tool in ("sh", "awk", "sort"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to("/bin/busybox")
    proc = subprocess.run(
        [str(tools / "sh"), "-c", script, "hp", str(since_ms), port],
        env={"PATH": str(tools)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _at_least(n: int) -> list[float]:
    """P(Bin(n, 0.95) >= k) for k = 0..n: the chance that p95 is at or above the k-th fastest."""
    tails, total = [0.0] * (n + 2), 0.0
    for k in range(n, -1, -1):
        log_pmf = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        total += math.exp(log_pmf + k * math.log(0.95) + (n - k) * math.log(0.05))
        tails[k] = total
    return tails


@pytest.mark.parametrize("n", [10, 50, 172, 1505, 6000])
def test_the_host_reports_p95_and_the_bound_it_lies_above_with_99_percent_confidence(tmp_path, n):
    """Durations 1..n ms in a shuffled log, beside another copy's requests and older ones."""
    durations = list(range(1, n + 1))
    random.Random(n).shuffle(durations)
    entry = '{{"level":"info","ts":{ts},"logger":"http.log.access.canary","duration":{d},"status":{s},"copy":"{c}"}}\n'
    lines = [entry.format(ts=1000.5, d=d / 1000, s=500 if d % 10 == 0 else 200, c="8001") for d in durations]
    lines += [entry.format(ts=999.9, d=9.9, s=500, c="8001"), entry.format(ts=1001, d=9.9, s=500, c="8002")]
    random.Random(0).shuffle(lines)
    (tmp_path / "access.log").write_text("".join(lines))
    requests, errors, p95, low = _observe(tmp_path / "access.log", 1_000_000, "8001").split(",")
    assert (int(requests), int(errors), float(p95)) == (n, n // 10, math.ceil(0.95 * n))
    rank = int(float(low))  # duration r ms is the r-th fastest
    tails = _at_least(n)
    best = max(k for k in range(1, n + 1) if tails[k] >= 0.99)  # the exact binomial rank
    assert abs(rank - best) <= 1 and tails[rank] >= 0.985, (rank, best)


def test_the_host_reports_an_empty_window_as_zeros(tmp_path):
    assert _observe(tmp_path / "access.log", 0, "8001") == "0,0,0,0"
    (tmp_path / "access.log").write_text('{"ts":1,"duration":0.01,"status":200,"copy":"8002"}\n')
    assert _observe(tmp_path / "access.log", 0, "8001") == "0,0,0,0"
