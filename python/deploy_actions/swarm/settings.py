"""swarm-deploy's settings, parsed in one place. The SSH inputs are ssh-compose-deploy's own
(same names, same checks); the stack files are read here, on the runner, so a bad file, a
service without the tag variable or an unknown update order stops the deploy before the
manager is even reached."""

from __future__ import annotations

import dataclasses
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy_actions import gha
from deploy_actions.errors import UsageError
from deploy_actions.images.reference import Ref, parse_ref
from deploy_actions.inputfiles import read_text
from deploy_actions.migrations import timeouts as migration_timeouts
from deploy_actions.options import Option
from deploy_actions.remote import access, release
from deploy_actions.remote.access import SshAccess
from deploy_actions.remote.hosts import SAFE_NAME, Host, parse_host, safe_names, safe_path
from deploy_actions.smoke import gate
from deploy_actions.swarm import stackfile
from deploy_actions.values import ENV_NAME, history_field, parse_duration, parse_int, parse_list, refuse_reserved

SCRIPT = ("deploy_actions.swarm:remote.sh",)  # what `sh -s` runs on the manager
STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ORDERS = ("start-first", "stop-first")
FAILURE_ACTIONS = ("rollback", "pause", "continue")
# Swarm's placement constraint: an attribute of the node or engine, == or !=, a value.
CONSTRAINT = re.compile(
    r"^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[\w.-]+)|engine\.labels\.[\w.-]+)"
    r"\s*(==|!=)\s*[\w.:/-]+$",
    re.ASCII,
)

OPTIONS = (
    Option(
        "manager",
        "A Swarm manager to drive the cluster through, `user@host` or `user@host:port`; the deploy user "
        "needs the Docker socket there.",
        required=True,
    ),
    *access.OPTIONS,
    Option("stack", "Stack name (`docker stack deploy … <stack>`).", required=True),
    Option(
        "compose-files",
        "Stack files in the runner's checkout of the release, comma or newline separated (later ones "
        "override earlier ones).",
        default="docker-stack.yml",
        path="list",
    ),
    release.IMAGE_TAG,
    release.REQUIRE_RELEASE_TAG,
    Option(
        "tag-variable",
        "Variable the stack file uses for the tag (`image: …:${IMAGE_TAG}`).",
        default="IMAGE_TAG",
    ),
    Option(
        "services",
        "The services that carry the release, comma or newline separated; each must use the tag "
        "variable (default: every service of the stack).",
    ),
    Option(
        "env",
        "Variables for the stack files and the migration, one KEY=value per line (secrets from the secrets "
        "context: GitHub masks them); given to the docker CLI by environment, never on a command line.",
    ),
    Option("env-file", "A KEY=value file in the checkout whose variables fill the stack files (env wins).", path="one"),
    Option("registry-username", "User for the services' private registry, passed with --with-registry-auth."),
    Option(
        "registry-password",
        "Password or token for that registry; masked, handed to the cluster with --with-registry-auth "
        "and written to no file.",
        secret=True,
    ),
    Option(
        "migrate-command",
        "Run once, as a one-off Swarm job in the release's image, before any service is updated, e.g. "
        "`alembic upgrade head`; its exit code decides whether the update happens.",
    ),
    Option("migrate-service", "The service whose image and release digest the migration runs in (default: the first)."),
    Option("migrate-network", "Network for the migration job (e.g. host, or an overlay network of the stack)."),
    Option(
        "migrate-constraints",
        "Where the migration job may run: Swarm placement constraints, one per line (e.g. "
        "`node.role == manager`, `node.labels.db == yes`). Default: migrate-service's own "
        "deploy.placement.constraints, so the job runs where that service may.",
    ),
    *migration_timeouts.OPTIONS,
    Option("update-order", "Override the stack file's update order: start-first or stop-first."),
    Option("update-parallelism", "Override how many tasks Swarm updates at once."),
    Option("update-monitor", "Override how long Swarm watches each updated task for a failure, e.g. 10s."),
    Option("failure-action", "Override what Swarm does when an update fails: rollback, pause or continue."),
    *gate.options(
        url="Readiness URL, checked from the runner once every task runs the release; then the smoke spec "
        "runs against it. A failure rolls every service back. `{host}` is the manager's address.",
        timeout="How long the stack may take to become ready once converged.",
        spec="Smoke spec (YAML) run from the runner against ready-url once it is ready.",
    ),
    Option(
        "converge-timeout",
        "How long every task of every service may take to run the release's image.",
        default="5m",
    ),
    Option("docker-socket", "The Docker socket on the manager.", default="/var/run/docker.sock"),
    Option(
        "state-path",
        "Folder on the manager, relative to the deploy user's home, for the stack's lock and history.",
        default=".deploy-actions/swarm",
    ),
    access.CONNECT_TIMEOUT,
    Option("lock-timeout", "How long to wait for another deploy of the same stack to finish.", default="5m"),
    release.TIMEOUT,
)


@dataclass(frozen=True)
class Inputs:
    manager: Host
    ssh: SshAccess
    stack: str
    compose_files: tuple[str, ...]
    services: stackfile.Stack
    release_services: tuple[str, ...]
    tag: str
    tag_variable: str
    variables: dict[str, str]  # env-file, then env
    env: dict[str, str]  # the env input alone: the migration's environment
    registry_username: str
    registry_password: str
    migrate_command: str
    migrate_service: str
    migrate_network: str
    migrate_constraints: tuple[str, ...]
    migration: migration_timeouts.Timeouts
    update: dict[str, str]  # update_config overrides
    gate: gate.Gate
    converge_timeout: float
    docker_socket: str
    state_dir: str
    lock_timeout: float
    timeout: float
    commit: str
    actor: str
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)  # the docker CLI's
    deploy_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def image(self, service: str, tag: str | None = None) -> Ref:
        """The image a service runs with `tag` (default: the one being deployed)."""
        values = {**self.variables, self.tag_variable: tag or self.tag}
        spec = self.services.services[service]
        text = stackfile.interpolate(spec.image, values, where=f"{spec.file}:{spec.line}")
        return parse_ref(text, "compose-files")


