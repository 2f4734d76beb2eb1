"""release-check on a throwaway git repository with tags; every refusal tested."""

import subprocess
from pathlib import Path

import pytest

from conftest import read_outputs
from deploy_actions.cli import main

GIT = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t"]
CHANGELOG = """# Changelog

## [Unreleased]

## [1.2.0] - 2026-11-20
### Added
- promote across repositories

## [1.1.0] - 2026-10-01
### Fixed
- a thing
"""


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    (root / "CHANGELOG.md").write_text(CHANGELOG)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def release(root, version, *tags):
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "{version}"\n\n[tool.x]\nversion = "9"\n')
    subprocess.run(GIT + ["add", "-A"], cwd=root, check=True)
    subprocess.run(GIT + ["commit", "-qm", version, "--allow-empty"], cwd=root, check=True)
    for tag in tags:
        subprocess.run(GIT + ["tag", "-f", tag], cwd=root, check=True, capture_output=True)


def check(root, tag, gha_env, capsys):
    code = main(["release-check", "--tag", tag, "--root", str(root)], env=gha_env)
    out = capsys.readouterr().out
    outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
    Path(gha_env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
    return code, out, outputs


def test_first_release_creates_the_major_and_gives_the_notes(repo, gha_env, capsys):
    release(repo, "1.1.0", "v1.1.0")
    code, out, outputs = check(repo, "v1.1.0", gha_env, capsys)
    assert code == 0, out
    assert outputs["major"] == "v1" and outputs["move-major"] == "true" and outputs["prerelease"] == "false"
    assert outputs["notes"] == "### Fixed\n- a thing"


def test_newer_release_moves_the_major(repo, gha_env, capsys):
    release(repo, "1.1.0", "v1.1.0", "v1")
    release(repo, "1.2.0", "v1.2.0")
    code, out, outputs = check(repo, "v1.2.0", gha_env, capsys)
    assert code == 0 and outputs["move-major"] == "true" and "move v1 from v1.1.0" in out


def test_major_never_moves_backwards(repo, gha_env, capsys):
    release(repo, "1.1.0", "v1.1.0")
    release(repo, "1.2.0", "v1.2.0", "v1")
    subprocess.run(GIT + ["checkout", "-q", "v1.1.0"], cwd=repo, check=True)
    code, out, outputs = check(repo, "v1.1.0", gha_env, capsys)
    assert code == 1 and "v1 points at v1.2.0, newer than v1.1.0" in out and outputs["move-major"] == "false"


def test_prerelease_never_moves_the_major(repo, gha_env, capsys):
    (repo / "CHANGELOG.md").write_text(CHANGELOG.replace("## [Unreleased]", "## [Unreleased]\n\n## [2.0.0-rc.1]\n- rc"))
    release(repo, "2.0.0rc1", "v2.0.0-rc.1")
    code, out, outputs = check(repo, "v2.0.0-rc.1", gha_env, capsys)
    assert code == 0, out
    assert outputs["prerelease"] == "true" and outputs["move-major"] == "false"


@pytest.mark.parametrize(
    "declared,tag,expected",
    [
        ("1.2.1", "v1.2.0", "pyproject.toml says version '1.2.1', the tag says '1.2.0'"),
        ("1.3.0", "v1.3.0", "CHANGELOG.md has no `## [1.3.0]` section"),
    ],
)
def test_mismatches_fail(repo, gha_env, capsys, declared, tag, expected):
    release(repo, declared, tag)
    code, out, _ = check(repo, tag, gha_env, capsys)
    assert code == 1 and expected in out


@pytest.mark.parametrize("tag", ["1.2.0", "v1.2", "v1.2.0+build.1", "release-1"])
def test_non_semver_tag_is_bad_input(repo, gha_env, capsys, tag):
    release(repo, "1.2.0")
    code, out, _ = check(repo, tag, gha_env, capsys)
    assert code == 2 and "::error" in out and "tag:" in out
