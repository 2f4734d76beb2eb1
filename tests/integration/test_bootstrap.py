"""python/bootstrap.py, the first thing every action step runs: a cached virtualenv
from the hash-locked requirements, made once and reused, with pip or uv."""

import os
import re
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
    # -S as the step scripts start it: site-packages are loaded only when pip is needed
    return subprocess.run(
        [sys.executable, "-S", BOOTSTRAP, *args], capture_output=True, text=True, env=env, timeout=600
    )


def without_uv_on_path() -> str:
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not os.path.exists(os.path.join(d, "uv")))


@pytest.mark.parametrize("installer", ["pip", "uv", "uv (installed with pip)"])
def test_cold_then_warm(tmp_path, installer):
    if installer == "uv" and not shutil.which("uv"):
        pytest.fail("uv is a dev dependency and should be on PATH")
    env = {"RUNNER_TOOL_CACHE": str(tmp_path), "GITHUB_ACTIONS": "true"}
    if installer == "pip":
        env["DEPLOY_ACTIONS_NO_UV"] = "1"
    if installer == "uv (installed with pip)":  # a hosted runner: no uv, the interpreter's own pip
        env["PATH"] = without_uv_on_path()
    cold = bootstrap(env, "--version")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    lines = cold.stdout.splitlines()
    assert lines[0] == "::group::deploy-actions: installing dependencies (first use on this runner)"
    assert lines[1].endswith(f" with {installer}"), lines
    assert lines[-1] == "deploy-actions 0.1.0"
    assert bool(list((tmp_path / "deploy-actions").glob("uv-*/bin/uv"))) == (installer == "uv (installed with pip)")
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
    again = subprocess.run(
        [python, BOOTSTRAP, "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "DEPLOY_ACTIONS_RUNTIME": python},
    )
    assert again.returncode == 0 and again.stdout == "deploy-actions 0.1.0\n", again.stderr
    assert github_env.read_text().splitlines() == [line]
    assert len(list((tmp_path / "deploy-actions").glob("venv-*/.deploy-actions-ready"))) == 1


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_tampered_lock_refuses_to_install(tmp_path, installer):
    """The hashes are the lock: one changed hash and nothing is installed."""
    python = tmp_path / "python"
    shutil.copytree(ROOT / "python", python, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    lock = python / "requirements.lock"
    text = lock.read_text()
    start = text.index("pyyaml==")
    end = text.index("\n", text.index("# via", start)) if "# via" in text[start:] else len(text)
    flip = str.maketrans("0123456789abcdef", "123456789abcdef0")  # every digest off by one digit
    block = re.sub(r"sha256:([0-9a-f])", lambda m: "sha256:" + m.group(1).translate(flip), text[start:end])
    lock.write_text(text[:start] + block + text[end:])
    tampered = lock.read_text()
    assert tampered != text
    env = {"RUNNER_TOOL_CACHE": str(tmp_path / "cache"), "DEPLOY_ACTIONS_NO_UV": "1" if installer == "pip" else ""}
    proc = subprocess.run(
        [sys.executable, str(python / "bootstrap.py"), "--version"],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}, **env},
        timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "could not create the deploy-actions environment" in proc.stdout + proc.stderr
    assert not list((tmp_path / "cache").glob("deploy-actions/venv-*/.deploy-actions-ready"))


def test_half_made_venv_from_a_cancelled_job_is_rebuilt(tmp_path):
    env = {"RUNNER_TOOL_CACHE": str(tmp_path)}
    assert bootstrap(env, "--version").returncode == 0
    venv = next(p for p in (tmp_path / "deploy-actions").glob("venv-*") if p.is_dir())
    (venv / ".deploy-actions-ready").unlink()
    shutil.rmtree(next(venv.glob("lib/python*/site-packages/yaml")))
    again = bootstrap(
        env,
        "smoke-ready",
        "--url",
        "http://127.0.0.1:9",
        "--timeout",
        "100ms",
        "--health-path",
        "none",
        "--smoke-spec",
        str(ROOT / "examples/hello/smoke.yml"),
    )
    assert again.returncode == 1, again.stdout + again.stderr  # ran (and the service is absent), yaml imported
    assert "connection-refused" in again.stdout


def test_started_through_a_link_that_goes_away_the_environment_still_works(tmp_path):
    """A python3 on PATH that is a link in a temporary folder (a benchmark's, a setup action's):
    the environment links to the interpreter itself, so it outlives the link, and the next run
    reuses it."""
    links = tmp_path / "links"
    links.mkdir()
    (links / "python3").symlink_to(os.path.realpath(sys.executable))
    env = {"RUNNER_TOOL_CACHE": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    first = subprocess.run(
        [str(links / "python3"), BOOTSTRAP, "--version"],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=600,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    shutil.rmtree(links)
    [venv] = [p for p in (tmp_path / "cache" / "deploy-actions").glob("venv-*") if p.is_dir()]
    assert os.access(venv / "bin" / "python", os.X_OK)
    # Dependencies are byte-compiled once, at install, even where the runner forbids writing
    # bytecode: otherwise every step compiles them again.
    assert list(venv.glob("lib/python*/site-packages/yaml/__pycache__/*.pyc"))
    again = bootstrap(env, "--version")
    assert again.returncode == 0 and again.stdout == "deploy-actions 0.1.0\n", again.stdout + again.stderr


def test_every_copy_of_the_library_finds_its_modules_compiled_once(tmp_path):
    """act copies the library for every step and this machine forbids writing bytecode: the
    environment keeps the library's compiled modules by content, so a second copy compiles
    nothing, a changed file is compiled afresh, and tracebacks name the copy that ran."""
    copies = []
    for name in ("first", "second"):
        copy = tmp_path / name / "python"
        shutil.copytree(ROOT / "python", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        copies.append(copy)
    env = {"RUNNER_TOOL_CACHE": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}

    def run(copy, *args):
        proc = subprocess.run(
            [sys.executable, str(copy / "bootstrap.py"), *args], capture_output=True, text=True, env={**base, **env}
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    assert run(copies[0], "--version").endswith("deploy-actions 0.1.0\n")
    [venv] = [p for p in (tmp_path / "cache" / "deploy-actions").glob("venv-*") if p.is_dir()]
    compiled = {p.name for p in (venv / ".deploy-actions-bytecode").iterdir()}
    assert len(compiled) > 5  # the CLI's modules
    assert run(copies[1], "--version") == "deploy-actions 0.1.0\n"
    assert {p.name for p in (venv / ".deploy-actions-bytecode").iterdir()} == compiled  # all found
    assert not list(tmp_path.glob("*/python/**/__pycache__"))  # nothing written beside the sources

    cli = copies[1] / "deploy_actions" / "cli.py"
    cli.write_text(cli.read_text() + "\nprint('changed in this copy')\n")
    assert run(copies[1], "--version") == "changed in this copy\ndeploy-actions 0.1.0\n"
    assert len(list((venv / ".deploy-actions-bytecode").iterdir())) == len(compiled) + 1

    # compiled from the first copy, run from the second: its code names the second
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import deploy_actions.console as c; print(c.__spec__.loader.get_code(c.__name__).co_filename)",
        ],
        capture_output=True,
        text=True,
        env={**base, **env, "PYTHONPATH": str(copies[1])},
    )
    assert where.stdout.strip() == str(copies[1] / "deploy_actions" / "console" / "__init__.py"), where.stderr


def test_an_environment_whose_interpreter_is_gone_is_made_again(tmp_path):
    env = {"RUNNER_TOOL_CACHE": str(tmp_path)}
    assert bootstrap(env, "--version").returncode == 0
    [venv] = [p for p in (tmp_path / "deploy-actions").glob("venv-*") if p.is_dir()]
    for name in ("python", "python3"):
        (venv / "bin" / name).unlink(missing_ok=True)
    again = bootstrap(env, "--version")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "creating" in again.stdout and again.stdout.endswith("deploy-actions 0.1.0\n")
    assert os.access(venv / "bin" / "python", os.X_OK)


def test_too_old_python_gets_one_clear_line():
    code = (
        "import sys; sys.version_info = (3, 8, 10, 'final', 0); sys.argv = ['bootstrap.py'];"
        f"exec(compile(open({BOOTSTRAP!r}).read(), 'bootstrap.py', 'exec'))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"GITHUB_ACTIONS": "true", "PATH": os.environ["PATH"]},
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=deploy-actions::Python 3.10 or newer is needed")
    assert "actions/setup-python" in proc.stdout


def test_windows_runner_is_refused():
    proc = bootstrap({"RUNNER_OS": "Windows"}, "--version")
    assert proc.returncode == 2 and "Windows runners are not supported" in proc.stderr


def step_script(action: str) -> str:
    import yaml

    return yaml.safe_load((ROOT / action / "action.yml").read_text())["runs"]["steps"][0]["run"]


def run_step(action: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
    return subprocess.run(
        ["/bin/bash", "-c", step_script(action)],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **base,
            "GITHUB_ACTION_PATH": str(ROOT / action),
            "INPUT_URL": "http://127.0.0.1:9",
            "INPUT_TIMEOUT": "100ms",
            "INPUT_HEALTH_PATH": "none",
            **env,
        },
    )


def test_a_known_runtime_starts_the_cli_directly_and_any_other_falls_back_with_one_warning(tmp_path):
    github_env = tmp_path / "github_env"
    env = {"RUNNER_TOOL_CACHE": str(tmp_path), "GITHUB_ACTIONS": "true", "GITHUB_ENV": str(github_env)}
    assert bootstrap(env, "--version").returncode == 0
    runtime = github_env.read_text().strip().split("=", 1)[1]
    # No python3 on PATH at all: only the direct start can run the step (cmp is all it needs).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cmp").symlink_to(shutil.which("cmp"))
    direct = run_step("smoke-ready", {**env, "PATH": str(bin_dir), "DEPLOY_ACTIONS_RUNTIME": runtime})
    assert direct.returncode == 1, direct.stdout + direct.stderr
    assert "connection-refused" in direct.stdout and "::warning" not in direct.stdout
    for stale in ("/nonexistent/bin/python", sys.executable):  # deleted; a Python without this environment
        fallback = run_step("smoke-ready", {**env, "DEPLOY_ACTIONS_RUNTIME": stale})
        assert fallback.returncode == 1, fallback.stdout + fallback.stderr
        warnings = [line for line in fallback.stdout.splitlines() if line.startswith("::warning")]
        assert len(warnings) == 1 and f"DEPLOY_ACTIONS_RUNTIME ({stale}) is not usable here" in warnings[0]
        assert "connection-refused" in fallback.stdout  # the step still ran, through the bootstrap
