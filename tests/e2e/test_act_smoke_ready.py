"""The actions as a consumer uses them: a workflow with
`uses: org/deploy-actions/smoke-ready@v1` (or the root action) run by act on this
machine, the reference mapped to a clean export of this checkout."""

import re
import textwrap

import pytest

from conftest import commit_all, run_act
from deploy_actions.commands import root_commands

pytestmark = pytest.mark.act


def run_workflow(tmp_path, action_repo, steps: str):
    repo = tmp_path / "consumer"
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = "on: push\npermissions: {}\njobs:\n  smoke:\n    runs-on: ubuntu-latest\n    steps:\n"
    (repo / ".github/workflows/smoke.yml").write_text(workflow + textwrap.indent(textwrap.dedent(steps), " " * 6))
    commit_all(repo, "consumer")
    return run_act(repo, action_repo, "push")


SMOKE_THEN_ECHO = """\
- id: smoke
  uses: {uses}
  with:
{with_}
- env:
    READY: ${{{{ steps.smoke.outputs.ready }}}}
    ATTEMPTS: ${{{{ steps.smoke.outputs.attempts }}}}
  run: echo "outputs ready=$READY attempts=$ATTEMPTS"
"""


def steps_for(uses, **inputs):
    with_ = "\n".join(f"    {k}: {v}" for k, v in inputs.items())
    return SMOKE_THEN_ECHO.format(uses=uses, with_=with_)


@pytest.mark.parametrize(
    "uses,extra", [("org/deploy-actions/smoke-ready@v1", {}), ("org/deploy-actions@v1", {"command": "smoke-ready"})]
)
def test_ready_service_passes_and_outputs_reach_the_next_step(start_app, tmp_path, action_repo, uses, extra):
    app = start_app(ready_after=0.5)
    proc = run_workflow(tmp_path, action_repo, steps_for(uses, url=app.url, timeout="30s", **extra))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"outputs ready=true attempts=\d+", proc.stdout)
    assert "Job succeeded" in proc.stdout
    assert any(path == "/ready" for _, _, path in app.requests)


@pytest.mark.parametrize(
    "uses,extra", [("org/deploy-actions/smoke-ready@v1", {}), ("org/deploy-actions@v1", {"command": "smoke-ready"})]
)
def test_never_ready_service_fails_the_job_with_an_annotation(start_app, tmp_path, action_repo, uses, extra):
    app = start_app(ready_after=None)
    proc = run_workflow(tmp_path, action_repo, steps_for(uses, url=app.url, timeout="1s", **extra))
    assert proc.returncode != 0
    assert "::error title=smoke-ready%3A ready (wrong-status)::" in proc.stdout
    assert "but not ready" in proc.stdout
    assert "Job failed" in proc.stdout
    assert "outputs ready=" not in proc.stdout  # the job stopped at the failed step


def test_root_action_with_an_unknown_command_is_a_usage_error(tmp_path, action_repo):
    proc = run_workflow(
        tmp_path, action_repo, steps_for("org/deploy-actions@v1", command="ship-it", url="http://127.0.0.1:9")
    )
    assert proc.returncode != 0
    assert f"command: expected one of {', '.join(root_commands())}, got 'ship-it'" in proc.stdout
    assert "exitcode '2'" in proc.stdout or "exit status 2" in proc.stdout


def test_cold_then_warm_in_one_job_without_uv(start_app, tmp_path, action_repo):
    """A hosted runner has no uv: the first action installs with the interpreter's own pip
    (uv from its lock, then the environment) and the second starts the CLI directly."""
    import os

    app = start_app(ready_after=0.2)
    steps = steps_for("org/deploy-actions/smoke-ready@v1", url=app.url, timeout="30s")
    second = steps_for("org/deploy-actions/smoke-ready@v1", url=app.url, timeout="30s")
    steps += second.replace("id: smoke", "id: again").replace("steps.smoke.", "steps.again.")
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not os.path.exists(os.path.join(d, "uv")))
    repo = tmp_path / "consumer"
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = "on: push\npermissions: {}\njobs:\n  smoke:\n    runs-on: ubuntu-latest\n    steps:\n"
    (repo / ".github/workflows/smoke.yml").write_text(workflow + textwrap.indent(textwrap.dedent(steps), " " * 6))
    commit_all(repo, "consumer")
    # act's host mode keeps the tool cache under its action cache path: a fresh one, a fresh runner.
    proc = run_act(
        repo, action_repo, "push", "--action-cache-path", str(tmp_path / "act"), env={**os.environ, "PATH": path}
    )
    cache = tmp_path / "act" / "tool_cache"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.stdout.count("with uv (installed with pip)") == 1, proc.stdout[-4000:]
    assert len(re.findall(r"outputs ready=true attempts=\d+", proc.stdout)) == 2
    assert list(cache.glob("deploy-actions/uv-*/bin/uv"))
    assert list(cache.glob("deploy-actions/venv-*/requirements.lock"))
    assert not re.search(r"DEPLOY_ACTIONS_RUNTIME \(/[^)]*\) is not usable", proc.stdout)  # the direct start
