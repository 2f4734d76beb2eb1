"""Which tags and labels an image gets, from the git context — the rules of
docker/metadata-action, narrowed to one artifact: a release `vX.Y.Z` and the commit's
`sha-<7>` are immutable; aliases (`v1.2`, `v1`, `latest`), branch and `pr-<n>` tags move."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deploy_actions.errors import UsageError
from deploy_actions.images.reference import TAG
from deploy_actions.values import LABEL_KEY, parse_pairs
from deploy_actions.versions import SEMVER, is_release, precedence, release_version

ALIASES = ("minor", "major", "latest")


@dataclass(frozen=True)
class GitContext:
    event: str = ""  # push, pull_request, workflow_dispatch, … ("" on a laptop)
    ref: str = ""  # refs/tags/v1.2.3, refs/heads/main, refs/pull/7/merge
    sha: str = ""
    pr_number: int | None = None
    pr_head_sha: str | None = None
    repository: str = ""  # owner/name
    server_url: str = "https://github.com"


@dataclass(frozen=True)
class Tags:
    version: str | None  # the release, when this build is one
    tags: tuple[str, ...]
    immutable: frozenset[str] = field(default_factory=frozenset)


def sanitise(name: str) -> str:
    """A branch name as a valid tag: invalid characters become '-', at most 128."""
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).lstrip(".-")[:128]
    return tag or "branch"


def compute(
    ctx: GitContext,
    *,
    version: str = "",
    aliases: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
    sha_source: str = "head",
    require_release: bool = False,
) -> Tags:
    """The tag set for one build. `version` (explicit) wins over a tag ref; a tag ref that is not
    a release version is a usage error when a release is required (push mode on a tag)."""
    sha = (
        ctx.pr_head_sha
        if ctx.event.startswith("pull_request") and sha_source == "head" and ctx.pr_head_sha
        else ctx.sha
    )
    tags: list[str] = []
    release = None
    if version:
        release = release_version(version, "version")
    elif ctx.ref.startswith("refs/tags/"):
        name = ctx.ref.removeprefix("refs/tags/")
        if is_release(name):
            release = name
        elif require_release:
            release_version(name, "version")  # raises: says what a release tag looks like
        else:
            tags.append(sanitise(name))
    if release:
        tags.append(release)
        major, minor, _patch, pre = SEMVER.match(release).groups()  # type: ignore[union-attr]
        if not pre:  # aliases never move to a pre-release
            if "minor" in aliases:
                tags.append(f"v{major}.{minor}")
            if "major" in aliases:
                tags.append(f"v{major}")
            if "latest" in aliases:
                tags.append("latest")
    elif ctx.event.startswith("pull_request") and ctx.pr_number:
        tags.append(f"pr-{ctx.pr_number}")
    elif ctx.ref.startswith("refs/heads/"):
        tags.append(sanitise(ctx.ref.removeprefix("refs/heads/")))
    if require_release and not release and not tags:
        raise UsageError("no release version: push a v1.2.3 tag, or set the version input", input="version")
    sha_tag = f"sha-{sha[:7]}" if sha else None
    if sha_tag:
        tags.append(sha_tag)
    for tag in extra:
        if not TAG.match(tag):
            raise UsageError(
                f"{tag!r} is not a valid tag (letters, digits, _ . -, at most 128, not first . or -)", input="tags"
            )
        tags.append(tag)
    unique = tuple(dict.fromkeys(tags))
    if not unique:
        raise UsageError("no tag could be computed: set version or tags (no git ref or commit found)", input="version")
    immutable = frozenset(t for t in (release, sha_tag) if t)
    return Tags(release, unique, immutable)


def oci_labels(ctx: GitContext, tags: Tags, *, created: str, title: str, user: dict[str, str]) -> dict[str, str]:
    """OCI annotations every image should carry; the user's labels win. `created` is the
    commit's time, not the build's, so rebuilding a commit yields the same image."""
    source = f"{ctx.server_url}/{ctx.repository}" if ctx.repository else ""
    labels = {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.revision": ctx.sha,
        "org.opencontainers.image.version": tags.version or tags.tags[0],
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.url": source,
    }
    return {k: v for k, v in {**labels, **user}.items() if v}


def parse_labels(raw: str, input_name: str = "labels") -> dict[str, str]:
    """`key=value` per line; keys as Docker accepts them (reverse-DNS recommended)."""
    return parse_pairs(
        raw, input_name, key=LABEL_KEY, example="key=value", hint=" with a lowercase key like org.example.team=platform"
    )


def cache_source(existing: list[str], version: str | None) -> str | None:
    """The release a build can take its layer cache from: the newest release tag below the
    one being built (any release, for a branch build). Its layers are the likeliest to match."""
    releases = [tag for tag in existing if is_release(tag) and tag != version]
    if version and is_release(version):
        releases = [tag for tag in releases if precedence(tag) < precedence(version)]
    return max(releases, key=precedence, default=None)
