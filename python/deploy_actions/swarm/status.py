"""What a stack runs now, as the cluster says: each service's tag, digest and replicas,
and the last lines of the stack's deploy history on the manager. Read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.deploy.hosts import Host
from deploy_actions.deploy.settings import SshAccess, ssh_kit
from deploy_actions.deploy.status import HISTORY
from deploy_actions.swarm.convergence import assess, digest_of, tag_of


@dataclass(frozen=True)
class Target:
    manager: Host
    ssh: SshAccess
    stack: str
    docker_socket: str
    state_dir: str
    environment: Mapping[str, str]


def history_rows(out: str) -> list[dict]:
    rows, inside = [], False
    for line in out.splitlines():
        if line == "@@history":
            inside = True
        elif line.startswith("@@"):
            inside = False
        elif inside and line.strip():
            rows.append(dict(zip(HISTORY, line.split("\t"), strict=False)))
    return rows


def fetch(target: Target) -> dict:
    from deploy_actions.swarm.cluster import Cluster

    params = {
        "ACTION": "history",
        "STATE_DIR": target.state_dir,
        "STACK": target.stack,
        "DOCKER_SOCKET": target.docker_socket,
        "DEPLOY_ID": "status",
        "TAG": "",
        "COMMIT": "",
        "ACTOR": "",
        "LOCK_TIMEOUT": "0",
    }
    with ssh_kit(target.ssh, body="remote_swarm.sh") as kit:
        kit.pin([target.manager])
        answer = kit.run(target.manager, params, timeout=target.ssh.connect_timeout + 30)
        if not answer.ok:
            return {"ok": False, "error": answer.problem(), "services": {}, "history": []}
        with kit.forward_socket(target.manager, target.docker_socket) as socket_path:
            cluster = Cluster(socket_path, target.environment)
            cluster.check_manager()
            states = cluster.services(target.stack)
    services = {}
    for name, state in states.items():
        verdict = assess(state, digest_of(state.image), updated=False)
        services[name] = {
            "tag": tag_of(state.image),
            "digest": digest_of(state.image),
            "running": verdict.running,
            "desired": verdict.desired,
            "update": state.update_state or "",
        }
    return {"ok": True, "services": services, "history": history_rows(answer.out)}
