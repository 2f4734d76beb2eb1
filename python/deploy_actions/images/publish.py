"""What build-push does with an image once it has one: the boot check (test command, then the
readiness gate on the booted image), the push and its verification, promotion by digest,
the refusal of release tags that point elsewhere, and the re-run of a release already pushed
from this commit."""

from __future__ import annotations

from deploy_actions.console import Reporter
from deploy_actions.errors import CheckFailed
from deploy_actions.images.registry import Registry
from deploy_actions.images.settings import Inputs
from deploy_actions.smoke import gate


def boot_check(client, inputs: Inputs, image_id: str, reporter: Reporter) -> None:
    """The image passes its test command and the readiness gate, booted, before anything is pushed."""
    from deploy_actions.images import engine
    from deploy_actions.smoke.verify import verify

    if inputs.test_command:
        with reporter.group(f"test command in the image: {inputs.test_command}"):
            code, output = engine.run_test(client, image_id, inputs.test_command, inputs.run_env)
            reporter.foreign("\n".join(output.splitlines()[-200:]))
        if code != 0:
            raise CheckFailed(
                f"the test command exited {code} inside the image; nothing was pushed. "
                f"Last output: {' | '.join(output.splitlines()[-5:])}"
            )
        reporter.success(f"test command passed: {inputs.test_command}")
    if inputs.gate.url:
        _port_is_free(inputs.gate.url)
        booted = engine.boot(client, image_id, inputs.run_env)
        try:
            verdict = verify(gate.readiness(inputs.gate, health_path="/health"), reporter)
            if not verdict.ok:
                logs = booted.logs()
                if logs.strip():
                    with reporter.group("logs of the booted image"):
                        reporter.foreign(logs)
                first = verdict.problems[0] if verdict.problems else None
                raise CheckFailed(
                    "the built image did not pass the boot check "
                    f"({verdict.diagnosis or 'a smoke call failed'}); nothing was pushed",
                    detail=f"the boot check failed, nothing was pushed: {first.message}" if first else None,
                    file=first.file if first else None,
                    line=first.line if first else None,
                )
        finally:
            booted.stop()


