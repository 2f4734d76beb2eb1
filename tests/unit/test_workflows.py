"""The workflows this repository ships — its own (.github/workflows) and the examples
consumers copy (workflows-examples) — hold the rules the README promises, checked
statically: no expressions in `run:`, least-privilege permissions, one deploy per
environment at a time, release tags only, third-party actions pinned; and the GitLab twin
only uses commands and flags the CLI has."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from deploy_actions.commands import load_all

OWN = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted(p for p in (ROOT / "workflows-examples").glob("*.yml") if not p.name.startswith("."))
DEPLOYS = [
    ROOT / "workflows-examples" / "deploy-stage.yml",
    ROOT / "workflows-examples" / "deploy-production.yml",
    ROOT / ".github" / "workflows" / "deploy.yml",
]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


@pytest.mark.parametrize("path", OWN + EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_expression_inside_run_and_least_privilege(path):
    workflow = load(path)
    assert workflow.get("permissions") == {}, "top-level permissions: {} (each job asks for its own)"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job or "uses" in job, f"job {name} states its permissions"
        granted = job.get("permissions") or {}
        assert set(granted.values()) <= {"read", "write"} and granted.get("contents") in (None, "read", "write")
        if "uses" not in job:
            assert "timeout-minutes" in job, f"job {name} has a timeout"
    for step in steps(workflow):
        assert "${{" not in step.get("run", ""), f"{path.name}: an expression inside run: ({step.get('name')})"
        uses = step.get("uses", "")
        if uses and not uses.startswith(("./", "org/deploy-actions")):
            assert re.search(r"@[0-9a-f]{40}$", uses), f"{uses} is not pinned to a commit SHA"
    written = [n for n, j in workflow["jobs"].items() if "write" in (j.get("permissions") or {}).values()]
    for name in written:
        assert name in {"image", "publish"}, f"{path.name}: job {name} should not need write access"


@pytest.mark.parametrize("path", DEPLOYS, ids=lambda p: p.name)
def test_deploys_wait_their_turn_and_take_release_tags_only(path):
    workflow = load(path)
    [job] = workflow["jobs"].values()
    concurrency = job.get("concurrency") or workflow.get("concurrency")
    assert concurrency["cancel-in-progress"] is False and "deploy-" in concurrency["group"]
    assert job["environment"]
    checks = "\n".join(step.get("run", "") for step in job["steps"])
    assert "^v[0-9]+\\.[0-9]+\\.[0-9]+$" in checks and 'checkout --quiet "refs/tags/$IMAGE_TAG"' in checks
    deploy = next(step for step in job["steps"] if "ssh-compose-deploy" in step.get("uses", ""))
    assert deploy["with"]["require-release-tag"] is True


def test_production_is_the_production_environment():
    job = load(ROOT / "workflows-examples" / "deploy-production.yml")["jobs"]["deploy"]
    assert job["environment"]["name"] == "production"


def test_the_gitlab_twin_uses_real_commands_and_flags():
    text = (ROOT / "workflows-examples" / ".gitlab-ci.yml").read_text()
    commands = load_all()
    calls = [
        line.split("deploy-actions ", 1)[1]
        for line in text.splitlines()
        if line.strip().startswith("- ") and re.search(r"(^|\s)deploy-actions \w", line)
    ]
    assert len(calls) >= 5
    for call in calls:
        argv = shlex.split(call)
        command = commands[argv[0]]
        flags = {f"--{o.name}" for o in command.options} | {f"--no-{o.name}" for o in command.options if o.switch}
        used = {arg.split("=", 1)[0] for arg in argv[1:] if arg.startswith("--")}
        assert used <= flags, f"{argv[0]}: unknown {used - flags}"
        required = {f"--{o.name}" for o in command.options if o.required}
        # The SSH key arrives as INPUT_SSH_KEY, not on the command line.
        assert required <= used | {"--ssh-key"}, f"{argv[0]} misses {required - used}"
