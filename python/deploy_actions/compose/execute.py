"""An ssh-compose-deploy, run: reach the hosts, hold each deploy folder's lock for the whole
deploy, gate and check readiness from the runner, and roll out (compose/rollout.py). Returns
the outcome; the command renders it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from deploy_actions.compose import host_proxy, maintenance
from deploy_actions.compose.rollout import HostState, Outcome, Plan, Rollout
from deploy_actions.compose.settings import (
    SCRIPT,
    Inputs,
    connect_to,
    host_params,
    host_url,
    remote_params,
)
from deploy_actions.console import Reporter
from deploy_actions.remote.access import ssh_kit, warn_if_insecure
from deploy_actions.remote.hosts import Host
from deploy_actions.remote.ssh import Answer
from deploy_actions.smoke import gate as readiness_gate
from deploy_actions.values import plural


def ready_and_smoke(
    checks: readiness_gate.Gate,
    base: str,
    reporter: Reporter,
    connect_to: dict[str, str] | None = None,
    ca_bundle: str | None = None,
) -> tuple[bool, str]:
    """The readiness gate (/ready, then the smoke calls) at `base` + ready-url's path, from the runner."""
    from deploy_actions.smoke.verify import verify

    readiness = readiness_gate.readiness(checks, base, connect_to=connect_to or {}, ca_bundle=ca_bundle)
    verdict = verify(readiness, reporter)
    return verdict.ok, verdict.diagnosis or "a smoke call failed"


def _checker(inputs: Inputs, reporter: Reporter, base: Callable[[Host], str], public: bool = False):
    """The check of one host, its base URL given by `base(host)`; `public`: through the proxy,
    at ready-url's name (reached at ready-connect-to) and with ready-ca-bundle."""
    if not public:
        return lambda host: ready_and_smoke(inputs.gate, base(host), reporter)
    return lambda host: ready_and_smoke(
        inputs.gate, base(host), reporter, connect_to(inputs, host), inputs.ready_ca_bundle
    )


def _public(inputs: Inputs, host: Host) -> str:
    parts = urlsplit(host_url(inputs.gate.url, host))
    return f"{parts.scheme}://{parts.netloc}"


def around_migration(inputs: Inputs, params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]] | None:
    """during-migration's remote actions on every host: the one that starts it, the one that ends it."""
    seconds, around = str(inputs.pause_timeout), {"AROUND_MIGRATION": "true"}
    if inputs.during_migration == "pause":
        return {"action": "pause", "PAUSE": seconds, **around}, {"action": "pause", "PAUSE": "0", **around}
    if inputs.during_migration == "maintenance":
        routes = maintenance.route_lines(params["HP_ROUTES"], int(seconds), False, host_proxy.APP_TOKEN)
        on = {"action": "maintenance", "MAINT": "on", "HP_MAINT_ROUTES": routes, **around}
        return on, {"action": "maintenance", **around}
    return None


def deploy(inputs: Inputs, reporter: Reporter, decision: str = "") -> Outcome:
    """Every host of `inputs` on the new tag, or back where it was: the SSH kit, the locks held
    for the whole deploy, the runner-side gate and checks, the rollout. With `decision`
    (promote or abort), the release a deploy with hold left waiting instead."""
    warn_if_insecure(inputs.ssh, reporter, "ssh-compose-deploy", "the hosts")
    started = time.monotonic()
    params = remote_params(inputs)
    hosts = list(inputs.hosts)
    with ssh_kit(inputs.ssh, SCRIPT) as kit:
        kit.pin(hosts)
        check = gate = None
        if inputs.gate.url and inputs.ready_from == "runner":
            check = _checker(inputs, reporter, lambda host: _public(inputs, host), public=True)

            def gate(host: Host, port: int) -> tuple[bool, str]:
                """The new copy itself, before any user reaches it: through a port forwarded
                over the host's SSH connection to where the proxy will reach it."""
                try:
                    with kit.forward(host, host_url(inputs.upstream_host, host), port) as local:
                        return _checker(inputs, reporter, lambda _: f"http://127.0.0.1:{local}")(host)
                except OSError as exc:
                    return False, f"could not reach the new copy through SSH: {exc}"

        def run_on(host: Host, params: dict, timeout: float):
            return kit.run(host, {**params, **host_params(inputs, host)}, exports=inputs.env, timeout=timeout)

        plan = Plan(
            hosts=hosts,
            tag=inputs.tag,
            params=params,
            migrate=bool(inputs.migrate_command),
            blue_green=inputs.strategy != "recreate",
            canary=inputs.canary,
            hold=inputs.hold,
            during_migration=around_migration(inputs, params),
            max_parallel=inputs.max_parallel,
            fail_fast=inputs.fail_fast,
            command_timeout=inputs.command_timeout,
            deadline=started + inputs.timeout,
        )
        doing = (
            f"{decision} of the held release" if decision else f"ssh-compose-deploy {inputs.tag} ({inputs.strategy})"
        )
        reporter.info(
            f"{doing} on {plural(len(hosts), 'host')} ({inputs.deploy_path}), "
            f"{'one at a time' if inputs.max_parallel == 1 else f'{inputs.max_parallel} at a time'}"
        )
        with contextlib.ExitStack() as held:
            # One deploy per folder at a time, for the whole deploy (its sessions, and the
            # runner-side checks between them): each host's lock is held by a session that
            # stays open until the end. Taken in one order, so two deploys cannot deadlock.
            refused = None
            for host in sorted(hosts, key=str):
                refused = held.enter_context(kit.hold(host, {**params, **host_params(inputs, host)}, reporter.foreign))
                if refused:
                    break
            if refused:
                outcome = Outcome(
                    [HostState(h) for h in hosts], f"{refused.host}: {refused.problem()} (nothing was changed)"
                )
            else:
                rollout = Rollout(plan, run_on, check, say=reporter.info, gate=gate)
                outcome = {"promote": rollout.promote, "abort": rollout.abort}.get(decision, rollout.run)()
                outcome.tag = plan.tag
    return outcome


def on_every_host(inputs: Inputs, params: dict[str, str], reporter: Reporter, label: str) -> list[Answer]:
    """One remote action on each host in turn, outside a rollout (proxy-remove-app,
    maintenance): each host's output in a group of its own, as text from the host."""
    answers = []
    with ssh_kit(inputs.ssh, SCRIPT) as kit:
        kit.pin(list(inputs.hosts))
        for host in inputs.hosts:
            answer = kit.run(host, {**params, **host_params(inputs, host)}, timeout=inputs.command_timeout)
            with reporter.group(f"{host}: {label}"), reporter.untrusted():
                for line in answer.out.splitlines():
                    if not line.startswith("@@"):
                        reporter.info(f"  {line}")
                if not answer.ok:
                    reporter.info(f"  {answer.problem()}")
            answers.append(answer)
    return answers