def _port_is_free(url: str) -> None:
    """The boot check must talk to the image it started, not to whatever already listens there."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.socket(socket.AF_INET6 if ":" in (parts.hostname or "") else socket.AF_INET) as probe:
        probe.settimeout(1)
        if probe.connect_ex((parts.hostname or "127.0.0.1", port)) == 0:
            raise CheckFailed(
                f"something already listens on {parts.hostname}:{port} before the image was started; "
                "stop it or choose another ready-url port (nothing was pushed)"
            )


def _registry(inputs: Inputs) -> Registry:
    return Registry(inputs.image.registry, username=inputs.username, password=inputs.password)


def push(client, inputs: Inputs, image_id: str, reporter: Reporter) -> str:
    from deploy_actions.images import engine
    from deploy_actions.images.promote import conflicts, refuse, verify

    repo = inputs.image.repository
    with _registry(inputs) as registry:
        registry.ping()
        immutable = [t for t in inputs.tags.tags if t in inputs.tags.immutable]
        clash = conflicts(registry, repo, immutable, lambda m: m.config_digest == image_id)
        if clash and not inputs.overwrite:
            refuse(clash, f"{inputs.image.name}", image_id)
        auth = {"username": inputs.username, "password": inputs.password} if inputs.password else None
        first = inputs.tags.tags[0]
        with reporter.group(f"docker push {inputs.image.name}:{first}"):
            digest = engine.push(client, inputs.image.name, first, auth, reporter.info)
        manifest = registry.manifest(repo, digest)
        if manifest is None:
            raise CheckFailed(f"the registry does not return the pushed digest {digest}")
        for tag in inputs.tags.tags[1:]:
            registry.put_manifest(repo, tag, manifest)
        verify(registry, repo, list(inputs.tags.tags), digest)
    reporter.success(f"pushed {inputs.image.name}@{digest} as {', '.join(inputs.tags.tags)}")
    return digest


def refuse_taken_tags(inputs: Inputs) -> None:
    """A multi-platform index is pushed by buildx itself, before it could be compared, so an
    immutable tag that already exists is refused outright (unless overwrite)."""
    from deploy_actions.images.promote import conflicts, refuse

    if inputs.overwrite:
        return
    immutable = [t for t in inputs.tags.tags if t in inputs.tags.immutable]
    with _registry(inputs) as registry:
        registry.ping()
        clash = conflicts(registry, inputs.image.repository, immutable, lambda m: False)
    if clash:
        refuse(clash, inputs.image.name, "this multi-platform build")


def verify_pushed(inputs: Inputs, digest: str, reporter: Reporter) -> str:
    from deploy_actions.images.promote import verify

    with _registry(inputs) as registry:
        verify(registry, inputs.image.repository, list(inputs.tags.tags), digest)
    reporter.success(f"pushed {inputs.image.name}@{digest} as {', '.join(inputs.tags.tags)}")
    return digest


def promote(inputs: Inputs, reporter: Reporter) -> str:
    from deploy_actions.images.promote import promote

    assert inputs.source is not None
    with _registry(inputs) as registry:
        registry.ping()
        result = promote(
            registry,
            inputs.source.repository,
            inputs.source.reference,
            inputs.image.repository,
            list(inputs.tags.tags),
            inputs.tags.immutable,
            inputs.overwrite,
        )
        moved = f"{result.mounted} blobs mounted, {result.copied} copied ({result.bytes_copied} bytes)"
        reporter.success(
            f"promoted {inputs.source} → {inputs.image.name} as {', '.join(result.tags)} "
            f"({result.digest[:19]}…; {moved}; {registry.bytes_sent} bytes sent)"
        )
    return result.digest


REVISION = "org.opencontainers.image.revision"


def released_already(inputs: Inputs, reporter: Reporter) -> str | None:
    """A re-run of a release job (GitHub's "Re-run failed jobs", a runner without the cache):
    the release tag exists and its image was built from this very commit. Its digest, the
    other immutable tags put on it where a first run stopped short; None when this is no
    re-run (the tag is free, or taken by another commit: the push then refuses it as ever)."""
    revision = inputs.labels.get(REVISION)
    release = inputs.tags.version
    if inputs.overwrite or not revision or not release or release not in inputs.tags.immutable:
        return None
    repo = inputs.image.repository
    with _registry(inputs) as registry:
        registry.ping()
        manifest = registry.manifest(repo, release)
        if manifest is None:
            return None
        labels = (registry.config(repo, manifest).get("config") or {}).get("Labels") or {}
        if labels.get(REVISION) != revision:
            return None
        for tag in sorted(inputs.tags.immutable - {release}):
            there = registry.digest(repo, tag)
            if there is None:
                registry.put_manifest(repo, tag, manifest)  # the first run stopped before this tag
            elif there != manifest.digest:
                return None  # another image holds it: the push refuses, naming it
    reporter.notice(
        f"{inputs.image.name}:{release} already holds {manifest.digest}, built from this commit "
        f"({revision[:12]}): a re-run. That image is verified as a fresh build would be; nothing is "
        "built, pushed or moved."
    )
    return manifest.digest


def pull(inputs: Inputs, digest: str, reporter: Reporter):
    """The released image on this engine, by digest; (client, image ID)."""
    import docker.errors

    from deploy_actions.images import engine

    client = engine.connect()
    auth = {"username": inputs.username, "password": inputs.password} if inputs.password else None
    with reporter.group(f"docker pull {inputs.image.name}@{digest}"):
        try:
            image = client.images.pull(f"{inputs.image.name}@{digest}", auth_config=auth)
        except docker.errors.DockerException as exc:
            raise CheckFailed(f"cannot pull {inputs.image.name}@{digest} to verify it ({exc})") from None
    return client, image.id
