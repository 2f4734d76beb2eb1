"""What a release is, in one place: `vX.Y.Z` or `vX.Y.Z-pre` (SemVer 2.0.0 with a `v`, no
leading zeros, no build metadata, which an image tag cannot carry). Tags, pinning, release
checks, local runs and deploys all ask here."""

from __future__ import annotations

import re

from deploy_actions.errors import UsageError

SEMVER = re.compile(
    r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)


def is_release(version: str) -> bool:
    return bool(SEMVER.match(version))


def is_prerelease(version: str) -> bool:
    return is_release(version) and "-" in version


def release_version(text: str, input_name: str) -> str:
    if "+" in text:
        raise UsageError(f"{text!r} has build metadata (+…), which an image tag cannot carry", input=input_name)
    if not is_release(text):
        raise UsageError(f"expected a release version like v1.2.3 or v1.2.3-rc.1, got {text!r}", input=input_name)
    return text


def precedence(tag: str) -> tuple:
    """SemVer 2.0.0 precedence of a release tag: a prerelease sorts before its release, and
    its dot-separated fields compare numerically where numeric (rc.2 < rc.10)."""
    major, minor, patch, pre = SEMVER.match(tag).groups()  # type: ignore[union-attr]
    if pre is None:
        return int(major), int(minor), int(patch), 1, ()
    fields = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split("."))
    return int(major), int(minor), int(patch), 0, fields
