"""The build of build-push: BuildKit through the docker CLI (buildx, or a CLI that drives the
engine's BuildKit), or the classic builder on request; the cache source, the network RUN
steps get, and a failure annotated at its Dockerfile line. Returns what was built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploy_actions.console import Reporter
from deploy_actions.errors import CheckFailed, UsageError
from deploy_actions.images import tags as tag_rules
from deploy_actions.images.build_options import BuildOptions
from deploy_actions.images.registry import Registry, RegistryError

if TYPE_CHECKING:
    from deploy_actions.images.settings import Inputs


def build(inputs: Inputs, reporter: Reporter) -> tuple[object, str, str | None]:
    """Build and return (engine client, image ID, digest if buildx already pushed)."""
    from deploy_actions.images import engine

    client = engine.connect()
    local = f"{inputs.image.name}:{inputs.tags.tags[0]}"
    if inputs.build.builder == "classic":
        image_id = _build_classic(client, inputs, local, reporter)
        digest = None
    else:
        image_id, digest = _build_buildkit(inputs, local, reporter, _network(client, inputs.build.network, reporter))
    if len(inputs.build.platforms) > 1:  # an index for several platforms cannot be loaded
        reporter.success(f"built {', '.join(inputs.build.platforms)}" + (f" and pushed {digest}" if digest else ""))
        return client, image_id, digest
    for tag in inputs.tags.tags[1:]:
        client.images.get(image_id).tag(inputs.image.name, tag)
    reporter.success(f"built {image_id[:19]}… as {', '.join(inputs.tags.tags)}")
    return client, image_id, digest


def _dockerfile_text(path: str) -> str:
    from deploy_actions.inputfiles import read_text

    return read_text(path, "dockerfile", what="Dockerfile")


def _build_failed(inputs: Inputs, message: str, step, line, tail) -> CheckFailed:
    """The failure, placed at its Dockerfile line; the caller raises what this returns."""
    where = f" at `{step}`" if step else ""
    last = f". Last lines: {' | '.join(tail[-5:])}" if tail else ""
    return CheckFailed(
        f"the image did not build: {message}",
        detail=f"{message}{where}{last}",
        title="build-push: build failed",
        file=inputs.dockerfile,
        line=line,
    )


def _build_classic(client, inputs: Inputs, local: str, reporter: Reporter) -> str:
    from deploy_actions.images import dockerfile, engine

    needs = inputs.build.buildkit_only()
    if needs:
        raise UsageError(f"{needs[0]} needs BuildKit; the classic builder cannot use it", input="builder")
    for line, feature in dockerfile.buildkit_only(dockerfile.parse(_dockerfile_text(inputs.dockerfile))):
        raise UsageError(
            f"the Dockerfile uses {feature} (line {line}), which only BuildKit builds; use builder: auto or remove it",
            input="builder",
            file=inputs.dockerfile,
            line=line,
        )
    with reporter.group(f"docker build (classic) {inputs.context} → {local}"):
        try:
            with reporter.untrusted():
                return engine.build(
                    client,
                    context=inputs.context,
                    dockerfile=inputs.dockerfile,
                    tag=local,
                    build_args=inputs.build_args,
                    labels=inputs.labels,
                    target=inputs.target,
                    network=inputs.build.network,
                    log=reporter.info,
                )
        except engine.BuildFailure as failure:
            raise _build_failed(inputs, failure.message, failure.step, failure.line, failure.tail) from None


def _builder(options: BuildOptions):
    from deploy_actions.images import docker_cli

    need_buildx = options.buildx_only()
    cli = docker_cli.find(need_buildx=bool(need_buildx) or options.builder == "buildx")
    if cli is not None and options.builder == "docker-buildkit" and cli.buildx:
        cli = docker_cli.Cli(cli.path, cli.version, buildx=False)
    if cli is None and need_buildx:
        found = docker_cli.find()
        have = f"; {found.path} {found.version} builds with BuildKit but has no buildx" if found else ""
        raise UsageError(
            f"needs docker buildx, which this runner does not have{have}. Install the buildx plugin "
            "(docker/setup-buildx-action) or remove the input",
            input=need_buildx[0],
        )
    if cli is None:
        raise UsageError(
            "no docker CLI here can build with BuildKit: install the buildx plugin "
            "(docker-buildx-plugin, docker/setup-buildx-action), or use a docker CLI older than 23.0, "
            "or set builder: classic",
            input="builder",
        )
    return cli


def _cache_sources(inputs: Inputs, reporter: Reporter) -> tuple[str, ...]:
    """The explicit cache sources, or the image's newest release below this one, so a fresh
    runner reuses the layers that did not change instead of building every one."""
    if inputs.build.cache_from or not inputs.build.auto_cache:
        return inputs.build.cache_from
    try:
        with Registry(inputs.image.registry, username=inputs.username, password=inputs.password) as registry:
            source = tag_rules.cache_source(registry.tags(inputs.image.repository), inputs.tags.version)
    except RegistryError as exc:
        reporter.detail(f"no cache source: the registry's tags could not be listed ({exc})")
        return ()
    if not source:
        reporter.detail(f"no cache source: {inputs.image.name} has no earlier release tag")
        return ()
    reporter.info(f"layer cache from {inputs.image.name}:{source} (the newest earlier release)")
    return (f"{inputs.image.name}:{source}",)


def _network(client, chosen: str | None, reporter: Reporter) -> str | None:
    """An engine started without a bridge (`dockerd --bridge=none`) runs containers, and the
    classic builder's RUN steps, with no network; BuildKit would fail there ("network bridge
    not found"), so it gets the same: none."""
    if chosen:
        return chosen
    try:
        # The name filter matches substrings (swarm's docker_gwbridge would pass): compare exactly.
        has_bridge = any(network.name == "bridge" for network in client.networks.list(names=["bridge"]))
    except Exception:  # noqa: BLE001 - an engine that will not say keeps the default
        return None
    if has_bridge:
        return None
    reporter.detail("the engine has no bridge network: RUN steps get network none, as its containers do")
    return "none"


