"""When is a stack's update done? Not when Swarm says "updated": when every task of every
service that should run is running the release's image, by digest. And when has it failed?
When Swarm paused or rolled back the update, or a task keeps failing. Pure: the state read
from the engine in, a verdict per service out."""

from __future__ import annotations

from dataclasses import dataclass, field

FAILED_UPDATE = {
    "paused": "Swarm paused the update",
    "rollback_started": "Swarm is rolling the update back",
    "rollback_paused": "Swarm paused rolling the update back",
    "rollback_completed": "Swarm rolled the update back",
}
TASK_FAILED = ("failed", "rejected", "orphaned")


@dataclass(frozen=True)
class Task:
    state: str  # running, starting, failed, shutdown…
    desired: str  # running, shutdown, complete
    image: str  # repo:tag@sha256:…
    error: str = ""
    exit_code: int | None = None


@dataclass(frozen=True)
class ServiceState:
    name: str
    image: str  # the spec's image, repo:tag@sha256:… once Swarm resolved it
    replicas: int | None  # None: global
    version: int
    update_state: str | None = None
    update_message: str = ""
    previous_image: str | None = None  # PreviousSpec's image (what `docker service rollback` returns to)
    tasks: tuple[Task, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Verdict:
    service: str
    done: bool
    failure: str | None
    running: int
    desired: int
    digest: str | None  # the spec's digest

    @property
    def progress(self) -> str:
        digest = f" on {self.digest[:19]}…" if self.digest else ""
        return f"{self.service}: {self.running}/{self.desired} running{digest}"


def digest_of(image: str) -> str | None:
    return image.rsplit("@", 1)[1] if "@" in image else None


def tag_of(image: str) -> str | None:
    """The tag of `repo[:port]/path:tag[@digest]`, if it has one."""
    name = image.rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def _task_problem(tasks: tuple[Task, ...]) -> str:
    failed = [t for t in tasks if t.state in TASK_FAILED]
    if not failed:
        return ""
    last = failed[-1]
    code = f" (exit {last.exit_code})" if last.exit_code not in (None, 0) else ""
    return f"{len(failed)} task(s) failed, last: {last.error or last.state}{code}"


ROLLBACK_FAILED = {key: FAILED_UPDATE[key] for key in ("paused", "rollback_paused")}


def assess(
    state: ServiceState,
    expected: str | None,
    updated: bool,
    *,
    rolling_back: bool = False,
    failures_allowed: int = 3,
) -> Verdict:
    """`expected`: the digest this service must run (None: any, for services outside the
    release). `updated`: this deploy changed the service's spec, so its update status is
    this deploy's (a status left from an earlier update says nothing about this one).
    `rolling_back`: the previous release is expected, and Swarm's own rollback is the way."""
    digest = digest_of(state.image)
    wanted = [t for t in state.tasks if t.desired == "running"]
    on_release = [t for t in wanted if expected is None or digest_of(t.image) == expected]
    running = [t for t in on_release if t.state == "running"]
    desired = state.replicas if state.replicas is not None else len(wanted)
    failure = None
    failing = ROLLBACK_FAILED if rolling_back else FAILED_UPDATE
    if updated and state.update_state in failing:
        failure = failing[state.update_state]
        detail = state.update_message or _task_problem(state.tasks)
        failure += f": {detail}" if detail else ""
    elif expected is not None and digest is not None and digest != expected:
        failure = f"its spec runs {digest[:19]}…, not the release's {expected[:19]}…"
    else:
        broken = [t for t in state.tasks if t.state in TASK_FAILED and digest_of(t.image) == (expected or digest)]
        if len(broken) >= failures_allowed and len(running) < desired:
            failure = f"its tasks keep failing: {_task_problem(state.tasks)}"
    others = [t for t in wanted if t not in on_release and t.state == "running"]
    finished = ("completed", "rollback_completed") if rolling_back else ("completed",)
    update_over = not updated or state.update_state in (None, *finished)
    done = failure is None and update_over and len(running) == desired and not others
    return Verdict(state.name, done, failure, len(running), desired, digest)


@dataclass(frozen=True)
class RollbackPlan:
    how: str  # swarm-rollback or redeploy-previous
    services: tuple[str, ...]  # for swarm-rollback: the services to roll back (others are back already)
    expected: dict[str, str]  # service → the digest it ran before the deploy


def rollback_plan(
    before: dict[str, ServiceState], now: dict[str, ServiceState], release: tuple[str, ...]
) -> RollbackPlan:
    """Swarm's own rollback returns a service to its previous spec. That is right when the
    previous spec is what the service ran before this deploy (or Swarm already went back);
    if anything else changed the service since, only deploying the previous tag again
    returns every service to the previous release."""
    expected = {n: d for n, s in before.items() if n in release and (d := digest_of(s.image))}
    back, to_roll = True, []
    for name, digest in expected.items():
        state = now.get(name)
        if state is not None and digest_of(state.image) == digest:
            continue  # Swarm rolled it back itself, or this deploy did not change it
        if state is not None and state.previous_image and digest_of(state.previous_image) == digest:
            to_roll.append(name)
            continue
        back = False
    if back:
        return RollbackPlan("swarm-rollback", tuple(to_roll), expected)
    return RollbackPlan("redeploy-previous", (), expected)
