"""Static gates that run with the suite: ruff on the code, zizmor on every action."""

import shutil
import subprocess

import pytest

from conftest import ROOT


def tool(name):
    path = shutil.which(name) or (str(ROOT / ".venv" / "bin" / name) if (ROOT / ".venv/bin" / name).exists() else None)
    if not path:
        pytest.skip(f"{name} is not installed (scripts/dev-env installs it)")
    return path


def test_ruff_is_clean():
    proc = subprocess.run(
        [tool("ruff"), "check", "python", "tests", "examples", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean():
    proc = subprocess.run(
        [tool("ruff"), "format", "--check", "python", "tests", "examples", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_reports_nothing_on_actions_and_workflows():
    files = [str(p.relative_to(ROOT)) for p in ROOT.glob("**/action.yml") if ".venv" not in p.parts]
    files += [str(p.relative_to(ROOT)) for p in (ROOT / "workflows-examples").glob("*.yml")]
    files += [str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml")]
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *files], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "No findings" in proc.stdout, proc.stdout + proc.stderr
