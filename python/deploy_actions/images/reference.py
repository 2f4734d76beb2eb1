"""Image references (`registry[:port]/repo/path[:tag][@sha256:…]`) parsed the way Docker
does: the first component is a registry when it has a dot, a colon or is `localhost`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy_actions.errors import UsageError

DEFAULT_REGISTRY = "docker.io"
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Ref:
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """`registry/repository` without tag or digest, as `docker push` wants it."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What the manifests endpoint takes: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_tag(self, tag: str) -> Ref:
        return Ref(self.registry, self.repository, tag, None)


_REGISTRY = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?$"
)


def parse_ref(text: str, input_name: str, *, allow_tag: bool = True) -> Ref:
    raw = text.strip()
    if not raw:
        raise UsageError("expected an image name such as ghcr.io/org/app", input=input_name)
    if "/" in raw.partition("@")[2]:  # user:password@registry/…: a digest never holds a slash
        raise UsageError(
            "an image name carries no credentials (user:password@…); give them as registry-username "
            "and registry-password",
            input=input_name,
        )
    if len(raw) > 1024:
        raise UsageError(f"expected an image name, got {len(raw):,} characters", input=input_name)
    rest, _, digest_text = raw.partition("@")
    digest = digest_text or None
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
        match = _REGISTRY.match(registry)
        if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
            raise UsageError(f"{registry!r} is not a registry host (name[:port] or [IPv6][:port])", input=input_name)
    else:
        registry, path = DEFAULT_REGISTRY, rest
    tag = None
    if ":" in path:
        path, tag = path.rsplit(":", 1)
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if path != path.lower() and _REPO.match(path.lower()):
        raise UsageError(
            f"repository names must be lowercase: use {path.lower()!r} (in a workflow: a lowercased github.repository)",
            input=input_name,
        )
    if not _REPO.match(path):
        raise UsageError(
            f"{raw!r} is not a valid image name (lowercase letters, digits, . _ - and /)", input=input_name
        )
    if tag is not None and (not allow_tag or not TAG.match(tag)):
        what = "without a tag (tags come from the tag rules)" if not allow_tag else "with a valid tag"
        raise UsageError(f"expected an image name {what}, got {raw!r}", input=input_name)
    if digest is not None and not DIGEST.match(digest):
        raise UsageError(f"expected a digest like sha256:<64 hex>, got {digest!r}", input=input_name)
    return Ref(registry, path, tag, digest)
