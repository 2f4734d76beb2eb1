"""ssh-compose-deploy's blue-green strategy on the two sshd hosts, the real engine and a real
Caddy proxy per host: users (a client at over 100 requests a second) never see a failed
request, a release that is not ready never answers a user, rollback is a switch."""

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deploy_support import COMPOSE_BLUE_GREEN, LoadClient, Target, deploy, deploy_process, states, succeeded

pytestmark = pytest.mark.services

ONE = "127.0.0.2"


@pytest.fixture
def target(services, web_repo):
    made = Target(services, web_repo, compose=COMPOSE_BLUE_GREEN)
    yield made
    made.down()


def bg(target, gha_env, capsys, tag, *args, hosts=None, **kwargs):
    return deploy(
        target,
        gha_env,
        capsys,
        tag,
        *target.blue_green_args(*args),
        hosts=hosts if hosts is not None else target.hosts(ONE),
        **kwargs,
    )


def users(target, addr=ONE, path="/version", **kwargs):
    return LoadClient(f"http://{addr}:{target.port}{path}", **kwargs)


def proxy(target) -> str:
    return f"{target.name}-proxy"


def test_good_release_under_load_drops_nothing_and_changes_version_once(target, gha_env, capsys):
    code, out, outputs = bg(target, gha_env, capsys, "v1.0.0")
    assert code == 0, out
    assert target.version(ONE) == "v1.0.0"
    migrate = f'echo "migrated to $IMAGE_TAG" >> {target.path}/migrations.log'
    with users(target) as load:
        time.sleep(0.5)
        code, out, outputs = bg(target, gha_env, capsys, "v1.1.0", "--migrate-command", migrate)
        time.sleep(0.5)
    assert code == 0, out
    assert (target.dirs[ONE] / "migrations.log").read_text() == "migrated to v1.1.0\n"  # once, before the switch
    assert load.rate * load.seconds() * 0.6 < len(load.answers), "the client did not keep its rate"
    assert len(load.answers) / load.seconds() >= 100
    assert load.failed == []
    assert load.bodies() == ["v1.0.0", "v1.1.0"]
    host = json.loads(outputs["hosts"])[0]
    assert host["state"] == "deployed" and host["previous"] == "v1.0.0"
    # the old copy is stopped but kept: a rollback needs no pull
    stopped = target.docker(
        ONE,
        "ps",
        "-a",
        "--filter",
        "status=exited",
        "--filter",
        f"label=com.docker.compose.project={target.name}-blue",
        "--format",
        "{{.Image}}",
    ).stdout.split()
    assert stopped and stopped[0].endswith(":v1.0.0")


def test_release_that_never_gets_ready_never_serves_a_user(target, gha_env, capsys):
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    with users(target) as load:
        code, out, outputs = bg(target, gha_env, capsys, "v2.0.0-rc.1")
    assert code == 1
    assert load.failed == [] and len(load.answers) > 100
    assert set(load.bodies()) == {"v1.0.0"}
    assert "GET /ready → wrong-status: did not answer 200" in out and "the new copy failed before any switch" in out
    assert "did not answer 200" in next(line for line in out.splitlines() if "; body: " in line)  # /ready's reason
    assert out.count("::error ") == 1  # the failed gate is the deploy's failure, annotated once
    assert states(outputs) == {ONE: "rejected"}
    assert target.version(ONE) == "v1.0.0"
    assert [row[1:5] for row in target.history(ONE)][-1] == ["deploy", "v2.0.0-rc.1", "v1.0.0", "rejected-gate"]
    # the new copy is gone, the live one untouched
    green = target.docker(ONE, "ps", "-aq", "--filter", f"label=com.docker.compose.project={target.name}-green")
    green = green.stdout.split()
    assert green == []


def test_a_long_request_in_flight_during_the_switch_completes(target, gha_env, capsys):
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    import threading
    import urllib.request

    answer = {}

    def slow():
        with urllib.request.urlopen(f"http://{ONE}:{target.port}/cgi-bin/slow", timeout=20) as resp:
            answer["status"], answer["body"] = resp.status, resp.read().decode()

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    code, out, _ = bg(target, gha_env, capsys, "v1.1.0")
    thread.join()
    assert code == 0, out
    assert answer == {"status": 200, "body": "slow v1.0.0"}  # served to the end by the old copy
    assert target.version(ONE) == "v1.1.0"


def test_smoke_failing_only_through_the_proxy_switches_back(target, gha_env, capsys, tmp_path):
    spec = tmp_path / "smoke.yml"
    spec.write_text("calls:\n  - name: check\n    path: /cgi-bin/check\n    expect:\n      status: 200\n")
    succeeded(bg(target, gha_env, capsys, "v1.0.0", "--smoke-spec", str(spec)))
    with users(target) as load:
        code, out, outputs = bg(target, gha_env, capsys, "v4.0.0-rc.1", "--smoke-spec", str(spec))
    assert code == 1
    assert "through the proxy" in out
    assert out.count("::error ") == 1
    assert states(outputs) == {ONE: "rolled-back"}
    assert load.failed == []
    assert target.version(ONE) == "v1.0.0"
    assert [row[1] for row in target.history(ONE)][-2:] == ["switch", "rollback"]


