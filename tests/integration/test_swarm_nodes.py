"""swarm-deploy on a two-node swarm: the first engine is the manager, the engine of deploy host
127.0.0.3 a worker with its own images (scripts/services joins it). Both share this machine's
network, so each task listens on its node's address, read from /node/addr (mounted from
$DA_SWARM_NODES/<node ID>)."""

import subprocess
import threading
import time

import pytest
from test_swarm_deploy import MANAGER, Swarm, digest, docker

from deploy_support import host_docker, page_or_down

pytestmark = pytest.mark.services

NODES_STACK = """services:
  web:
    image: {repo}:${{IMAGE_TAG}}
    environment:
      BIND: 127.0.0.1:${{WEB_PORT}}
    networks: [hostnet]
    volumes:
      - {{type: bind, source: "${{NODES}}/{{{{.Node.ID}}}}", target: /node, read_only: true}}
    stop_grace_period: 2s
    deploy:
      mode: global
      update_config: {{order: stop-first, parallelism: 1, delay: 1s, monitor: 2s}}
      restart_policy: {{condition: on-failure, delay: 1s}}
      placement:
        constraints:
          - "${{PLACE:-node.platform.os == linux}}"
networks:
  hostnet:
    external: true
    name: host
"""


@pytest.fixture
def nodes(services, web_repo, tmp_path):
    if not services.get("DA_SWARM_WORKER_NODE"):
        pytest.fail("no swarm worker: run scripts/services up")
    made = Swarm(services, web_repo, tmp_path, NODES_STACK)
    yield made
    made.remove()


def _env(swarm: Swarm, *extra: str) -> list[str]:
    return ["--env", "\n".join([f"WEB_PORT={swarm.port}", f"NODES={swarm.services['DA_SWARM_NODES']}", *extra])]


def _version(addr: str, port: int) -> str:
    return page_or_down(f"http://{addr}:{port}/version", timeout=2)


def _task_nodes(swarm: Swarm) -> set[str]:
    out = docker("service", "ps", f"{swarm.stack}_web", "--filter", "desired-state=running", "--format", "{{.ID}}")
    return {docker("inspect", "--format", "{{.NodeID}}", t).strip() for t in out.split()}


