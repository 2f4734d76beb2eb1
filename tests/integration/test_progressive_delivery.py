"""Progressive delivery on a real sshd host with its own engine, behind the host's shared proxy
(Caddy) over HTTPS, users at 160 requests a second: strategy: canary (the share each copy
gets, the cookie that keeps a user on one copy, a bad canary stopped by what the proxy
measured — never by the app), and hold, then promote (from a new process, as another
workflow run would) or abort."""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT
from deploy_actions.compose import maintenance
from deploy_support import (
    COMPOSE_SHARED,
    LoadClient,
    SharedProxy,
    Target,
    deploy,
    succeeded,
    visit,
)

pytestmark = pytest.mark.services

ONE = "127.0.0.2"
WORK = "/cgi-bin/work"


@pytest.fixture
def live(services, web_repo, tmp_path, gha_env, capsys):
    """An app on the host's shared proxy by its name, v1.0.0 live: (proxy, app, name, the root
    its clients trust)."""
    target = Target(services, web_repo, addrs=[ONE], compose=COMPOSE_SHARED)
    host = SharedProxy(services, tmp_path)
    try:
        name = host.name("a")
        succeeded(run(target, gha_env, capsys, "v1.0.0", host.args(target, name)))
        yield host, target, name, host.trust(target)
    finally:
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


def stay(url: str, cafile: str, cookie: str) -> list[str]:
    """A user's next 20 visits with its cookie, at a person's pace: back to back they would be
    20 TLS handshakes in a burst on two cores, and on the new copy every one of them falls in
    the small sample its step is judged on."""
    bodies = []
    for _ in range(20):
        time.sleep(0.1)
        bodies.append(visit(url, ONE, cafile, cookie)[1])
    return bodies


def test_a_healthy_canary_gets_its_share_keeps_its_users_and_goes_to_everyone(live, gha_env, capsys):
    host, target, name, cafile = live
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
            status, body, cookie = visit(url, ONE, cafile)
            if status == 200 and body not in kept and any(b == "work v1.1.0" for _, _, b in load.answers):
                kept[body] = stay(url, cafile, cookie)
            time.sleep(0.05)
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
    assert re.search(r"\| 10% \| .* \| ✅ passed \| \d+ req, 0 failed, p95 [\d.]+ ms \(≥ [\d.]+ ms", summary), summary
    assert target.docker(
        ONE, "ps", "-aq", "--filter", f"label=com.docker.compose.project={target.name}-blue"
    ).stdout.strip()
    assert host.get(host.url(name), cafile)[:2] == (200, "v1.1.0")


def test_a_canary_failing_one_request_in_twenty_is_stopped_at_its_first_step(live, gha_env, capsys):
    host, target, name, cafile = live
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
    assert {visit(host.url(name, WORK), ONE, cafile)[1] for _ in range(10)} == {"work v1.0.0"}
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert re.search(r"\| 10% \| .* \| ❌ failed \| \d+ req, [1-9]\d* failed", summary), summary


def test_a_canary_three_times_slower_is_stopped(live, gha_env, capsys):
    """60 ms against 20 ms at the app; the proxy adds the same to both. Ratio 1.5 rather than the
    default 2: on two busy cores a few ms of scheduling noise land on both copies alike and
    shrink the ratio the proxy sees below the app's 3×."""
    host, target, name, cafile = live
    with users(host, name, cafile) as load:
        time.sleep(0.5)
        args = canary_args(host, target, name, "--canary-max-latency-ratio", "1.5")
        code, out, _ = run(target, gha_env, capsys, "v7.0.0-rc.1", args)
        time.sleep(0.5)
    assert code == 1 and "the new copy's p95 was" in out, out
    assert load.failed == [], load.failed[:3]
    assert sorted(load.answers)[-1][2] == "work v1.0.0"


# -- hold, then promote or abort ---------------------------------------------------------
def reach(host: SharedProxy, target: Target, name: str) -> list[str]:
    """The deploy's inputs promote and abort take too (no strategy, tag or steps)."""
    args = host.args(target, name)
    i = args.index("--strategy")
    return args[:i] + args[i + 2 :]


def decide(target: Target, decision: str, args: list[str]) -> tuple[int, dict]:
    """`deploy-actions <decision> --json` as a process of its own, as a later run would be."""
    services = target.services
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(PYTHONPATH=str(ROOT / "python"), INPUT_SSH_KEY=Path(services["DA_SSH_KEY"]).read_text())
    argv = [sys.executable, "-m", "deploy_actions", "--json", decision, "--hosts", target.hosts(ONE)]
    argv += ["--deploy-path", target.path, "--known-hosts", Path(services["DA_SSH_KNOWN_HOSTS"]).read_text(), *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, json.loads(done.stdout)


def status(target: Target, gha_env, capsys) -> dict:
    from deploy_actions.cli import main

    services = target.services
    argv = ["--json", "deploy-status", "--strategy", "blue-green", "--hosts", target.hosts(ONE)]
    argv += ["--deploy-path", target.path, "--known-hosts", Path(services["DA_SSH_KNOWN_HOSTS"]).read_text()]
    code = main(argv, env={**gha_env, "INPUT_SSH_KEY": Path(services["DA_SSH_KEY"]).read_text()})
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)["hosts"][0]["blue_green"]