def test_second_host_failing_leaves_both_on_the_old_release(target, gha_env, capsys):
    both = target.hosts()
    succeeded(bg(target, gha_env, capsys, "v1.0.0", hosts=both))
    code, out, outputs = bg(target, gha_env, capsys, "v3.0.0-rc.1", hosts=both)
    assert code == 1
    assert states(outputs) == {"127.0.0.2": "rolled-back", "127.0.0.3": "rejected"}
    assert {a: target.version(a) for a in target.addrs} == {"127.0.0.2": "v1.0.0", "127.0.0.3": "v1.0.0"}


def test_proxy_restart_keeps_serving_the_live_copy_and_the_next_deploy_works(target, gha_env, capsys):
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    succeeded(bg(target, gha_env, capsys, "v1.1.0"))
    target.docker(ONE, "restart", "-t", "1", proxy(target), check=True)
    deadline = time.monotonic() + 10
    while target.version(ONE).startswith("down") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.version(ONE) == "v1.1.0"  # its config survived the restart
    stopped = target.docker(ONE, "inspect", "-f", "{{.Id}}", proxy(target), check=True).stdout
    target.docker(ONE, "stop", "-t", "1", proxy(target), check=True)
    code, out, _ = bg(target, gha_env, capsys, "v1.0.0")  # a stopped proxy serves nobody: made again
    assert code == 0, out
    assert target.version(ONE) == "v1.0.0"
    made = target.docker(ONE, "inspect", "-f", "{{.Id}} {{.Config.Image}}", proxy(target), check=True).stdout.split()
    assert made[0] != stopped.strip() and made[1] == target.services["DA_PROXY_IMAGE"]  # from the checked image


def test_rollback_is_a_switch_to_the_kept_copy(target, gha_env, capsys):
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    succeeded(bg(target, gha_env, capsys, "v1.1.0"))
    with users(target) as load:
        code, out, outputs = bg(target, gha_env, capsys, "v1.0.0")
    assert code == 0, out
    assert "standby copy blue already holds v1.0.0: no pull" in out
    assert load.failed == [] and load.bodies() == ["v1.1.0", "v1.0.0"]


def test_thirty_switches_under_load_drop_nothing_new_or_kept_alive_connections(target, gha_env, capsys):
    """The switch rewrites the file Caddy reads per request: no reload, so neither a client
    opening a connection per request nor one reusing its connections ever sees an error."""
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    succeeded(bg(target, gha_env, capsys, "v1.1.0"))
    with users(target, rate=90) as fresh, users(target, rate=90, keep_alive=True) as kept:
        for i in range(30):
            succeeded(bg(target, gha_env, capsys, "v1.0.0" if i % 2 == 0 else "v1.1.0"))
    for load in (fresh, kept):
        assert load.failed == [], load.failed[:5]
        assert len(load.answers) / load.seconds() >= 75, "the client did not keep its rate"
        assert len(load.bodies()) >= 25  # the versions alternated while it ran
    assert target.version(ONE) == "v1.1.0"
    assert sum(row[1] == "switch" for row in target.history(ONE)) == 32


def test_a_proxy_from_an_earlier_version_moves_to_the_live_file_without_a_failed_request(target, gha_env, capsys):
    """Proxies set up before the switch read /config/live name the port in their config; the
    first deploy after the upgrade reloads them once (a reload can cut a connection, so
    that one is not run under load here), and later ones never do."""
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    port = int(target.docker(ONE, "exec", proxy(target), "cat", "/config/live", check=True).stdout.rsplit(":", 1)[1])
    config = target.docker(ONE, "exec", proxy(target), "cat", "/config/caddy.json", check=True).stdout
    old = config.replace("{file./config/live}", f"{ONE}:{port}")
    script = "cat >/config/caddy.json && rm /config/live && caddy reload --config /config/caddy.json"
    target.docker(ONE, "exec", "-i", proxy(target), "sh", "-c", script, data=old, check=True)
    assert target.version(ONE) == "v1.0.0"
    code, out, _ = bg(target, gha_env, capsys, "v1.1.0")
    assert code == 0, out
    assert "moved to switching through /config/live (one reload" in out
    assert target.version(ONE) == "v1.1.0"
    with users(target, keep_alive=True) as load:
        later_code, later_out, _ = bg(target, gha_env, capsys, "v1.0.0")
    assert later_code == 0, later_out
    assert "moved to switching" not in later_out
    assert load.failed == [] and load.bodies() == ["v1.1.0", "v1.0.0"]


