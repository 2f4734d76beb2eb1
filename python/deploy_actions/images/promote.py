"""Give an existing image more tags, registry-side: the same manifest bytes under new tags,
so the digest cannot change and no layer is pulled or rebuilt. Across repositories of one
registry the blobs are mounted (no bytes move); a registry that declines a mount gets a copy."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deploy_actions.errors import CheckFailed
from deploy_actions.images.registry import Manifest, Registry


@dataclass
class Promotion:
    digest: str
    media_type: str
    tags: list[str]
    mounted: int = 0
    copied: int = 0
    bytes_copied: int = 0


def conflicts(
    registry: Registry, repository: str, tags: Iterable[str], same: Callable[[Manifest], bool]
) -> list[tuple[str, str]]:
    """(tag, digest it points at) for each tag that exists and is not the same image."""
    found = []
    for tag in tags:
        existing = registry.manifest(repository, tag)
        if existing is not None and not same(existing):
            found.append((tag, existing.digest))
    return found


def refuse(found: list[tuple[str, str]], repository: str, ours: str) -> None:
    lines = ", ".join(f"{tag} → {digest[:19]}…" for tag, digest in found)
    raise CheckFailed(
        f"release tags are immutable and already point at another image in {repository}: {lines} "
        f"(this image: {ours[:19] + '…' if ours.startswith('sha256:') else ours}). "
        "Deploy the existing tag, cut a new version, or set "
        "overwrite: true if you really mean to move it."
    )


def _copy_referenced(registry: Registry, manifest: Manifest, source: str, target: str, result: Promotion) -> None:
    for child in manifest.children():
        sub = registry.manifest(source, child["digest"])
        if sub is None:
            raise CheckFailed(f"{source}@{child['digest']} is listed in the index but missing from the registry")
        _copy_referenced(registry, sub, source, target, result)
        registry.put_manifest(target, sub.digest, sub)
    for blob in manifest.blobs():
        if registry.has_blob(target, blob):
            continue
        if registry.mount_blob(target, blob, source):
            result.mounted += 1
        else:
            result.bytes_copied += registry.copy_blob(target, blob, source)
            result.copied += 1


def promote(
    registry: Registry,
    source_repo: str,
    source_reference: str,
    target_repo: str,
    tags: list[str],
    immutable: frozenset[str],
    overwrite: bool,
) -> Promotion:
    manifest = registry.manifest(source_repo, source_reference)
    if manifest is None:
        raise CheckFailed(
            f"{registry.host}/{source_repo}:{source_reference} does not exist: "
            "promote needs an image that was already pushed"
        )
    clash = conflicts(
        registry, target_repo, [t for t in tags if t in immutable], lambda existing: existing.digest == manifest.digest
    )
    if clash and not overwrite:
        refuse(clash, target_repo, manifest.digest)
    result = Promotion(manifest.digest, manifest.media_type, tags)
    if target_repo != source_repo:
        _copy_referenced(registry, manifest, source_repo, target_repo, result)
    for tag in tags:
        registry.put_manifest(target_repo, tag, manifest)
    verify(registry, target_repo, tags, manifest.digest)
    return result


def verify(registry: Registry, repository: str, tags: list[str], digest: str) -> None:
    """Read every tag back: it must resolve to exactly this digest."""
    wrong = [(tag, registry.digest(repository, tag)) for tag in tags]
    wrong = [(tag, got) for tag, got in wrong if got != digest]
    if wrong:
        raise CheckFailed(
            "after tagging, "
            + ", ".join(f"{repository}:{t} resolves to {g or 'nothing'}" for t, g in wrong)
            + f" instead of {digest}"
        )
