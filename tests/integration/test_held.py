"""hold, then promote or abort, on a real sshd host with its own engine behind the shared proxy:
the held release outlives the deploy's process, deploy-status shows it, and promote (from a
new process, as another workflow run would) or abort finishes it with users on the app."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from deploy_support import COMPOSE_SHARED, LoadClient, SharedProxy, Target, deploy, succeeded

pytestmark = pytest.mark.services

ONE = "127.0.0.2"


@pytest.fixture
def app(services, web_repo, tmp_path):
    target = Target(services, web_repo, addrs=[ONE], compose=COMPOSE_SHARED)
    host = SharedProxy(services, tmp_path)
    yield host, target
    target.down()
    host.down(target)


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


def test_a_held_canary_keeps_its_share_until_promoted_from_another_process(app, gha_env, capsys):
    host, target = app
    name = host.name("a")
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", *host.args(target, name), hosts=target.hosts(ONE)))
    cafile = host.trust(target)
    canary = ["--strategy", "canary", "--canary-steps", "10%", "--canary-interval", "10s", "--hold"]
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        code, out, outputs = deploy(
            target, gha_env, capsys, "v1.1.0", *host.args(target, name), *canary, hosts=target.hosts(ONE)
        )
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


def test_a_held_release_is_never_seen_and_abort_removes_it(app, gha_env, capsys):
    host, target = app
    name = host.name("a")
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", *host.args(target, name), hosts=target.hosts(ONE)))
    cafile = host.trust(target)
    with LoadClient(host.url(name), rate=160, threads=8, connect_to=ONE, cafile=cafile, keep_alive=True) as load:
        code, out, outputs = deploy(
            target, gha_env, capsys, "v1.1.0", *host.args(target, name), "--hold", hosts=target.hosts(ONE)
        )
        assert code == 0 and outputs["held-tag"] == "v1.1.0", out
        code, doc = decide(target, "abort", reach(host, target, name))
        time.sleep(0.5)
    assert code == 0 and doc["hosts"][0]["state"] == "aborted", doc
    assert load.failed == [] and load.bodies() == ["v1.0.0"]  # held, then gone: no user saw it
    held = target.docker(ONE, "ps", "-aq", "--filter", f"label=com.docker.compose.project={target.name}-green")
    assert held.stdout.strip() == ""
    assert status(target, gha_env, capsys)["held"] is None