def test_a_release_rolls_across_both_nodes_one_at_a_time_each_pulling_it(nodes, gha_env, capsys, services):
    worker, worker_node = services["DA_SWARM_WORKER"], services["DA_SWARM_WORKER_NODE"]
    code, out, _ = nodes.deploy(gha_env, capsys, "v1.0.0", *_env(nodes))
    assert code == 0, out
    assert worker_node in _task_nodes(nodes) and len(_task_nodes(nodes)) == 2
    assert {_version(a, nodes.port) for a in (MANAGER, worker)} == {"v1.0.0"}

    samples: list[tuple[str, str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            samples.append((_version(MANAGER, nodes.port), _version(worker, nodes.port)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        code, out, outputs = nodes.deploy(gha_env, capsys, "v1.1.0", *_env(nodes))
    finally:
        stop.set()
        watcher.join()
    assert code == 0, out
    assert {_version(a, nodes.port) for a in (MANAGER, worker)} == {"v1.1.0"}
    # one node at a time (parallelism 1): some node answered at every moment, and for a while
    # the two ran different releases
    assert all(not (m.startswith("down") and w.startswith("down")) for m, w in samples), samples
    assert any({m, w} == {"v1.0.0", "v1.1.0"} for m, w in samples)
    # the worker pulled the release itself, from the registry, by its digest
    listed = host_docker(services, worker, "image", "ls", "--digests", "--format", "{{.Repository}}@{{.Digest}}")
    assert f"{nodes.repo}@{digest(nodes.repo, 'v1.1.0')}" in listed.stdout.split(), listed.stdout


def test_the_migration_job_runs_where_the_service_may_or_where_migrate_constraints_say(
    nodes, gha_env, capsys, services
):
    worker_node = services["DA_SWARM_WORKER_NODE"]
    manager_node = docker("info", "--format", "{{.Swarm.NodeID}}").strip()
    # the service may only run on the worker: so may its migration (the default)
    place = "PLACE=node.role == worker"
    migrate = ["--migrate-command", 'echo "migrated on $NODE"', "--migrate-network", "host"]
    migrate += ["--ready-url", f"http://{services['DA_SWARM_WORKER']}:{nodes.port}/ready"]  # served there only
    code, out, _ = nodes.deploy(gha_env, capsys, "v1.0.0", *_env(nodes, place, "NODE={{.Node.ID}}"), *migrate)
    assert code == 0, out
    assert f"migrated on {worker_node}" in out, out
    assert _task_nodes(nodes) == {worker_node}
    # migrate-constraints overrides it
    code, out, _ = nodes.deploy(
        gha_env, capsys, "v1.1.0", *_env(nodes, place, "NODE={{.Node.ID}}"), *migrate,
        "--migrate-constraints", "node.role == manager",
    )  # fmt: skip
    assert code == 0, out
    assert f"migrated on {manager_node}" in out, out
    # no job is left behind on either node, nor its container
    assert docker("service", "ls", "-q", "--filter", f"label=org.deploy-actions.stack={nodes.stack}").strip() == ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = [
            host_docker(services, services["DA_SWARM_WORKER"], "ps", "-aq", "--filter", f"name={nodes.stack}_migrate-"),
            subprocess.run(
                ["docker", "ps", "-aq", "--filter", f"name={nodes.stack}_migrate-"], capture_output=True, text=True
            ),
        ]
        if not any(r.stdout.strip() for r in left):
            break
        time.sleep(0.5)
    assert not any(r.stdout.strip() for r in left), [r.stdout for r in left]


def test_a_bad_migrate_constraint_is_refused_before_anything_runs(nodes, gha_env, capsys):
    code, out, _ = nodes.deploy(
        gha_env, capsys, "v1.0.0", *_env(nodes), "--migrate-command", "true",
        "--migrate-constraints", "node.role = manager",
    )  # fmt: skip
    assert code == 2, out
    assert "migrate-constraints: expected a placement constraint like node.role == manager" in out
    assert docker("service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={nodes.stack}").strip() == ""


def test_a_node_that_goes_down_during_an_update_is_named_and_the_stack_rolled_back(nodes, gha_env, capsys, services):
    """The worker's engine stops as the update starts: Swarm's update cannot finish (it
    waits for the node's task), so the deploy fails at converge-timeout naming the node, and
    the stack goes back to the previous release — also on the node once it is back."""
    import os
    import signal

    from conftest import ROOT

    worker, worker_node = services["DA_SWARM_WORKER"], services["DA_SWARM_WORKER_NODE"]
    code, out, _ = nodes.deploy(gha_env, capsys, "v1.0.0", *_env(nodes))
    assert code == 0, out
    proc = nodes.process("v1.1.0", *_env(nodes), "--converge-timeout", "30s")
    try:
        time.sleep(1.5)
        # the engine stops (as a host shutting down does): its containers stop with it, and
        # those with a restart policy (a demo's, another test's) start again with it
        os.kill(_engine_pid(services, worker), signal.SIGTERM)
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 1, out
        assert f"({worker_node[:12]}, down)" in out and "Swarm's update waits for their tasks" in out, out
        assert "every service is back on v1.0.0" in out, out
        assert _version(MANAGER, nodes.port) == "v1.0.0"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["bash", str(ROOT / "scripts" / "services"), "up"], capture_output=True, timeout=300)
    deadline = time.monotonic() + 60
    while _version(worker, nodes.port) != "v1.0.0" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _version(worker, nodes.port) == "v1.0.0"  # back, on the previous release


def _engine_pid(services, addr: str) -> int:
    from pathlib import Path

    engines = dict(pair.split("=", 1) for pair in services["DA_SSH_HOST_ENGINES"].split(","))
    return int((Path(engines[addr].removeprefix("unix://")).parent / "dockerd.pid").read_text())