def test_a_proxy_image_with_caddy_before_2_7_is_refused(target, gha_env, capsys, tmp_path):
    old = f"{target.services['DA_REGISTRY']}/deploy-actions-test/caddy:2.6"  # pulled by the host
    (tmp_path / "caddy").write_text("#!/bin/sh\necho 'v2.6.2 h1:test'\n")
    (tmp_path / "caddy").chmod(0o755)
    (tmp_path / "Dockerfile").write_text(f"FROM {target.services['DA_PROXY_IMAGE']}\nCOPY caddy /usr/bin/caddy\n")
    subprocess.run(["docker", "build", "-q", "-t", old, str(tmp_path)], check=True, capture_output=True)
    subprocess.run(["docker", "push", "-q", old], check=True, capture_output=True)
    code, out, _ = bg(target, gha_env, capsys, "v1.0.0", "--proxy-image", old)
    assert code == 2, out
    assert f"proxy image {old} runs Caddy v2.6.2; blue-green needs Caddy 2.7 or later" in out and "::error" in out
    assert target.history(ONE) == []
    assert target.docker(ONE, "inspect", proxy(target)).returncode != 0


def test_two_deploys_at_once_take_turns(target, gha_env, capsys, services):
    """The folder's lock is held for a whole blue-green deploy (stage, gate, switch, check,
    finish): a second deploy waits for all of it, then runs."""
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    first = deploy_process(target, "v1.2.0", *target.blue_green_args())  # ready only after 3 s: a long gate
    time.sleep(1.0)
    second = deploy_process(target, "v1.1.0", *target.blue_green_args())
    out_first, out_second = first.communicate(timeout=120)[0], second.communicate(timeout=120)[0]
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    assert "waiting for deploy v1.2.0-" in out_second and "lock acquired after" in out_second
    assert target.version(ONE) == "v1.1.0"
    rows = [row[1:3] for row in target.history(ONE)]
    assert rows.index(["deploy", "v1.2.0"]) < rows.index(["started", "v1.1.0"])  # one after the other


def test_deploy_status_shows_live_and_standby(target, gha_env, capsys, services):
    from deploy_actions.cli import main

    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    succeeded(bg(target, gha_env, capsys, "v1.1.0"))
    code = main(
        [
            "--json",
            "deploy-status",
            "--strategy",
            "blue-green",
            "--hosts",
            target.hosts(ONE),
            "--deploy-path",
            target.path,
            "--known-hosts",
            Path(services["DA_SSH_KNOWN_HOSTS"]).read_text(),
        ],
        env={**gha_env, "INPUT_SSH_KEY": Path(services["DA_SSH_KEY"]).read_text()},
    )
    out = capsys.readouterr().out
    assert code == 0, out
    host = json.loads(out)["hosts"][0]
    assert host["tag"] == "v1.1.0"
    assert host["blue_green"]["live"] == {"colour": "green", "tag": "v1.1.0"}
    assert host["blue_green"]["standby"] == {"colour": "blue", "tag": "v1.0.0"}
    assert host["blue_green"]["proxy_running"] is True
    assert [r["image"].rsplit(":", 1)[1] for r in host["running"]] == ["v1.1.0"]
    assert host["running"][0]["image_id"].startswith("sha256:")


def test_compose_file_unusable_for_blue_green_is_refused_before_any_change(target, gha_env, capsys):
    folder = target.dirs[ONE]
    text = (folder / "compose.yml").read_text()
    (folder / "compose.yml").write_text(
        text.replace("    network_mode: host\n", "    network_mode: host\n    container_name: web\n")
    )
    code, out, _ = bg(target, gha_env, capsys, "v1.0.0")
    assert code == 2
    assert f"{target.path}/compose.yml:5: container_name" in out and "::error" in out
    (folder / "compose.yml").write_text(text.replace("${APP_PORT}", "${WEB_PORT}"))
    code, out, _ = bg(target, gha_env, capsys, "v1.0.0")
    assert code == 2 and f"{target.path}/compose.yml: nothing in the compose file uses ${{APP_PORT}}" in out, out
    assert target.history(ONE) == []
    assert target.docker(ONE, "inspect", proxy(target)).returncode != 0


def test_a_proxy_port_already_taken_is_refused(target, gha_env, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind((ONE, target.port))
        taken.listen()
        code, out, _ = bg(target, gha_env, capsys, "v1.0.0")
    assert code == 2 and f"port {target.port}" in out and "already taken" in out, out
    assert target.history(ONE) == []


def test_a_missing_proxy_image_is_refused(target, gha_env, capsys, services):
    missing = f"{services['DA_REGISTRY']}/nothing-here/caddy:2"  # the loopback registry: nothing leaves the machine
    code, out, _ = bg(target, gha_env, capsys, "v1.0.0", "--proxy-image", missing)
    assert code == 2 and f"proxy image {missing} is not on" in out and "(set proxy-image)" in out, out
    assert target.history(ONE) == []
    assert target.docker(ONE, "inspect", proxy(target)).returncode != 0


def test_cancelled_mid_deploy_leaves_the_live_copy_serving(target, gha_env, capsys, services, tmp_path):
    succeeded(bg(target, gha_env, capsys, "v1.0.0"))
    with users(target) as load:
        proc = deploy_process(target, "v1.2.0", *target.blue_green_args())
        time.sleep(2)  # v1.2.0 takes 3 s to get ready: the deploy is waiting at its gate
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode != 0, out
    assert load.failed == [] and set(load.bodies()) == {"v1.0.0"}
    assert target.version(ONE) == "v1.0.0"
    code, out, _ = bg(target, gha_env, capsys, "v1.1.0")  # and the next deploy works
    assert code == 0, out
