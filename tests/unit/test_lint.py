"""Static gates that run with the suite: ruff on the code, zizmor on every action, shellcheck
on every shell script."""

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


def test_shellcheck_is_clean_on_every_shell_script():
    """The remote scripts are code that runs on production hosts: shellcheck-clean, warnings included."""
    listed = subprocess.run(
        ["git", "ls-files", "*.sh", "scripts/*", "examples/*/local-env"], cwd=ROOT, capture_output=True, text=True
    )
    files = [
        name
        for name in listed.stdout.split()
        if name.endswith(".sh") or (ROOT / name).read_text(errors="replace").startswith("#!/usr/bin/env bash")
    ]
    proc = subprocess.run(
        [tool("shellcheck"), "-S", "warning", "-f", "gcc", *files], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