def test_a_held_canary_keeps_its_share_until_promoted_from_another_process(live, gha_env, capsys):
    host, target, name, cafile = live
    canary = ["--strategy", "canary", "--canary-steps", "10%", "--canary-interval", "10s", "--hold"]
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        code, out, outputs = run(target, gha_env, capsys, "v1.1.0", [*host.args(target, name), *canary])
        assert code == 0 and outputs["held-tag"] == "v1.1.0" and outputs["deployed-tag"] == "", out
        assert "v1.1.0 is held on 1 host" in out
        copies = status(target, gha_env, capsys)
        assert copies["held"]["tag"] == "v1.1.0" and copies["live"]["tag"] == "v1.0.0"
        assert copies["proxy_routes"][0]["canary"] == "10%"
        # the deploy's process is gone; users still get the last step's share
        held_since = time.monotonic()
        time.sleep(3)
        code, doc = decide(target, "promote", reach(host, target, name))
        time.sleep(1)
    assert code == 0 and doc["ok"] and doc["tag"] == "v1.1.0", doc
    during = [body for started, _, body in load.answers if held_since <= started < held_since + 3]
    share = 100 * during.count("v1.1.0") / len(during)
    assert 5 <= share <= 15, share
    assert load.failed == [], load.failed[:3]
    assert sorted(load.answers)[-1][2] == "v1.1.0"
    copies = status(target, gha_env, capsys)
    assert copies["held"] is None and copies["live"]["tag"] == "v1.1.0" and copies["standby"]["tag"] == "v1.0.0"
    assert "canary" not in copies["proxy_routes"][0]
    # nothing is held now: a second promote is refused and changes nothing
    code, doc = decide(target, "promote", reach(host, target, name))
    assert code == 2 and "held now: deploy@127.0.0.2:2222: nothing" in doc["failure"], doc


def test_a_held_release_is_never_seen_and_abort_removes_it(live, gha_env, capsys):
    host, target, name, cafile = live
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        code, out, outputs = run(target, gha_env, capsys, "v1.1.0", [*host.args(target, name), "--hold"])
        assert code == 0 and outputs["held-tag"] == "v1.1.0", out
        code, doc = decide(target, "abort", reach(host, target, name))
        time.sleep(0.5)
    assert code == 0 and doc["hosts"][0]["state"] == "aborted", doc
    assert load.failed == [] and load.bodies() == ["v1.0.0"]  # held, then gone: no user saw it
    held = target.docker(ONE, "ps", "-aq", "--filter", f"label=com.docker.compose.project={target.name}-green")
    assert held.stdout.strip() == ""
    assert status(target, gha_env, capsys)["held"] is None


# -- maintenance mode ----------------------------------------------------------------------
def test_maintenance_answers_503_with_the_page_and_off_serves_the_app_again(live, gha_env, capsys, tmp_path):
    host, target, name, cafile = live
    page = tmp_path / "down.html"
    page.write_text("<h1>back soon</h1>\n")
    reach_args = reach(host, target, name)
    on = [*reach_args, "--state", "on", "--retry-after", "120", "--maintenance-page", str(page)]
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        time.sleep(0.5)
        code, doc = decide(target, "maintenance", on)
        assert code == 0 and doc["state"] == "on", doc
        since = time.monotonic()
        time.sleep(2)
        status_code, body, headers = host.get(host.url(name), cafile)
        routes = status(target, gha_env, capsys)["proxy_routes"]
        refused = decide(target, "pause", [*reach_args, "--state", "on"])
        code, doc = decide(target, "maintenance", [*reach_args, "--state", "off"])
        assert code == 0 and doc["state"] == "off", doc
        time.sleep(1)
    assert (status_code, body, headers["Retry-After"]) == (503, "<h1>back soon</h1>\n", "120")
    assert routes[0]["maintenance"] == "on"
    assert refused[0] == 2 and "is in maintenance" in refused[1]["hosts"][0]["result"], refused
    during = [(code, text) for started, code, text in load.answers if since <= started < since + 2]
    assert during and set(during) == {(503, "<h1>back soon</h1>\n")}  # the proxy answered; the app got none
    assert {a[1] for a in load.answers} <= {200, 503}  # no connection failed while it changed
    assert sorted(load.answers)[-1][1:] == (200, "v1.0.0")
    assert "maintenance" not in status(target, gha_env, capsys)["proxy_routes"][0]


# -- pause -----------------------------------------------------------------------------------
def paused_users(host: SharedProxy, name: str, cafile: str) -> LoadClient:
    """Users at 160 requests a second, each waiting on one request while a pause lasts. Eight:
    the requests a pause held reach the app together when it ends, and the test app's server
    (busybox httpd) listens with a backlog of 9 — with 32, connections beyond it were reset
    (502) or made on the SYN sent again a second later."""
    return LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True, timeout=15)