def _build_buildkit(inputs: Inputs, local: str, reporter: Reporter, network: str | None) -> tuple[str, str | None]:
    from deploy_actions.images import buildkit, cli_auth

    options = inputs.build
    cli = _builder(options)
    several = len(options.platforms) > 1
    request = buildkit.Request(
        context=inputs.context,
        dockerfile=inputs.dockerfile,
        tags=tuple(f"{inputs.image.name}:{t}" for t in inputs.tags.tags) if several else (local,),
        build_args=inputs.build_args,
        labels=inputs.labels,
        target=inputs.target,
        network=network,
        secrets=options.secrets,
        secret_files=options.secret_files,
        ssh=options.ssh,
        cache_from=_cache_sources(inputs, reporter),
        cache_to=options.cache_to,
        platforms=options.platforms,
        build_contexts=options.build_contexts,
        provenance=options.provenance,
        sbom=options.sbom,
        no_cache=options.no_cache,
        builder_name=options.builder_name,
        output=("push" if inputs.mode == "push" else "none") if several else "load",
    )
    how = "docker buildx build" if cli.buildx else "docker build (BuildKit)"
    with reporter.group(f"{how} {inputs.context} → {local}"):
        try:
            login = cli_auth.registry_login(inputs.image.registry, inputs.username, inputs.password, inputs.environment)
            with login as auth, reporter.untrusted():
                built = buildkit.run(request, cli, reporter.info, {**inputs.environment, **auth})
        except buildkit.Failed as failed:
            failure = failed.progress.failure()
            line = buildkit.failure_line(failure.line, failure.step, _dockerfile_text(inputs.dockerfile))
            raise _build_failed(inputs, failure.message, failure.step, line, failure.tail) from None
    for problem in built.progress.side_errors:
        reporter.warning(f"BuildKit: {problem}", title="build-push: BuildKit warning")
    return built.image_id, built.digest
