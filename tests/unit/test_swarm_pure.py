"""swarm-deploy's pure parts: stack files as `docker stack deploy` reads them, when a
stack has converged or failed, whether an engine can take a deploy."""

import pytest

from deploy_actions.errors import UsageError
from deploy_actions.swarm import stackfile
from deploy_actions.swarm.cluster import manager_problem
from deploy_actions.swarm.convergence import ServiceState, Task, assess, rollback_plan, tag_of

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def test_interpolation_as_compose_does_it():
    env = {"TAG": "v1.2.3", "EMPTY": "", "REG": "ghcr.io/org"}
    assert stackfile.interpolate("${REG}/app:$TAG", env) == "ghcr.io/org/app:v1.2.3"
    assert stackfile.interpolate("${MISSING:-v0} ${EMPTY:-dflt} ${EMPTY-kept}", env) == "v0 dflt "
    assert stackfile.interpolate("${TAG:+set} ${MISSING+set} $$TAG", env) == "set  $TAG"
    with pytest.raises(UsageError, match="variable MISSING is not set: say it"):
        stackfile.interpolate("${MISSING:?say it}", env, where="stack.yml:3")
    assert stackfile.uses_variable("app:${IMAGE_TAG:-latest}", "IMAGE_TAG")
    assert stackfile.uses_variable("app:$IMAGE_TAG", "IMAGE_TAG")
    assert not stackfile.uses_variable("app:$IMAGE_TAGS", "IMAGE_TAG")
    assert not stackfile.uses_variable("app:$$IMAGE_TAG", "IMAGE_TAG")


BASE = """version: "3.8"
x-common: &common
  restart_policy: {condition: on-failure}
services:
  api:
    image: ghcr.io/org/api:${IMAGE_TAG}
    deploy:
      <<: *common
      replicas: 3
      update_config: {order: start-first}
  worker:
    image: ghcr.io/org/worker:${IMAGE_TAG}
    deploy: {mode: global}
  redis:
    image: redis:7
"""
OVERRIDE = """services:
  api:
    deploy:
      replicas: 5
  redis:
    image: redis:7.2
"""


def test_stack_files_merge_and_keep_their_lines():
    stack = stackfile.load({"stack.yml": BASE, "prod.yml": OVERRIDE}, {"IMAGE_TAG": "v1"})
    api, worker, redis = (stack.services[n] for n in ("api", "worker", "redis"))
    assert (api.replicas, api.update_order, api.file, api.line) == (5, "start-first", "stack.yml", 6)
    assert worker.replicas is None  # global
    assert stack.version == "3.8"
    assert (redis.image, redis.file, redis.line) == ("redis:7.2", "prod.yml", 6)
    assert stackfile.check_release_services(stack, ("api", "worker"), "IMAGE_TAG") == ("api", "worker")
    with pytest.raises(UsageError) as caught:
        stackfile.check_release_services(stack, (), "IMAGE_TAG")  # redis does not take the tag
    assert "prod.yml:6: service redis's image 'redis:7.2' does not use ${IMAGE_TAG}" in str(caught.value)
    assert caught.value.file == "prod.yml" and caught.value.line == 6


@pytest.mark.parametrize(
    "text, message",
    [
        ("services: [a, b]\n", "s.yml:1: services must be a mapping"),
        ("services:\n  web:\n    build: .\n", "s.yml:2: service web has `build` and no `image`"),
        ("services:\n  web:\n    ports: [80]\n", "s.yml:2: service web has no image"),
        ("services: {}\n", "s.yml: no services"),
        ("- a list\n", "s.yml: expected a compose file"),
        ("services:\n  web: {image: 'x\n", "s.yml: not valid YAML"),
        ("services:\n  web:\n    image: x\n    deploy: {replicas: many}\n", "s.yml:2: service web: deploy.replicas"),
        (
            "services:\n  web:\n    image: x\n    deploy: {placement: {constraints: node.role == worker}}\n",
            "s.yml:2: service web: deploy.placement.constraints must be a list",
        ),
    ],
)
def test_bad_stack_files(text, message):
    with pytest.raises(UsageError) as caught:
        stackfile.load({"s.yml": text}, {})
    assert message in str(caught.value)


def state(image=f"app:v2@{B}", replicas=2, update=None, tasks=(), version=2, message=""):
    return ServiceState("api", image, replicas, version, update, message, None, tuple(tasks))


def task(state_="running", desired="running", digest=B, error="", code=None):
    return Task(state_, desired, f"app:v2@{digest}", error, code)


