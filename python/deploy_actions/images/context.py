"""The git context of a build, from the runner's variables and event payload, or from the
checkout itself on a laptop. The only place build-push reads the environment."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from datetime import datetime, timezone

from deploy_actions.images.tags import GitContext


def _git(cwd: str, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _event(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def git_context(env: Mapping[str, str], checkout: str) -> GitContext:
    event = _event(env)
    pr = event.get("pull_request") or {}
    sha = env.get("GITHUB_SHA") or _git(checkout, "rev-parse", "HEAD")
    ref = env.get("GITHUB_REF") or ""
    if not ref:
        branch = _git(checkout, "symbolic-ref", "-q", "HEAD")
        ref = branch or ""
    return GitContext(
        event=env.get("GITHUB_EVENT_NAME", ""),
        ref=ref,
        sha=sha,
        pr_number=pr.get("number"),
        pr_head_sha=(pr.get("head") or {}).get("sha"),
        repository=env.get("GITHUB_REPOSITORY", ""),
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com"),
    )


def created(env: Mapping[str, str], checkout: str, sha: str) -> str:
    """The image's creation time: SOURCE_DATE_EPOCH, else the commit's time, so that
    rebuilding one commit gives one image; the clock only when neither is known."""
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if sha:
        stamp = _git(checkout, "show", "-s", "--format=%cI", sha)
        if stamp:
            return datetime.fromisoformat(stamp).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = (_event(env).get("head_commit") or {}).get("timestamp")
    if stamp:
        return stamp
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
