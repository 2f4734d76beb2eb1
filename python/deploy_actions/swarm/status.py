"""What a stack runs now, as the cluster says: each service's tag, digest and replicas,
and the last lines of the stack's deploy history on the manager. Read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.remote.access import SshAccess, ssh_kit
from deploy_actions.remote.history import history_rows
from deploy_actions.remote.hosts import Host
from deploy_actions.swarm.convergence import assess, digest_of, tag_of
from deploy_actions.swarm.settings import SCRIPT


@dataclass(frozen=True)
class Target:
    manager: Host
    ssh: SshAccess
    stack: str
    docker_socket: str
    state_dir: str
    environment: Mapping[str, str]


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
    with ssh_kit(target.ssh, SCRIPT) as kit:
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