def _env_file(path: str) -> dict[str, str]:
    if not path:
        return {}
    text = read_text(path, "env-file", what="env file")
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not ENV_NAME.match(name.strip()):
            raise UsageError(f"{path}:{number}: expected KEY=value", input="env-file", file=path, line=number)
        refuse_reserved(name.strip(), "env-file", file=path, line=number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _update(raw: Mapping[str, str]) -> dict[str, str]:
    update: dict[str, str] = {}
    order = raw["update-order"].strip()
    if order:
        if order not in ORDERS:
            raise UsageError(f"expected start-first or stop-first, got {order!r}", input="update-order")
        update["order"] = order
    if raw["update-parallelism"].strip():
        update["parallelism"] = str(parse_int(raw["update-parallelism"], "update-parallelism", minimum=0, maximum=1000))
    if raw["update-monitor"].strip():
        seconds = parse_duration(raw["update-monitor"], "update-monitor", minimum=0)
        update["monitor"] = f"{seconds:g}s"
    action = raw["failure-action"].strip()
    if action:
        if action not in FAILURE_ACTIONS:
            raise UsageError(f"expected rollback, pause or continue, got {action!r}", input="failure-action")
        update["failure_action"] = action
    return update


def parse_stack(raw: Mapping[str, str]) -> str:
    stack = raw["stack"].strip()
    if not STACK_NAME.match(stack):
        raise UsageError(f"expected lowercase letters, digits, _ and -, got {stack!r}", input="stack")
    return stack


def parse_state_dir(raw: Mapping[str, str], stack: str) -> str:
    """The stack's folder on the manager (lock, history): relative to the user's home or absolute."""
    path = raw["state-path"].strip() or ".deploy-actions/swarm"
    if path.startswith("/"):
        path = safe_path(path, "state-path")
    elif not re.fullmatch(r"[A-Za-z0-9._][A-Za-z0-9._/-]*", path) or ".." in path.split("/"):
        raise UsageError(f"expected a path of letters, digits, . _ - and /, got {path!r}", input="state-path")
    return f"{path.rstrip('/')}/{stack}"


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    env = env if env is not None else os.environ
    manager = parse_host(raw["manager"], "manager")
    ssh = access.parse_ssh(raw)
    stack = parse_stack(raw)
    tag, tag_variable = release.parse_tag(raw)
    user_env = release.user_env(raw["env"], tag_variable)
    variables = {**_env_file(raw["env-file"].strip()), **user_env}
    files = parse_list(raw["compose-files"]) or ["docker-stack.yml"]
    texts = {path: read_text(path, "compose-files", what="stack file") for path in files}
    stack_files = stackfile.load(texts, {**variables, tag_variable: tag})
    release_services = stackfile.check_release_services(
        stack_files, tuple(safe_names(parse_list(raw["services"]), "services")), tag_variable
    )
    migrate_service = raw["migrate-service"].strip() or release_services[0]
    if migrate_service not in release_services:
        raise UsageError(
            f"expected one of the release services ({', '.join(release_services)})", input="migrate-service"
        )
    network = raw["migrate-network"].strip()
    if network and not SAFE_NAME.match(network):
        raise UsageError(f"expected a network name, got {network!r}", input="migrate-network")
    constraints = tuple(parse_list(raw["migrate-constraints"])) or stack_files.services[migrate_service].constraints
    for constraint in constraints:
        if not CONSTRAINT.match(constraint):
            raise UsageError(
                f"expected a placement constraint like node.role == manager, got {constraint!r}",
                input="migrate-constraints",
            )
    checks = gate.parse(raw, hosts=True, spec_needs="smoke calls need ready-url (where the stack answers)")
    checks = dataclasses.replace(checks, url=checks.url.replace(gate.HOST, manager.host.strip("[]")))
    inputs = Inputs(
        ssh=ssh,
        manager=manager,
        stack=stack,
        compose_files=tuple(files),
        services=stack_files,
        release_services=release_services,
        tag=tag,
        tag_variable=tag_variable,
        variables=variables,
        env=user_env,
        registry_username=raw["registry-username"].strip(),
        registry_password=raw["registry-password"],
        migrate_command=raw["migrate-command"].strip(),
        migrate_service=migrate_service,
        migrate_network=network,
        migrate_constraints=constraints,
        migration=migration_timeouts.parse(raw),
        update=_update(raw),
        gate=checks,
        converge_timeout=parse_duration(raw["converge-timeout"], "converge-timeout", minimum=1),
        docker_socket=safe_path(raw["docker-socket"], "docker-socket"),
        state_dir=parse_state_dir(raw, stack),
        lock_timeout=parse_duration(raw["lock-timeout"], "lock-timeout", minimum=0),
        timeout=parse_duration(raw["timeout"], "timeout", minimum=1),
        commit=history_field(env.get("GITHUB_SHA", "")),
        actor=history_field(env.get("GITHUB_ACTOR") or env.get("USER", "")),
        environment=gha.tool_environment(env),
    )
    for name in release_services:  # every release image is a valid reference once filled in
        inputs.image(name)
    return inputs


def secrets(inputs: Inputs) -> list[str]:
    return [s for s in (inputs.ssh.passphrase, inputs.registry_password) if s]
