"""release-check: may this tag be released? The tag is vX.Y.Z[-pre]; pyproject.toml says
the same version; CHANGELOG.md has its section (the release notes); and the major tag
(v1) may move to it — never backwards, never to a pre-release. Reads git, writes nothing."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy_actions import gha, inputfiles
from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.versions import SEMVER, is_prerelease, precedence, release_version

OPTIONS = (
    Option("tag", "The release tag, vX.Y.Z or vX.Y.Z-pre (in a workflow: the pushed tag's name).", required=True),
    Option("root", "Repository root (a git checkout with its tags).", default=".", path="one"),
    Option("changelog", "The changelog, in Keep a Changelog form.", default="CHANGELOG.md", path="one"),
)
OUTPUTS = {
    "version": "The version without the v.",
    "major": "The major tag, e.g. v1.",
    "move-major": "`true` when the major tag should move to this release (not for pre-releases or older releases).",
    "prerelease": "`true` for vX.Y.Z-pre tags.",
    "notes": "The CHANGELOG section of this version (release notes).",
}


@dataclass(frozen=True)
class Inputs:
    tag: str
    root: Path
    changelog: Path


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    tag = raw["tag"].strip().removeprefix("refs/tags/")
    release_version(tag, "tag")
    root = Path(raw["root"].strip() or ".")
    if not os.path.lexists(root / "pyproject.toml"):
        raise UsageError(f"no pyproject.toml in {str(root)!r}", input="root")
    return Inputs(tag, root, root / (raw["changelog"].strip() or "CHANGELOG.md"))


def project_version(pyproject: str) -> str | None:
    """`version` of the [project] table (tomllib is 3.11+; this package supports 3.10)."""
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", pyproject, re.M | re.S)
    found = re.search(r"^version\s*=\s*[\"']([^\"']+)[\"']", section.group(1), re.M) if section else None
    return found.group(1) if found else None


def pep440(version: str) -> str:
    """1.2.3-rc.1 → 1.2.3rc1, as pyproject.toml writes a pre-release."""
    base, _, pre = version.partition("-")
    return base + re.sub(r"[.-]", "", pre.replace("alpha", "a").replace("beta", "b"))


def notes(changelog: str, version: str) -> str | None:
    match = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## \[|\Z)", changelog, re.M | re.S)
    return match.group(1).strip() if match else None


def major_points_at(root: Path, major: str) -> str | None:
    """The newest release tag on the commit the major tag points at (None: no major tag yet)."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "-q", "--verify", f"refs/tags/{major}^{{commit}}")
    if not commit:
        return None
    tags = [t for t in git("tag", "--points-at", commit).split() if SEMVER.match(t)]
    return max(tags, key=precedence) if tags else "unknown"


def run(inputs: Inputs, reporter: Reporter) -> Result:
    version = inputs.tag[1:]
    prerelease = is_prerelease(inputs.tag)
    major = inputs.tag.split(".")[0]
    problems = []
    declared = project_version(inputfiles.read_text(inputs.root / "pyproject.toml", "root", root=inputs.root))
    if declared not in (version, pep440(version)):
        problems.append(f"pyproject.toml says version {declared!r}, the tag says {version!r}")
    text = inputfiles.read_text(inputs.changelog, "changelog", root=inputs.root) if inputs.changelog.exists() else ""
    section = notes(text, version)
    if not section:
        problems.append(
            f"{inputs.changelog.name} has no `## [{version}]` section (move the Unreleased entries "
            f"under `## [{version}] - <date>`)"
        )
    current = major_points_at(inputs.root, major)
    move = not prerelease
    if move and current and current != "unknown":
        if precedence(current) > precedence(inputs.tag):
            problems.append(f"{major} points at {current}, newer than {inputs.tag}: a major tag never moves backwards")
        move = precedence(current) < precedence(inputs.tag)
    where = f"move {major} from {current}" if current else f"create {major}"
    result = Result(
        not problems,
        outputs={
            "version": version,
            "major": major,
            "move-major": "true" if move and not problems else "false",
            "prerelease": "true" if prerelease else "false",
            "notes": section or "",
        },
        document={
            "version": version,
            "major": major,
            "move_major": move and not problems,
            "prerelease": prerelease,
            "problems": problems,
        },
        message=""
        if problems
        else f"{inputs.tag} can be released"
        + ("" if prerelease else f"; {where} to it" if move else f"; {major} stays"),
    )
    for problem in problems:
        result.error(problem, title="release-check")
    listed = "".join(f"- {gha.md_cell(p)}\n" for p in problems) or f"{result.message}\n"
    result.summary = f"### {'✅' if not problems else '❌'} release-check `{inputs.tag}`\n\n{listed}"
    return result


COMMAND = Command(
    name="release-check",
    summary="Check a release tag: semver, pyproject version, CHANGELOG section, major tag never backwards.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    action=False,
)
