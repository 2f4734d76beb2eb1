"""The BuildKit inputs of build-push, named and shaped as docker/build-push-action takes
them so a workflow can move over, checked before anything runs. Pure: strings in, typed
options out, UsageError naming the input otherwise (never echoing a secret's line)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy_actions.errors import UsageError
from deploy_actions.images.reference import parse_ref
from deploy_actions.values import lines, parse_bool, parse_list, parse_pairs

BUILDERS = ("auto", "buildx", "docker-buildkit", "classic")
BUILDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # a buildx builder instance
NETWORKS = ("default", "host", "none")
ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")
CACHE_TYPES = ("registry", "local", "gha", "s3", "azblob", "inline")
CONTEXT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./:@-]*$")
ATTESTATION = re.compile(r"^[A-Za-z0-9_.,=:/@+-]+$")
NONE = "none"


@dataclass(frozen=True)
class BuildOptions:
    builder: str = "auto"  # auto, buildx, docker-buildkit, classic, or a buildx builder name
    network: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    secret_files: dict[str, str] = field(default_factory=dict)
    ssh: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    auto_cache: bool = True  # take cache from the latest release when cache-from is empty
    cache_to: tuple[str, ...] = ()
    no_cache: bool = False
    platforms: tuple[str, ...] = ()
    build_contexts: dict[str, str] = field(default_factory=dict)
    provenance: str | None = None
    sbom: str | None = None

    @property
    def builder_name(self) -> str | None:
        return None if self.builder in BUILDERS else self.builder

    def buildx_only(self) -> list[str]:
        """The inputs set here that only buildx can honour."""
        wanted = {
            "platforms": bool(self.platforms),
            "build-contexts": bool(self.build_contexts),
            "provenance": self.provenance is not None,
            "sbom": self.sbom is not None,
            "cache-to": any(not spec.startswith("type=inline") for spec in self.cache_to),
            "cache-from": any(_cache_type(spec) not in ("registry", None) for spec in self.cache_from),
            "builder": self.builder_name is not None or self.builder == "buildx",
        }
        return [name for name, used in wanted.items() if used]

    def buildkit_only(self) -> list[str]:
        """The inputs set here that the classic builder cannot honour."""
        wanted = {
            "secrets": bool(self.secrets),
            "secret-files": bool(self.secret_files),
            "ssh": bool(self.ssh),
            "cache-from": bool(self.cache_from),
            "cache-to": bool(self.cache_to),
        }
        return [name for name, used in wanted.items() if used] + self.buildx_only()


def cache_fields(spec: str) -> dict[str, str] | None:
    """The fields of a `type=…,ref=…` cache spec; None for a plain image reference."""
    if "=" not in spec.split(",", 1)[0]:
        return None
    return dict(part.split("=", 1) for part in spec.split(",") if "=" in part)


def cache_ref(spec: str) -> str | None:
    """The image a registry cache spec names (a plain reference is its own); None otherwise."""
    fields = cache_fields(spec)
    if fields is None:
        return spec
    return fields.get("ref") if fields.get("type", "registry") == "registry" else None


def _cache_type(spec: str) -> str | None:
    fields = cache_fields(spec)
    return None if fields is None else fields.get("type", "")


def _lines(raw: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(lines(raw), 1) if line.strip()]


def parse_builder(raw: str) -> str:
    value = raw.strip() or "auto"
    if value not in BUILDERS and not BUILDER_NAME.match(value):
        raise UsageError(
            f"expected one of {', '.join(BUILDERS)} or the name of a buildx builder, got {value!r}", input="builder"
        )
    return value


def parse_network(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if value not in NETWORKS:
        raise UsageError(f"expected one of {', '.join(NETWORKS)}, got {value!r}", input="network")
    return value


def parse_secrets(raw: str) -> dict[str, str]:
    """`id=value` per line. The value may contain `=`; a line is never echoed."""
    return parse_pairs(
        raw,
        "secrets",
        key=ID,
        example="id=value",
        hint=" (id: letters, digits, . _ -), the value from the secrets context",
        secret=True,
        unique="secret id",
    )


def parse_secret_files(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in _lines(raw):
        secret_id, sep, path = line.partition("=")
        secret_id, path = secret_id.strip(), path.strip()
        if not sep or not ID.match(secret_id) or not path:
            raise UsageError(f"line {number}: expected `id=path`, got {line!r}", input="secret-files")
        if "," in path or "\n" in path:
            raise UsageError(f"line {number}: a path with a comma cannot be passed to BuildKit", input="secret-files")
        if not os.path.isfile(path):
            raise UsageError(f"line {number}: secret {secret_id!r}: no file at {path!r}", input="secret-files")
        found[secret_id] = os.path.abspath(path)
    return found


def parse_ssh(raw: str, env: Mapping[str, str]) -> tuple[str, ...]:
    """`default` (the runner's agent, SSH_AUTH_SOCK), `id=/path/to/agent.sock` or
    `id=/path/to/key` (an unencrypted private key file), one per line."""
    specs: list[str] = []
    for number, line in _lines(raw):
        spec_id, sep, paths = line.partition("=")
        spec_id = spec_id.strip()
        if not ID.match(spec_id):
            raise UsageError(f"line {number}: expected `default` or `id=path`, got {line!r}", input="ssh")
        if not sep:
            if not env.get("SSH_AUTH_SOCK"):
                raise UsageError(
                    f"line {number}: {spec_id!r} forwards the SSH agent, but SSH_AUTH_SOCK is not set "
                    "(start one, e.g. webfactory/ssh-agent, or give `id=/path/to/key`)",
                    input="ssh",
                )
            specs.append(f"{spec_id}={env['SSH_AUTH_SOCK']}")  # resolved now: the build's env may differ
            continue
        for path in (p.strip() for p in paths.split(",")):
            if not path or not os.path.exists(path):
                raise UsageError(f"line {number}: {spec_id!r}: no agent socket or key file at {path!r}", input="ssh")
        specs.append(f"{spec_id}={','.join(os.path.abspath(p.strip()) for p in paths.split(','))}")
    return tuple(specs)


def parse_cache_from(raw: str) -> tuple[tuple[str, ...], bool]:
    """Cache sources, and whether the automatic one (the latest release) still applies."""
    items = [line for _, line in _lines(raw)]
    if items == [NONE]:
        return (), False
    specs: list[str] = []
    for item in items:
        kind = _cache_type(item)
        if kind is None:
            parse_ref(item, "cache-from")  # a plain image reference
            specs.append(item)
            continue
        if kind not in CACHE_TYPES or kind == "inline":
            raise UsageError(
                f"expected an image reference or type=registry|local|gha|s3|azblob,…, got {item!r}", input="cache-from"
            )
        if kind == "registry":
            ref = cache_ref(item) or ""
            if not ref:
                raise UsageError(f"type=registry needs ref=<image reference>, got {item!r}", input="cache-from")
            parse_ref(ref, "cache-from")
        specs.append(item)
    return tuple(specs), not specs


def parse_cache_to(raw: str) -> tuple[str, ...]:
    specs: list[str] = []
    for item in (line for _, line in _lines(raw)):
        kind = _cache_type(item)
        if kind is None or kind not in CACHE_TYPES:
            raise UsageError(f"expected type=inline|registry|local|gha|s3|azblob,…, got {item!r}", input="cache-to")
        if kind == "registry":
            parse_ref(cache_ref(item) or "", "cache-to")
        specs.append(item)
    return tuple(specs)


def parse_platforms(raw: str) -> tuple[str, ...]:
    platforms = tuple(parse_list(raw))
    for platform in platforms:
        if not PLATFORM.match(platform):
            raise UsageError(f"expected os/arch[/variant] such as linux/amd64, got {platform!r}", input="platforms")
    return platforms


def parse_build_contexts(raw: str) -> dict[str, str]:
    return parse_pairs(raw, "build-contexts", key=CONTEXT_NAME, example="name=path-or-url", required_value=True)


def parse_attestation(raw: str, name: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if not ATTESTATION.match(value):
        raise UsageError(f"expected true, false or attestation parameters such as mode=max, got {value!r}", input=name)
    return value


def parse(raw: Mapping[str, str], env: Mapping[str, str]) -> BuildOptions:
    cache_from, auto_cache = parse_cache_from(raw["cache-from"])
    no_cache = parse_bool(raw["no-cache"], "no-cache")
    return BuildOptions(
        builder=parse_builder(raw["builder"]),
        network=parse_network(raw["network"]),
        secrets=parse_secrets(raw["secrets"]),
        secret_files=parse_secret_files(raw["secret-files"]),
        ssh=parse_ssh(raw["ssh"], env),
        cache_from=cache_from,
        auto_cache=auto_cache and not no_cache,
        cache_to=parse_cache_to(raw["cache-to"]),
        no_cache=no_cache,
        platforms=parse_platforms(raw["platforms"]),
        build_contexts=parse_build_contexts(raw["build-contexts"]),
        provenance=parse_attestation(raw["provenance"], "provenance"),
        sbom=parse_attestation(raw["sbom"], "sbom"),
    )
