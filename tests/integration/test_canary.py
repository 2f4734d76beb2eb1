"""strategy: canary on a real sshd host with its own engine, behind the host's shared proxy
(Caddy) over HTTPS: users at 160 requests a second on an endpoint that takes 20 ms, the share
each copy gets, the cookie that keeps a user on one copy, and a bad canary stopped by what the
proxy measured — never by the app."""

import re
import threading
import time
from pathlib import Path

import pytest

from deploy_support import (
    COMPOSE_SHARED,
    LoadClient,
    SharedProxy,
    Target,
    deploy,
    named_connection,
    named_headers,
    succeeded,
)

pytestmark = pytest.mark.services

ONE = "127.0.0.2"
WORK = "/cgi-bin/work"


@pytest.fixture
def app(services, web_repo, tmp_path):
    target = Target(services, web_repo, addrs=[ONE], compose=COMPOSE_SHARED)
    host = SharedProxy(services, tmp_path)
    yield host, target
    target.down()
    host.down(target)


def canary_args(host: SharedProxy, target: Target, name: str, *extra: str) -> list[str]:
    return [
        *host.args(target, name),
        "--strategy",
        "canary",
        "--canary-steps",
        "10%,50%",
        "--canary-interval",
        "10s",
        *extra,
    ]


def run(target, gha_env, capsys, tag, args):
    return deploy(target, gha_env, capsys, tag, *args, hosts=target.hosts(ONE))


def users(host: SharedProxy, name: str, cafile: str) -> LoadClient:
    """HTTPS users at 160 requests a second on kept connections (no cookie: each request is
    one new visitor to the proxy). New connections cost a TLS handshake in Python each, and
    with the endpoint's CGI two cores then peaked at 135 a second."""
    return LoadClient(host.url(name, WORK), rate=160, threads=16, connect_to=ONE, cafile=cafile, keep_alive=True)


def visit(url: str, cafile: str, cookie: str = "") -> tuple[int, str, str]:
    """One request as a browser would make it: (status, body, the cookie it was given or kept)."""
    conn = named_connection(url, ONE, cafile)
    conn.request("GET", WORK, headers={**named_headers(url), **({"Cookie": cookie} if cookie else {})})
    resp = conn.getresponse()
    body = resp.read().decode()
    given = (resp.getheader("Set-Cookie") or "").split(";")[0]
    conn.close()
    return resp.status, body, given or cookie


def test_a_healthy_canary_gets_its_share_keeps_its_users_and_goes_to_everyone(app, gha_env, capsys):
    host, target = app
    name = host.name("a")
    succeeded(run(target, gha_env, capsys, "v1.0.0", host.args(target, name)))
    cafile = host.trust(target)
    url = host.url(name, WORK)
    done: dict = {}
    deploying = threading.Thread(
        target=lambda: done.update(result=run(target, gha_env, capsys, "v1.1.0", canary_args(host, target, name)))
    )
    kept: dict[str, list[str]] = {}
    with users(host, name, cafile) as load:
        deploying.start()
        # once the canary serves: a user who reached each copy keeps a cookie, and stays there
        deadline = time.monotonic() + 60
        while len(kept) < 2 and time.monotonic() < deadline:
            status, body, cookie = visit(url, cafile)
            if status == 200 and body not in kept and any(b == "work v1.1.0" for _, _, b in load.answers):
                kept[body] = [visit(url, cafile, cookie)[1] for _ in range(20)]
        deploying.join()
    code, out, _ = done["result"]
    assert code == 0, out
    assert kept == {"work v1.0.0": ["work v1.0.0"] * 20, "work v1.1.0": ["work v1.1.0"] * 20}
    assert load.failed == [], load.failed[:3]
    answers = sorted(load.answers)
    first_new = next(t for t, _, body in answers if body == "work v1.1.0")
    step = [body for t, _, body in answers if first_new <= t < first_new + 9]  # inside the 10% step
    share = 100 * step.count("work v1.1.0") / len(step)
    assert 7 <= share <= 13, share
    assert answers[-1][2] == "work v1.1.0" and load.bodies()[-1] == "work v1.1.0"
    assert len(load.answers) / load.seconds() >= 150
    # the summary says what the proxy measured at each step; the old copy is kept (stopped)
    assert "10% step passed" in out and "50% step passed" in out, out
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert re.search(r"\| 10% \| .* \| ✅ passed \| \d+ req, 0 failed, p95 \d+", summary), summary
    assert target.docker(
        ONE, "ps", "-aq", "--filter", f"label=com.docker.compose.project={target.name}-blue"
    ).stdout.strip()
    assert host.get(host.url(name), cafile)[:2] == (200, "v1.1.0")


def test_a_canary_failing_one_request_in_twenty_is_stopped_at_its_first_step(app, gha_env, capsys):
    host, target = app
    name = host.name("a")
    succeeded(run(target, gha_env, capsys, "v1.0.0", host.args(target, name)))
    cafile = host.trust(target)
    with users(host, name, cafile) as load:
        time.sleep(0.5)
        code, out, outputs = run(target, gha_env, capsys, "v6.0.0-rc.1", canary_args(host, target, name))
        time.sleep(1)
    assert code == 1 and outputs["rolled-back"] == "true", out
    assert "10% step FAILED: the new copy failed" in out and "failed at canary" in out, out
    assert "50% step" not in out
    # the live copy answered every request that reached it; nothing failed to connect
    assert {a[1] for a in load.answers if a[2] != "failed v6.0.0-rc.1"} == {200}
    assert all(body in ("work v1.0.0", "work v6.0.0-rc.1", "failed v6.0.0-rc.1") for _, _, body in load.answers)
    assert load.answers and sum(1 for a in load.answers if a[1] == 500) >= 3
    assert sorted(load.answers)[-1][2] == "work v1.0.0"
    # the canary is gone, and every user is on the live copy again
    assert not target.docker(
        ONE, "ps", "-q", "--filter", f"label=com.docker.compose.project={target.name}-green"
    ).stdout
    assert {visit(host.url(name, WORK), cafile)[1] for _ in range(10)} == {"work v1.0.0"}
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert re.search(r"\| 10% \| .* \| ❌ failed \| \d+ req, [1-9]\d* failed", summary), summary


def test_a_canary_three_times_slower_is_stopped(app, gha_env, capsys):
    """60 ms against 20 ms at the app; the proxy adds the same to both. Ratio 1.5 rather than the
    default 2: on two busy cores a few ms of scheduling noise land on both copies alike and
    shrink the ratio the proxy sees below the app's 3×."""
    host, target = app
    name = host.name("a")
    succeeded(run(target, gha_env, capsys, "v1.0.0", host.args(target, name)))
    cafile = host.trust(target)
    with users(host, name, cafile) as load:
        time.sleep(0.5)
        args = canary_args(host, target, name, "--canary-max-latency-ratio", "1.5")
        code, out, _ = run(target, gha_env, capsys, "v7.0.0-rc.1", args)
        time.sleep(0.5)
    assert code == 1 and "the new copy's p95 was" in out, out
    assert load.failed == [], load.failed[:3]
    assert sorted(load.answers)[-1][2] == "work v1.0.0"
