"""A swarm-deploy, run: the manager reached over SSH and its lock held for the whole deploy;
the release's digests read from the registry; the migration once, as a job; `docker stack
deploy`; convergence by digest; /ready and smoke; and, on any failure after the update,
every service back on the previous release and verified there. Returns the outcome."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

from deploy_actions import cancel
from deploy_actions.console import Reporter
from deploy_actions.errors import CheckFailed
from deploy_actions.images.registry import Registry, RegistryError
from deploy_actions.migrations import timeouts as migration_timeouts
from deploy_actions.remote.access import ssh_kit, warn_if_insecure
from deploy_actions.swarm.cluster import Cluster, override_file
from deploy_actions.swarm.convergence import ServiceState, Verdict, assess, rollback_plan, tag_of
from deploy_actions.swarm.settings import SCRIPT, Inputs

POLL = 0.5


@dataclass
class Outcome:
    previous: str = ""
    failure: str | None = None
    usage: bool = False
    rolled_back: bool = False
    rollback: str = ""  # how: swarm-rollback, redeploy-previous, none
    services: dict[str, dict] = field(default_factory=dict)


def _params(inputs: Inputs, action: str, **extra: str) -> dict[str, str]:
    return {
        "ACTION": action,
        "STATE_DIR": inputs.state_dir,
        "STACK": inputs.stack,
        "DOCKER_SOCKET": inputs.docker_socket,
        "DEPLOY_ID": f"{inputs.tag}-{inputs.deploy_id}",
        "TAG": inputs.tag,
        "COMMIT": inputs.commit,
        "ACTOR": inputs.actor,
        "LOCK_TIMEOUT": str(int(inputs.lock_timeout)),
        **extra,
    }


def release_digests(inputs: Inputs, tag: str) -> dict[str, str]:
    """service → the digest its image has in the registry under `tag`; an absent tag is a
    failed check: only existing, pushed releases are deployed."""
    digests: dict[str, str] = {}
    with contextlib.ExitStack() as opened:
        registries: dict[str, Registry] = {}  # one connection (and token) per registry, not per service
        for service in inputs.release_services:
            ref = inputs.image(service, tag)
            if ref.registry not in registries:
                registries[ref.registry] = opened.enter_context(
                    Registry(ref.registry, username=inputs.registry_username, password=inputs.registry_password)
                )
            try:
                digest = registries[ref.registry].digest(ref.repository, ref.reference)
            except RegistryError as exc:
                raise CheckFailed(f"cannot read {ref} from its registry: {exc} (nothing was changed)") from None
            if not digest:
                raise CheckFailed(
                    f"{ref} does not exist in the registry: deploy a pushed release (nothing was changed)"
                )
            digests[service] = digest
    return digests


def _auth(inputs: Inputs):
    from deploy_actions.images import cli_auth

    registry = inputs.image(inputs.release_services[0]).registry
    return cli_auth.registry_login(registry, inputs.registry_username, inputs.registry_password, inputs.environment)


def converge(
    cluster: Cluster,
    inputs: Inputs,
    expected: dict[str, str],
    before: dict[str, ServiceState],
    timeout: float,
    reporter: Reporter,
    *,
    rolling_back: bool = False,
) -> tuple[dict[str, Verdict], str | None]:
    """Wait until every service runs its expected digest on every task; (verdicts, failure)."""
    deadline = time.monotonic() + timeout
    last_line, down = "", []
    while True:
        if (now_down := cluster.down_nodes()) != down:
            down = now_down
            if down:
                reporter.warning(f"node(s) down: {', '.join(down)}; Swarm's update waits for their tasks")
        states = cluster.services(inputs.stack)
        missing = [name for name in expected if name not in states]
        verdicts = {
            name: assess(
                state,
                expected.get(name),
                name not in before or before[name].version != state.version,
                rolling_back=rolling_back,
            )
            for name, state in states.items()
        }
        failed = [v for v in verdicts.values() if v.failure]
        if failed:
            return verdicts, "; ".join(f"{v.service}: {v.failure}" for v in failed)
        if not missing and all(v.done for v in verdicts.values()):
            return verdicts, None
        line = ", ".join(v.progress for v in verdicts.values())
        if line != last_line:
            reporter.progress(f"converging: {line}")
            last_line = line
        if cancel.cancelled.is_set():
            return verdicts, "cancelled while the services converged"
        if time.monotonic() > deadline:
            waiting = [v.progress for v in verdicts.values() if not v.done] + [f"{m}: not created" for m in missing]
            why = f"not converged within {int(timeout)}s: {', '.join(waiting)}"
            if down:
                why += f" (node(s) down: {', '.join(down)}; Swarm's update waits for their tasks)"
            return verdicts, why
        time.sleep(POLL)


def _check(inputs: Inputs, reporter: Reporter) -> tuple[bool, str]:
    """The readiness gate at ready-url, from the runner."""
    from deploy_actions.smoke import gate
    from deploy_actions.smoke.verify import verify

    verdict = verify(gate.readiness(inputs.gate), reporter)
    return verdict.ok, verdict.diagnosis or "a smoke call failed"


def _describe(verdicts: dict[str, Verdict], states: dict[str, ServiceState]) -> dict[str, dict]:
    return {
        name: {
            "image": states[name].image if name in states else "",
            "digest": v.digest,
            "tag": tag_of(states[name].image) if name in states else None,
            "running": v.running,
            "desired": v.desired,
            "state": "converged" if v.done else (v.failure or "converging"),
        }
        for name, v in verdicts.items()
    }


def _roll_back(
    cluster: Cluster, inputs: Inputs, before: dict[str, ServiceState], previous: str, reporter: Reporter
) -> tuple[str, str | None, dict[str, Verdict]]:
    """Every release service back where it was; (how, failure, verdicts). Swarm's own
    rollback where the service's previous spec is the one it ran before this deploy;
    otherwise the previous tag is deployed again from these stack files."""
    now = cluster.services(inputs.stack)
    plan = rollback_plan(before, now, inputs.release_services)
    if plan.how == "swarm-rollback":
        for name in plan.services:
            reporter.info(f"docker service rollback {inputs.stack}_{name}")
            cluster.rollback(inputs.stack, name)
    else:
        reporter.info(f"deploying the previous tag {previous} again (a Swarm rollback would not return there)")
        with _auth(inputs) as auth:
            cluster.stack_deploy(
                inputs.stack,
                list(inputs.compose_files),
                {**inputs.variables, inputs.tag_variable: previous},
                auth,
            )
    for name in inputs.release_services:
        if name not in before and name in now:  # new in this release: there was nothing before it
            reporter.info(f"removing {inputs.stack}_{name}, which the previous release did not have")
            cluster.remove(inputs.stack, name)
    verdicts, failure = converge(
        cluster, inputs, plan.expected, {}, inputs.converge_timeout, reporter, rolling_back=True
    )
    return plan.how, failure, verdicts


def deploy(inputs: Inputs, reporter: Reporter) -> Outcome:
    outcome = Outcome()
    warn_if_insecure(inputs.ssh, reporter, "swarm-deploy", "the manager")
    started = time.monotonic()
    with ssh_kit(inputs.ssh, SCRIPT) as kit, contextlib.ExitStack() as held:
        kit.pin([inputs.manager])
        refused = held.enter_context(kit.hold(inputs.manager, _params(inputs, "hold"), reporter.foreign))
        if refused:
            outcome.failure = f"{inputs.manager}: {refused.problem()} (nothing was changed)"
            # No manager there (no SSH server, a refused key…) is the input's fault; a wrong host key is not.
            unreachable = refused.code == 255 and "host key" not in outcome.failure
            outcome.usage = unreachable or refused.fields.get("step") in ("socket", "path")
            return outcome
        probe = kit.run(inputs.manager, _params(inputs, "probe"), timeout=inputs.ssh.connect_timeout + 30)
        if not probe.ok:
            outcome.failure, outcome.usage = f"{inputs.manager}: {probe.problem()} (nothing was changed)", True
            return outcome
        socket_path = held.enter_context(kit.forward_socket(inputs.manager, inputs.docker_socket))
        cluster = Cluster(socket_path, inputs.environment, timeout=inputs.converge_timeout + 60)
        version = cluster.check_manager()
        reporter.info(f"swarm-deploy {inputs.tag} to stack {inputs.stack} via {inputs.manager} (Docker {version})")
        expected = release_digests(inputs, inputs.tag)
        before = cluster.services(inputs.stack)
        current = [tag_of(before[n].image) for n in inputs.release_services if n in before]
        outcome.previous = next((t for t in current if t), "") or ""

        def record(action: str, tag: str, result: str) -> None:
            kit.run(
                inputs.manager,
                _params(
                    inputs,
                    "record",
                    RECORD_ACTION=action,
                    RECORD_TAG=tag,
                    RECORD_PREVIOUS=outcome.previous,
                    RECORD_RESULT=result,
                ),
                timeout=inputs.ssh.connect_timeout + 30,
            )

        if inputs.migrate_command:
            image = f"{inputs.image(inputs.migrate_service).name}@{expected[inputs.migrate_service]}"
            reporter.info(f"migration (a one-off job in {image}): {inputs.migrate_command}")
            pgoptions = inputs.migration.pgoptions(inputs.env.get("PGOPTIONS", ""))
            job_env = {**inputs.env, inputs.tag_variable: inputs.tag, **({"PGOPTIONS": pgoptions} if pgoptions else {})}
            attempt, stopped_by_lock = 0, False
            while True:
                with _auth(inputs) as auth, reporter.group("migration"):
                    code, logs = cluster.run_job(
                        f"{inputs.stack}_migrate-{inputs.deploy_id}" + (f"-r{attempt}" if attempt else ""),
                        image,
                        inputs.migrate_command,
                        job_env,
                        inputs.migrate_network,
                        inputs.migrate_constraints,
                        auth,
                        {"org.deploy-actions.stack": inputs.stack, "org.deploy-actions.tag": inputs.tag},
                        max(inputs.timeout - (time.monotonic() - started), 1),
                        reporter.info,
                    )
                    with reporter.untrusted():
                        reporter.foreign(logs.rstrip() or "(no output)")
                stopped_by_lock = code not in (0, None) and any(
                    m in logs for m in migration_timeouts.LOCK_TIMEOUT_MARKS
                )
                if not stopped_by_lock or attempt >= inputs.migration.retries:
                    break
                attempt += 1
                pause = 2**attempt
                reporter.info(
                    f"migration stopped waiting for a lock: another session holds it; "
                    f"try {attempt} of {inputs.migration.retries} in {pause}s"
                )
                record("migrate-retry", inputs.tag, f"lock-timeout-{attempt}")
                time.sleep(pause)
            if code != 0:
                record("migrate", inputs.tag, "failed")
                why = "did not finish in time" if code is None else f"exited {code}"
                if stopped_by_lock:
                    why = migration_timeouts.explain(
                        f"stopped waiting for a lock after {attempt + 1} tries (another session holds it)", logs
                    )
                outcome.failure = f"the migration {why}; no service was updated"
                outcome.services = _describe({}, before)
                return outcome
            record("migrate", inputs.tag, "ok")
        record("started", inputs.tag, "in-progress")
        override = override_file(list(inputs.release_services), inputs.update, inputs.services.version)
        try:
            with _auth(inputs) as auth, reporter.group(f"docker stack deploy {inputs.stack}"):
                files = list(inputs.compose_files) + ([override] if override else [])
                out = cluster.stack_deploy(
                    inputs.stack, files, {**inputs.variables, inputs.tag_variable: inputs.tag}, auth
                )
                with reporter.untrusted():
                    reporter.foreign(out.rstrip())
        finally:
            if override:
                os.unlink(override)
        remaining = max(inputs.timeout - (time.monotonic() - started), 1)
        verdicts, failure = converge(
            cluster, inputs, expected, before, min(inputs.converge_timeout, remaining), reporter
        )
        if failure is None:
            reporter.success(f"every task runs {inputs.tag}: " + ", ".join(v.progress for v in verdicts.values()))
            if inputs.gate.url:
                ok, why = _check(inputs, reporter)
                if not ok:
                    failure = f"{inputs.gate.url}: {why}"
        states = cluster.services(inputs.stack)
        outcome.services = _describe(verdicts, states)
        if failure is None:
            record("deploy", inputs.tag, "ok")
            return outcome
        outcome.failure = failure
        reporter.info(f"{inputs.stack}: {failure}")  # annotated once, by the result
        if not outcome.previous or cancel.cancelled.is_set():
            outcome.rollback = "none"
            record("deploy", inputs.tag, "failed-no-rollback" if not outcome.previous else "cancelled")
            return outcome
        with reporter.group(f"rolling back to {outcome.previous}"):
            how, back_failure, back = _roll_back(cluster, inputs, before, outcome.previous, reporter)
        outcome.rollback, outcome.rolled_back = how, back_failure is None
        outcome.services = _describe(back, cluster.services(inputs.stack))
        if back_failure:
            outcome.failure += f"; the rollback ({how}) failed too: {back_failure}"
            record("rollback", outcome.previous, f"failed-{how}")
        else:
            reporter.success(f"every service is back on {outcome.previous} ({how}), verified by digest")
            record("rollback", outcome.previous, f"ok-{how}")
    return outcome
