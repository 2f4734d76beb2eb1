"""The Docker engine through the Docker SDK: build with the log streamed into a folded
group, run the built image (boot check, test command), push with credentials passed
per call (X-Registry-Auth), so nothing is written to any Docker config file."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from deploy_actions.errors import CheckFailed
from deploy_actions.images import dockerfile as dockerfile_rules

LOG_TAIL = 20


@dataclass
class BuildFailure(Exception):
    message: str
    step: str | None
    line: int | None
    tail: list[str]

    def __str__(self) -> str:
        return self.message


def connect() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=600)
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        raise CheckFailed(f"cannot reach the Docker engine ({exc}); is dockerd running, DOCKER_HOST right?") from None


def _failure_line(message: str, dockerfile: str, step: str | None) -> int | None:
    """A parse error names its line ("dockerfile parse error line 2: …"); a failing step is
    found by its instruction text (the legacy builder names the instruction, not its line)."""
    match = re.search(r"\bline (\d+)\b", message)
    if match:
        return int(match.group(1))
    if not step:
        return None
    try:
        with open(dockerfile, encoding="utf-8") as fh:
            return dockerfile_rules.line_of(dockerfile_rules.parse(fh.read()), step)
    except (OSError, UnicodeDecodeError):
        return None


def build(
    client: docker.DockerClient,
    *,
    context: str,
    dockerfile: str,
    tag: str,
    build_args: dict[str, str],
    labels: dict[str, str],
    target: str | None,
    log: Callable[[str], None],
    network: str | None = None,
) -> str:
    """Build and return the image ID (the config digest). Raises BuildFailure with the
    failing step, its Dockerfile line and the last lines of the log."""
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    step = None
    relative = os.path.relpath(dockerfile, context)
    stream: Iterator[dict[str, Any]] = client.api.build(
        path=context,
        dockerfile=relative if not relative.startswith("..") else dockerfile,
        tag=tag,
        buildargs=build_args or None,
        labels=labels,
        target=target or None,
        network_mode=network or None,
        rm=True,
        forcerm=True,
        decode=True,
    )
    image_id = None
    try:
        for chunk in stream:
            if "stream" in chunk:
                for line in chunk["stream"].splitlines():
                    if line.strip():
                        log(line)
                        tail.append(line)
                        match = re.match(r"^Step \d+/\d+ : (.*)$", line)
                        if match:
                            step = match.group(1)
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if "error" in chunk:
                error = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                raise BuildFailure(error.strip(), step, _failure_line(error, dockerfile, step), list(tail))
    except docker.errors.APIError as exc:
        message = str(exc.explanation or exc)
        raise BuildFailure(message, step, _failure_line(message, dockerfile, step), list(tail)) from None
    if not image_id:
        image_id = client.images.get(tag).id
    return image_id


@dataclass
class Booted:
    container: Any

    def logs(self, lines: int = LOG_TAIL) -> str:
        try:
            return self.container.logs(tail=lines).decode("utf-8", "replace")
        except docker.errors.DockerException:
            return ""

    def stop(self) -> None:
        with contextlib.suppress(docker.errors.DockerException):
            self.container.remove(force=True)


def boot(client: docker.DockerClient, image: str, env: dict[str, str]) -> Booted:
    """Run the image detached on the host network, as the boot check's service."""
    container = client.containers.run(
        image, detach=True, network_mode="host", environment=env, labels={"org.deploy-actions.purpose": "boot-check"}
    )
    return Booted(container)


def run_test(client: docker.DockerClient, image: str, command: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a test command inside the image (exec form: no shell needed in the image)."""
    container = client.containers.run(
        image,
        command=shlex.split(command),
        detach=True,
        network_mode="host",
        environment=env,
        labels={"org.deploy-actions.purpose": "test"},
    )
    try:
        status = container.wait(timeout=3600)
        output = container.logs().decode("utf-8", "replace")
        return int(status.get("StatusCode", 1)), output
    finally:
        container.remove(force=True)


def push(
    client: docker.DockerClient, name: str, tag: str, auth: dict[str, str] | None, log: Callable[[str], None]
) -> str:
    """Push `name:tag` and return the manifest digest the registry stored."""
    digest = None
    try:
        for chunk in client.api.push(name, tag=tag, auth_config=auth, stream=True, decode=True):
            if "error" in chunk:
                raise CheckFailed(f"push of {name}:{tag} failed: {chunk['error'].strip()}")
            if chunk.get("aux", {}).get("Digest"):
                digest = chunk["aux"]["Digest"]
            status = chunk.get("status")
            if status and not chunk.get("progressDetail"):
                log(f"{chunk.get('id', '') + ': ' if chunk.get('id') else ''}{status}")
    except docker.errors.APIError as exc:
        raise CheckFailed(f"push of {name}:{tag} failed: {exc.explanation or exc}") from None
    if not digest:
        raise CheckFailed(f"push of {name}:{tag} reported no digest")
    return digest