def test_a_pause_holds_every_request_at_the_proxy_and_lets_them_all_through_after_it(live, gha_env, capsys):
    host, target, name, cafile = live
    reach_args = reach(host, target, name)
    to_monotonic = time.time() - time.monotonic()  # the hosts' clock is this machine's
    with paused_users(host, name, cafile) as load:
        time.sleep(0.5)
        code, doc = decide(target, "pause", [*reach_args, "--state", "on", "--pause-timeout", "5s"])
        assert code == 0 and doc["hosts"][0]["state"] == "on", doc
        first_end = int(doc["hosts"][0]["until"]) / 1000 - to_monotonic
        time.sleep(max(0.0, first_end + 1 - time.monotonic()))  # it ends by itself
        code, doc = decide(target, "pause", [*reach_args, "--state", "on", "--pause-timeout", "30s"])
        assert code == 0, doc
        second_start = int(doc["hosts"][0]["until"]) / 1000 - to_monotonic - 30
        routes = status(target, gha_env, capsys)["proxy_routes"]
        time.sleep(1)
        ending = time.monotonic()
        code, doc = decide(target, "pause", [*reach_args, "--state", "off"])
        ended = time.monotonic()
        assert code == 0 and doc["hosts"][0]["state"] == "off", doc
        time.sleep(1)
    assert load.failed == [] and load.bodies() == ["v1.0.0"], load.failed[:3]
    assert routes[0]["paused"].endswith("s") and 25 <= int(routes[0]["paused"][:-1]) <= 30, routes
    # Every request that started while a pause lasted (one per user: each then waits) was
    # answered after its end, and soon after. The host set the deadline (`start` + the pause)
    # before it wrote it: allow that write 0.4 s.
    for start, end, last in ((first_end - 5, first_end, first_end), (second_start, ending, ended)):
        during = [(began, began + took) for began, took in load.latencies if start <= began < end - 0.1]
        assert not [b for b, done in during if b >= start + 0.4 and done < end], (start, end, during)
        waited = sorted(done for _, done in during if done >= end)
        assert len(waited) >= 6, (start, end, during)
        assert waited[len(waited) // 2] <= last + 0.3 and waited[-1] <= last + 1, (start, end, waited)
    assert "paused" not in status(target, gha_env, capsys)["proxy_routes"][0]


# -- around a blocking migration -------------------------------------------------------------
def test_a_migration_with_users_paused_fails_none_of_them(live, gha_env, capsys):
    """during-migration: pause — a migration that blocks what the app reads for 3 s (here a
    sleep): the users' requests wait at the proxy meanwhile, and every one is answered."""
    host, target, name, cafile = live
    migrate = ["--migrate-command", "sleep 3", "--during-migration", "pause"]
    with paused_users(host, name, cafile) as load:
        time.sleep(0.5)
        code, out, outputs = run(target, gha_env, capsys, "v1.1.0", [*host.args(target, name), *migrate])
        time.sleep(0.5)
    assert code == 0 and outputs["deployed-tag"] == "v1.1.0", out
    assert load.failed == [] and load.bodies() == ["v1.0.0", "v1.1.0"], load.failed[:3]
    waited = [took for _, took in load.latencies if took >= 2.5]
    assert len(waited) >= 6 and max(waited) < 10, sorted(waited)  # at most the pause (10 s), ended with it
    assert "paused" not in status(target, gha_env, capsys)["proxy_routes"][0]


def test_a_first_deploy_has_no_users_to_pause(services, web_repo, tmp_path, gha_env, capsys):
    target = Target(services, web_repo, addrs=[ONE], compose=COMPOSE_SHARED)
    host = SharedProxy(services, tmp_path)
    try:
        name = host.name("a")
        migrate = ["--migrate-command", "true", "--during-migration", "pause"]
        code, out, outputs = run(target, gha_env, capsys, "v1.0.0", [*host.args(target, name), *migrate])
        assert code == 0 and outputs["deployed-tag"] == "v1.0.0", out
        assert host.get(host.url(name), host.trust(target))[:2] == (200, "v1.0.0")
    finally:
        target.down()
        host.down(target)


def test_a_migration_in_maintenance_answers_503_meanwhile(live, gha_env, capsys):
    host, target, name, cafile = live
    migrate = ["--migrate-command", "sleep 3", "--during-migration", "maintenance", "--pause-timeout", "5s"]
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        time.sleep(0.5)
        code, out, outputs = run(target, gha_env, capsys, "v1.1.0", [*host.args(target, name), *migrate])
        time.sleep(0.5)
    assert code == 0 and outputs["deployed-tag"] == "v1.1.0", out
    answers = [(status_code, body) for _, status_code, body in sorted(load.answers)]
    down = [a for a in answers if a[0] == 503]
    assert len(down) >= 100 and set(down) == {(503, maintenance.TEXT)}, down[:3]  # 3 s at 160 a second
    assert {a[0] for a in answers} == {200, 503} and answers[-1] == (200, "v1.1.0")
    assert "maintenance" not in status(target, gha_env, capsys)["proxy_routes"][0]
