"""build-push's inputs: one declaration of each, parsed and checked before anything is built,
pushed or promoted."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy_actions import gha
from deploy_actions.errors import UsageError
from deploy_actions.images import build_options
from deploy_actions.images import context as git
from deploy_actions.images import tags as tag_rules
from deploy_actions.images.build_options import BuildOptions
from deploy_actions.images.reference import Ref, parse_ref
from deploy_actions.options import Option
from deploy_actions.smoke import gate
from deploy_actions.values import ENV_NAME, parse_bool, parse_list, parse_pairs

MODES = ("build", "push", "promote")

OPTIONS = (
    Option(
        "mode",
        "`build` (verify the Dockerfile builds, push nothing), `push` (build, check, tag, push) or "
        "`promote` (tag an image that was already pushed, registry-side, no rebuild).",
        default="build",
    ),
    Option(
        "image", "Image name without a tag, e.g. ghcr.io/org/app or 127.0.0.1:5000/team/app (lowercase).", required=True
    ),
    Option("context", "Build context directory.", default=".", path="one"),
    Option("dockerfile", "Path to the Dockerfile (default: Dockerfile in the context).", path="one"),
    Option("target", "Build stage to stop at (multi-stage Dockerfiles)."),
    Option(
        "build-args", "Build arguments, one KEY=value per line (values reach the builder by environment, not argv)."
    ),
    Option(
        "builder",
        "`auto` (BuildKit: `docker buildx build` if the buildx plugin is installed, else "
        "`DOCKER_BUILDKIT=1 docker build` with a docker CLI older than 23), `buildx`, `docker-buildkit`, "
        "`classic` (the legacy builder, no BuildKit syntax), or the name of a buildx builder instance.",
        default="auto",
    ),
    Option("network", "Network for RUN steps: default, host or none."),
    Option(
        "secrets",
        "Build secrets, one `id=value` per line, for `RUN --mount=type=secret,id=…`; masked, never in "
        "the log, an argv, the image history or a layer.",
        secret=True,
    ),
    Option("secret-files", "Build secrets from files, one `id=path` per line."),
    Option(
        "ssh",
        "SSH agent or keys for `RUN --mount=type=ssh`, one per line: `default` (the agent at SSH_AUTH_SOCK) "
        "or `id=/path/to/socket-or-key`.",
    ),
    Option(
        "cache-from",
        "Layer cache sources, one per line: an image reference (registry/app:v1.2.3) or "
        "`type=registry,ref=…` (other types need buildx). Empty: the image's newest release tag "
        "below this version; `none`: no cache source.",
    ),
    Option(
        "cache-to",
        "Cache exports, one per line (buildx; e.g. `type=registry,ref=…,mode=max`). Empty: inline "
        "cache metadata in the pushed image, so the next build on a fresh runner can reuse its layers.",
    ),
    Option("no-cache", "Build every step afresh, without any cache.", default="false", switch=True),
    Option("platforms", "Target platforms, e.g. linux/amd64,linux/arm64 (buildx)."),
    Option("build-contexts", "Additional build contexts, one `name=path-or-url` per line (buildx)."),
    Option("provenance", "Provenance attestation: true, false or parameters such as mode=max (buildx)."),
    Option("sbom", "SBOM attestation: true, false or generator parameters (buildx)."),
    Option("labels", "Extra image labels, one key=value per line; they override the OCI labels set automatically."),
    Option("version", "Release version `vX.Y.Z` (or `vX.Y.Z-rc.1`); default: the pushed git tag."),
    Option("tags", "Extra tags, separated by commas or newlines."),
    Option("aliases", "Moving tags for a non-prerelease version: any of minor (v1.2), major (v1), latest."),
    Option(
        "sha-source",
        "On pull requests, the `sha-` tag uses the PR `head` commit or the `merge` commit.",
        default="head",
    ),
    *gate.options(
        url="Boot the built image (host network) before pushing and wait until this readiness URL "
        "answers 200, e.g. http://127.0.0.1:8000/ready; nothing is pushed if it fails.",
        timeout="Deadline for the booted image to become ready and pass the smoke calls.",
        spec="Smoke spec (YAML) to run against the booted image once it is ready.",
    ),
    Option(
        "run-env",
        "Environment for the booted image and the test command, one KEY=value per line (pass "
        "secrets from the secrets context: GitHub masks them).",
    ),
    Option(
        "test-command",
        "Command run inside the built image before pushing (exec form, e.g. "
        "`/app/bin/selftest --quick`); a non-zero exit stops the push.",
    ),
    Option("source", "promote: the image to promote, by tag or digest, e.g. ghcr.io/org/app:sha-1a2b3c4."),
    Option("username", "Registry user name (ghcr.io: defaults to the workflow's actor with github-token)."),
    Option(
        "password",
        "Registry password or token; masked, passed per request, never written to a Docker config.",
        secret=True,
    ),
    Option(
        "github-token",
        "Token used for ghcr.io when username/password are empty (the workflow's token by "
        "default; it needs `permissions: packages: write`).",
        secret=True,
        action_default="${{ github.token }}",
    ),
    Option(
        "overwrite",
        "Allow moving a release tag (vX.Y.Z or sha-…) that already points at another image.",
        default="false",
        switch=True,
    ),
)


@dataclass(frozen=True)
class Inputs:
    mode: str
    image: Ref
    context: str
    dockerfile: str
    target: str | None
    build_args: dict[str, str]
    labels: dict[str, str]
    tags: tag_rules.Tags
    gate: gate.Gate
    run_env: dict[str, str] = field(default_factory=dict)
    test_command: str | None = None
    source: Ref | None = None
    username: str = ""
    password: str = ""
    overwrite: bool = False
    build: BuildOptions = field(default_factory=BuildOptions)
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)  # what the docker CLI runs with


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    env = env if env is not None else os.environ
    mode = raw["mode"].strip()
    if mode not in MODES:
        raise UsageError(f"expected one of {', '.join(MODES)}, got {mode!r}", input="mode")
    image = parse_ref(raw["image"], "image", allow_tag=False)
    build_args = parse_pairs(raw["build-args"], "build-args", key=ENV_NAME, secret=True)
    from deploy_actions.images.buildkit import check_build_args

    check_build_args(build_args)
    context = raw["context"].strip() or "."
    dockerfile = raw["dockerfile"].strip() or os.path.join(context, "Dockerfile")
    if mode != "promote":
        if not os.path.isdir(context) or not os.access(context, os.R_OK | os.X_OK):
            raise UsageError(f"expected a readable directory, got {context!r}", input="context")
        if not os.path.isfile(dockerfile):
            raise UsageError(f"no Dockerfile at {dockerfile!r}", input="dockerfile")
    aliases = tuple(parse_list(raw["aliases"]))
    unknown = [a for a in aliases if a not in tag_rules.ALIASES]
    if unknown:
        raise UsageError(f"expected any of minor, major, latest, got {', '.join(unknown)}", input="aliases")
    sha_source = raw["sha-source"].strip()
    if sha_source not in ("head", "merge"):
        raise UsageError(f"expected head or merge, got {sha_source!r}", input="sha-source")
    ctx = git.git_context(env, context)
    if mode == "promote":
        # The image already exists: its commit is not necessarily this checkout's, so no sha-
        # or branch tag is derived here; only the release version, aliases and extra tags.
        ctx = tag_rules.GitContext(ref=ctx.ref if ctx.ref.startswith("refs/tags/") else "")
    tags = tag_rules.compute(
        ctx,
        version=raw["version"].strip(),
        aliases=aliases,
        extra=tuple(parse_list(raw["tags"])),
        sha_source=sha_source,
        require_release=mode == "push" and ctx.ref.startswith("refs/tags/"),
    )
    user_labels = tag_rules.parse_labels(raw["labels"])
    labels = (
        {}
        if mode == "promote"
        else tag_rules.oci_labels(
            ctx,
            tags,
            created=git.created(env, context, ctx.sha),
            title=image.repository.rsplit("/", 1)[-1],
            user=user_labels,
        )
    )
    source = None
    if mode == "promote":
        if not raw["source"].strip():
            raise UsageError("is required in promote mode: the image to promote, by tag or digest", input="source")
        source = parse_ref(raw["source"], "source")
        if source.registry != image.registry:
            raise UsageError(
                f"promote works within one registry: source is on {source.registry}, image on {image.registry}",
                input="source",
            )
    checks = gate.parse(raw, hosts=False, spec_needs="a smoke spec needs ready-url (where the booted image answers)")
    build = build_options.parse(raw, env) if mode != "promote" else BuildOptions()
    if len(build.platforms) > 1 and (checks.url or raw["test-command"].strip()):
        raise UsageError(
            "an image for several platforms cannot be loaded into the engine to boot or test; "
            "boot-check a single-platform build, or leave ready-url and test-command empty",
            input="platforms",
        )
    username, password = raw["username"].strip(), raw["password"]
    if not (username or password) and image.registry == "ghcr.io" and raw["github-token"]:
        username, password = env.get("GITHUB_ACTOR", "github-actions"), raw["github-token"]
    return Inputs(
        mode=mode,
        image=image,
        context=context,
        dockerfile=dockerfile,
        target=raw["target"].strip() or None,
        build_args=build_args,
        labels=labels,
        tags=tags,
        gate=checks,
        run_env=parse_pairs(raw["run-env"], "run-env", key=ENV_NAME, secret=True),
        test_command=raw["test-command"].strip() or None,
        source=source,
        username=username,
        password=password,
        overwrite=parse_bool(raw["overwrite"], "overwrite"),
        build=build,
        environment=gha.tool_environment(env),
    )


def secrets(inputs: Inputs) -> list[str]:
    return ([inputs.password] if inputs.password else []) + [v for v in inputs.build.secrets.values() if v]