def test_converged_only_when_every_task_runs_the_release_by_digest():
    done = assess(state(update="completed", tasks=[task(), task()]), B, updated=True)
    assert done.done and done.failure is None and done.progress == "api: 2/2 running on sha256:bbbbbbbbbbbb…"
    half = assess(state(update="updating", tasks=[task(), task(digest=A)]), B, updated=True)
    assert not half.done and half.running == 1 and half.failure is None
    old_still_up = assess(state(update="completed", tasks=[task(), task(), task(digest=A)]), B, updated=True)
    assert not old_still_up.done  # an old task still wanted running
    wrong_spec = assess(state(image=f"app:v2@{A}", tasks=[task(digest=A)]), B, updated=True)
    assert wrong_spec.failure.startswith("its spec runs sha256:aaaaaaaaaaaa…")
    global_mode = assess(state(replicas=None, update="completed", tasks=[task(), task(), task()]), B, updated=True)
    assert global_mode.done and global_mode.desired == 3


def test_failed_updates_and_failing_tasks():
    paused = assess(state(update="paused", message="update paused due to failure"), B, updated=True)
    assert paused.failure == "Swarm paused the update: update paused due to failure"
    stale = assess(state(update="rollback_completed", tasks=[task(), task()]), B, updated=False)
    assert stale.done  # a status left by an earlier update says nothing about this one
    crashing = [task("failed", "shutdown", error="task: non-zero exit (3)", code=3)] * 3
    failing = assess(state(update="updating", tasks=crashing), B, updated=True)
    assert failing.failure == "its tasks keep failing: 3 task(s) failed, last: task: non-zero exit (3) (exit 3)"
    back = assess(
        state(image=f"app:v1@{A}", update="rollback_completed", tasks=[task(digest=A)] * 2), A, True, rolling_back=True
    )
    assert back.done
    still = assess(state(image=f"app:v1@{A}", update="rollback_started"), A, True, rolling_back=True)
    assert not still.done and still.failure is None


def test_tags_and_managers():
    assert tag_of(f"127.0.0.1:5000/team/app:v1.2.3@{A}") == "v1.2.3"
    assert tag_of("127.0.0.1:5000/team/app") is None and tag_of(f"app@{A}") is None
    assert manager_problem({"Name": "n1", "Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}) is None
    assert "not in swarm mode" in manager_problem({"Name": "n1", "Swarm": {"LocalNodeState": "inactive"}})
    worker = manager_problem({"Name": "n2", "Swarm": {"LocalNodeState": "active", "ControlAvailable": False}})
    assert worker == "n2 is a swarm worker, not a manager: deploys go through a manager"


def test_rollback_plan_uses_swarm_where_its_previous_spec_is_the_previous_release():
    def service(name, image, previous=None, version=5):
        return ServiceState(name, f"app:{image}", 1, version, None, "", f"app:{previous}" if previous else None)

    before = {"api": service("api", f"v1@{A}"), "worker": service("worker", f"v1@{A}"), "redis": service("redis", "7")}
    now = {
        "api": service("api", f"v2@{B}", previous=f"v1@{A}"),  # this deploy's update: Swarm can go back
        "worker": service("worker", f"v1@{A}", previous=f"v2@{B}"),  # Swarm rolled it back already
        "redis": service("redis", "7.2"),
    }
    plan = rollback_plan(before, now, ("api", "worker"))
    assert (plan.how, plan.services, plan.expected) == ("swarm-rollback", ("api",), {"api": A, "worker": A})
    now["api"] = service("api", f"v2@{B}", previous=f"v2@{B}")  # updated again since: its previous is not v1
    assert rollback_plan(before, now, ("api", "worker")).how == "redeploy-previous"
    del now["worker"]  # removed meanwhile: only a redeploy brings it back
    assert rollback_plan(before, now, ("worker",)).how == "redeploy-previous"


def test_placement_constraints_are_read_filled_in_and_merged():
    base = (
        "services:\n  web:\n    image: x\n    deploy:\n      placement:\n"
        "        constraints:\n          - node.labels.db == ${DB:-yes}\n"
    )
    stack = stackfile.load({"a.yml": base}, {"DB": "eu"})
    assert stack.services["web"].constraints == ("node.labels.db == eu",)
    later = "services:\n  web:\n    deploy: {replicas: 2}\n"  # an override without placement keeps it
    assert stackfile.load({"a.yml": base, "b.yml": later}, {}).services["web"].constraints == ("node.labels.db == yes",)
    assert stackfile.load({"a.yml": "services:\n  web: {image: x}\n"}, {}).services["web"].constraints == ()


@pytest.mark.parametrize(
    "text, ok",
    [
        ("node.role == manager", True),
        ("node.role==worker", True),
        ("node.labels.db != no", True),
        ("engine.labels.zone == eu-1", True),
        ("node.hostname == host-1.example", True),
        ("node.role = manager", False),
        ("role == manager", False),
        ("node.role == manager; rm -rf /", False),
        ("node.role ==", False),
    ],
)
def test_migrate_constraints_syntax(text, ok):
    from deploy_actions.swarm.settings import CONSTRAINT

    assert bool(CONSTRAINT.match(text)) is ok
