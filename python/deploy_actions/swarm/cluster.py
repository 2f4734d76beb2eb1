"""The cluster, through the manager's Docker socket forwarded over SSH: read with the Docker
SDK, changed with the docker CLI (`stack deploy`, `service rollback`, a job for the
migration), as a person would. The CLI gets its variables by environment, never argv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import docker
import docker.errors

from deploy_actions import cancel
from deploy_actions.errors import CheckFailed, UsageError
from deploy_actions.swarm.convergence import ServiceState, Task

STACK_LABEL = "com.docker.stack.namespace"


@dataclass
class Cluster:
    socket: str
    environment: Mapping[str, str]  # the runner's, for the CLI
    timeout: float = 600

    def __post_init__(self) -> None:
        self.client = docker.DockerClient(base_url=f"unix://{self.socket}", timeout=60)
        self.cli = shutil.which("docker", path=self.environment.get("PATH")) or "docker"

    # -- reading ------------------------------------------------------------------------
    def check_manager(self) -> str:
        """The engine's version; refuses an engine that is not a swarm manager."""
        try:
            info = self.client.info()
            version = self.client.version().get("Version", "?")
        except docker.errors.DockerException as exc:
            raise CheckFailed(f"the manager's Docker engine did not answer through SSH ({exc})") from None
        problem = manager_problem(info)
        if problem:
            raise UsageError(problem, input="manager")
        return version

    def down_nodes(self) -> list[str]:
        """Nodes the manager does not see ready (down, unknown, disconnected), as
        `hostname (node ID, state)`: a task on one cannot change, so an update waits for it."""
        try:
            nodes = self.client.api.nodes()
        except docker.errors.DockerException:
            return []
        return [
            f"{n.get('Description', {}).get('Hostname', '?')} ({n['ID'][:12]}, {n.get('Status', {}).get('State', '?')})"
            for n in nodes
            if n.get("Status", {}).get("State") != "ready"
        ]

    def services(self, stack: str) -> dict[str, ServiceState]:
        """The stack's services by their name in the stack file."""
        found: dict[str, ServiceState] = {}
        for service in self.client.api.services(filters={"label": f"{STACK_LABEL}={stack}"}):
            spec = service["Spec"]
            name = spec["Name"].removeprefix(f"{stack}_")
            mode = spec.get("Mode", {})
            replicas = mode["Replicated"].get("Replicas", 1) if "Replicated" in mode else None
            previous = service.get("PreviousSpec", {}).get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image")
            tasks = tuple(
                Task(
                    state=t["Status"]["State"],
                    desired=t["DesiredState"],
                    image=t["Spec"]["ContainerSpec"]["Image"],
                    error=t["Status"].get("Err", ""),
                    exit_code=(t["Status"].get("ContainerStatus") or {}).get("ExitCode"),
                )
                for t in sorted(self.client.api.tasks(filters={"service": service["ID"]}), key=lambda t: t["CreatedAt"])
            )
            status = service.get("UpdateStatus") or {}
            found[name] = ServiceState(
                name=name,
                image=spec["TaskTemplate"]["ContainerSpec"]["Image"],
                replicas=replicas,
                version=service["Version"]["Index"],
                update_state=status.get("State"),
                update_message=status.get("Message", ""),
                previous_image=previous,
                tasks=tasks,
            )
        return found

    # -- changing (the CLI) ---------------------------------------------------------------
    def docker(self, *args: str, env: Mapping[str, str] | None = None, timeout: float | None = None) -> str:
        full = {**self.environment, **(env or {}), "DOCKER_HOST": f"unix://{self.socket}"}
        full.pop("DOCKER_CONTEXT", None)
        try:
            proc = subprocess.run(
                [self.cli, *args],
                env=full,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout or self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"docker {args[0]} {args[1] if len(args) > 1 else ''} took too long") from None
        except OSError as exc:
            raise CheckFailed(f"cannot run the docker CLI on the runner ({exc})") from None
        if proc.returncode != 0:
            text = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise CheckFailed(f"docker {' '.join(args[:2])} failed: {text[-1] if text else proc.returncode}")
        return proc.stdout

    def stack_deploy(self, stack: str, files: list[str], variables: Mapping[str, str], auth: Mapping[str, str]) -> str:
        args = ["stack", "deploy", "--with-registry-auth", "--resolve-image", "always"]
        for file in files:
            args += ["--compose-file", file]
        return self.docker(*args, stack, env={**variables, **auth})

    def rollback(self, stack: str, service: str) -> None:
        self.docker("service", "rollback", "--detach", f"{stack}_{service}")

    def remove(self, stack: str, service: str) -> None:
        self.docker("service", "rm", f"{stack}_{service}")

    def run_job(
        self,
        name: str,
        image: str,
        command: str,
        env: Mapping[str, str],
        network: str,
        constraints: tuple[str, ...],
        auth: Mapping[str, str],
        labels: Mapping[str, str],
        timeout: float,
        say: Callable[[str], None],
    ) -> tuple[int | None, str]:
        """A one-off task with the image, on a node `constraints` allow; (exit code, its log).
        The values of `env` go to the CLI by environment (`--env NAME`), not argv. A replicated
        service of one task that is never restarted, not a `replicated-job`: removing a job
        leaves its task and its exited container, environment and all, on the node that ran it
        (moby/moby#44312); removing a service removes its containers on every node."""
        args = ["service", "create", "--detach", "--quiet", "--with-registry-auth", "--name", name]
        args += ["--mode", "replicated", "--replicas", "1", "--restart-condition", "none"]
        if network:
            args += ["--network", network]
        for constraint in constraints:
            args += ["--constraint", constraint]
        for key, value in labels.items():
            args += ["--label", f"{key}={value}"]
        for key in env:
            args += ["--env", key]
        self.docker(*args, image, "sh", "-c", command, env={**env, **auth})
        deadline = time.monotonic() + timeout
        try:
            while True:
                tasks = self.client.api.tasks(filters={"service": name})
                states = [t["Status"]["State"] for t in tasks]
                if tasks and all(s in ("complete", "failed", "rejected", "shutdown", "orphaned") for s in states):
                    last = max(tasks, key=lambda t: t["CreatedAt"])
                    code = (last["Status"].get("ContainerStatus") or {}).get("ExitCode")
                    if last["Status"]["State"] == "rejected":
                        say(f"the job was rejected: {last['Status'].get('Err', '')}")
                        code = code if code is not None else 125
                    break
                if time.monotonic() > deadline or cancel.cancelled.is_set():
                    return None, self._logs(name)
                time.sleep(0.5)
            return code, self._logs(name)
        finally:
            try:
                self.docker("service", "rm", name, timeout=60)
            except CheckFailed:
                say(f"could not remove the migration job {name}; remove it with `docker service rm {name}`")
            self._remove_job_containers(name)

    def _remove_job_containers(self, name: str) -> None:
        """On the manager, the job's container is removed at once, should the engine keep it
        a moment after its service is gone (the other nodes' engines remove theirs)."""
        try:
            for container in self.client.containers.list(
                all=True, filters={"label": f"com.docker.swarm.service.name={name}"}
            ):
                container.remove(force=True)
        except docker.errors.DockerException:
            pass

    def _logs(self, name: str) -> str:
        try:
            return self.docker("service", "logs", "--raw", "--no-task-ids", name, timeout=30)
        except CheckFailed:
            return ""


def manager_problem(info: Mapping) -> str | None:
    """Why an engine (its `docker info`) cannot take a stack deploy, if it cannot."""
    swarm = info.get("Swarm") or {}
    name = info.get("Name") or "the manager"
    if swarm.get("LocalNodeState") != "active":
        return f"the engine on {name} is not in swarm mode (`docker swarm init`, or give a manager of your swarm)"
    if not swarm.get("ControlAvailable"):
        return f"{name} is a swarm worker, not a manager: deploys go through a manager"
    return None


def override_file(stack_services: list[str], update: Mapping[str, str], version: str | None) -> str | None:
    """A last stack file that sets update_config from the inputs on the release services;
    None when nothing is overridden. Removed by the caller."""
    if not update:
        return None
    config: dict[str, object] = dict(update)
    if "parallelism" in config:
        config["parallelism"] = int(str(config["parallelism"]))
    document: dict[str, object] = {"version": version} if version else {}
    document["services"] = {name: {"deploy": {"update_config": config}} for name in stack_services}
    fd, path = tempfile.mkstemp(prefix="deploy-actions-stack-", suffix=".yml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh)  # JSON is YAML
    return path
