"""python/bootstrap.py, the first thing every action step runs: a cached virtualenv
from the hash-locked requirements, made once and reused, with pip or uv."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

BOOTSTRAP = str(ROOT / "python" / "bootstrap.py")


def bootstrap(env_extra, *args):
    # The machine's own settings (CA bundles, proxies) stay; runner variables come from the test.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    env = {**base, **env_extra}
    return subprocess.run([sys.executable, BOOTSTRAP, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_cold_then_warm(tmp_path, installer):
    if installer == "uv" and not shutil.which("uv"):
        pytest.fail("uv is a dev dependency and should be on PATH")
    env = {"RUNNER_TOOL_CACHE": str(tmp_path), "GITHUB_ACTIONS": "true"}
    if installer == "pip":
        env["DEPLOY_ACTIONS_NO_UV"] = "1"
    cold = bootstrap(env, "--version")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    lines = cold.stdout.splitlines()
    assert lines[0] == "::group::deploy-actions: installing dependencies (first use on this runner)"
    assert f"with {installer}" in lines[1] or installer == "pip"
    assert lines[-1] == "deploy-actions 0.1.0"
    venvs = list((tmp_path / "deploy-actions").glob("venv-*/.deploy-actions-ready"))
    assert len(venvs) == 1
    warm = bootstrap(env, "--version")
    assert warm.returncode == 0 and warm.stdout == "deploy-actions 0.1.0\n"  # nothing installed again


def test_the_job_remembers_the_environment_for_its_next_actions(tmp_path):
    github_env = tmp_path / "github_env"
    env = {"RUNNER_TOOL_CACHE": str(tmp_path), "GITHUB_ACTIONS": "true", "GITHUB_ENV": str(github_env)}
    assert bootstrap(env, "--version").returncode == 0
    [line] = github_env.read_text().splitlines()
    name, python = line.split("=", 1)
    assert name == "DEPLOY_ACTIONS_RUNTIME" and python.startswith(str(tmp_path / "deploy-actions" / "venv-"))
    # The next step starts bootstrap with that Python: same environment, nothing written again.
    again = subprocess.run([python, BOOTSTRAP, "--version"], capture_output=True, text=True,
                           env={**os.environ, **env, "DEPLOY_ACTIONS_RUNTIME": python})
    assert again.returncode == 0 and again.stdout == "deploy-actions 0.1.0\n", again.stderr
    assert github_env.read_text().splitlines() == [line]
    assert len(list((tmp_path / "deploy-actions").glob("venv-*/.deploy-actions-ready"))) == 1


def test_half_made_venv_from_a_cancelled_job_is_rebuilt(tmp_path):
    env = {"RUNNER_TOOL_CACHE": str(tmp_path)}
    assert bootstrap(env, "--version").returncode == 0
    venv = next(p for p in (tmp_path / "deploy-actions").glob("venv-*") if p.is_dir())
    (venv / ".deploy-actions-ready").unlink()
    shutil.rmtree(next(venv.glob("lib/python*/site-packages/yaml")))
    again = bootstrap(env, "smoke-ready", "--url", "http://127.0.0.1:9", "--timeout", "100ms",
                      "--health-path", "none", "--spec", str(ROOT / "examples/hello/smoke.yml"))
    assert again.returncode == 1, again.stdout + again.stderr  # ran (and the service is absent), yaml imported
    assert "connection-refused" in again.stdout


def test_too_old_python_gets_one_clear_line():
    code = ("import sys; sys.version_info = (3, 8, 10, 'final', 0); sys.argv = ['bootstrap.py'];"
            f"exec(compile(open({BOOTSTRAP!r}).read(), 'bootstrap.py', 'exec'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"GITHUB_ACTIONS": "true", "PATH": os.environ["PATH"]})
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=deploy-actions::Python 3.10 or newer is needed")
    assert "actions/setup-python" in proc.stdout


def test_windows_runner_is_refused():
    proc = bootstrap({"RUNNER_OS": "Windows"}, "--version")
    assert proc.returncode == 2 and "Windows runners are not supported" in proc.stderr
