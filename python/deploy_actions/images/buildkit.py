"""Build with BuildKit through the docker CLI: the command line (pure), then the run, with
the plain progress streamed to the log and read for the failing step.

Nothing secret is ever on the command line: secret values and build-argument values reach
the CLI through its environment (`--secret id=x,env=VAR`, `--build-arg NAME`), registry
credentials through `cli_auth`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from deploy_actions.errors import UsageError
from deploy_actions.images import dockerfile as dockerfile_rules
from deploy_actions.images.build_options import cache_fields, cache_ref
from deploy_actions.images.docker_cli import Cli
from deploy_actions.images.progress import Progress

SECRET_ENV = "DEPLOY_ACTIONS_BUILD_SECRET_"
# Build arguments whose name would change how the docker CLI itself behaves if passed as an
# environment variable: BuildKit's own settings (BUILDKIT_INLINE_CACHE, BUILDKIT_SYNTAX…) go
# on the command line; any other such name is refused when the inputs are read (its value
# might be a token, and the command line is public).
CLI_VARIABLES = re.compile(r"^(DOCKER_.*|BUILDKIT_.*|BUILDX_.*|PATH|HOME|TMPDIR|LD_.*|SSH_AUTH_SOCK)$")
SETTING_ARGS = re.compile(r"^BUILDKIT_[A-Z0-9_]+$")


def check_build_args(names: Iterable[str]) -> None:
    """Refuse a build argument that could only reach the builder on the command line."""
    for name in names:
        if CLI_VARIABLES.match(name) and not SETTING_ARGS.match(name):
            raise UsageError(
                f"{name}: a build argument of this name would change the docker CLI's own behaviour, so its "
                "value would have to go on the command line, which every process can read; rename the ARG "
                "(or pass a token as a secret)",
                input="build-args",
            )


@dataclass(frozen=True)
class Request:
    context: str
    dockerfile: str
    tags: tuple[str, ...]  # full references; the first is the local name
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    network: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)  # id → value
    secret_files: Mapping[str, str] = field(default_factory=dict)  # id → path
    ssh: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()  # image references or type=…,… specs
    cache_to: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    build_contexts: Mapping[str, str] = field(default_factory=dict)
    provenance: str | None = None
    sbom: str | None = None
    no_cache: bool = False
    builder_name: str | None = None  # a buildx builder instance
    output: str = "load"  # load into the engine; with buildx also `push` or `none` (cache only)


def command(
    request: Request, cli: Cli, iidfile: str, metadata_file: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """argv and the environment additions for one build."""
    env: dict[str, str] = {}
    if cli.buildx:
        argv = [cli.path, "buildx", "build"]
        if request.builder_name:
            argv += ["--builder", request.builder_name]
    else:
        argv = [cli.path, "build"]
        env["DOCKER_BUILDKIT"] = "1"
    argv += ["--progress=plain", "--file", request.dockerfile, "--iidfile", iidfile]
    for tag in request.tags:
        argv += ["--tag", tag]
    if request.target:
        argv += ["--target", request.target]
    if request.network:
        argv += ["--network", request.network]
    if request.no_cache:
        argv.append("--no-cache")
    for name, value in request.build_args.items():
        if CLI_VARIABLES.match(name):
            argv += ["--build-arg", f"{name}={value}"]
        else:
            argv += ["--build-arg", name]
            env[name] = value
    for key, value in request.labels.items():
        argv += ["--label", f"{key}={value}"]
    for number, (secret_id, value) in enumerate(request.secrets.items()):
        variable = f"{SECRET_ENV}{number}"
        argv += ["--secret", f"id={secret_id},env={variable}"]
        env[variable] = value
    for secret_id, path in request.secret_files.items():
        argv += ["--secret", f"id={secret_id},src={path}"]
    for spec in request.ssh:
        argv += ["--ssh", spec]
    for spec in request.cache_from:
        if cli.buildx:
            argv += ["--cache-from", spec if cache_fields(spec) is not None else f"type=registry,ref={spec}"]
        else:
            argv += ["--cache-from", cache_ref(spec) or spec]
    if cli.buildx:
        for spec in request.cache_to or ("type=inline",):
            argv += ["--cache-to", spec]
        if request.platforms:
            argv += ["--platform", ",".join(request.platforms)]
        for name, value in request.build_contexts.items():
            argv += ["--build-context", f"{name}={value}"]
        if request.provenance is not None:
            argv.append(f"--provenance={request.provenance}")
        if request.sbom is not None:
            argv.append(f"--sbom={request.sbom}")
        if metadata_file:
            argv += ["--metadata-file", metadata_file]
        if request.output in ("load", "push"):
            argv.append(f"--{request.output}")
    else:
        # The engine's BuildKit writes cache metadata into the image only when asked.
        argv += ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]
    argv += ["--", request.context]
    return argv, env


@dataclass
class Built:
    image_id: str
    digest: str | None  # when buildx pushed
    progress: Progress


class Failed(Exception):
    def __init__(self, progress: Progress, code: int):
        super().__init__(f"the build exited {code}")
        self.progress = progress
        self.code = code


def run(
    request: Request,
    cli: Cli,
    log: Callable[[str], None],
    environment: Mapping[str, str] | None = None,
) -> Built:
    """Run the build in `environment` (this process's by default); every progress line goes
    to `log` as it comes."""
    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="deploy-actions-build-") as scratch:
        iidfile = os.path.join(scratch, "iid")
        metadata = os.path.join(scratch, "metadata.json") if cli.buildx else None
        argv, additions = command(request, cli, iidfile, metadata)
        env = {**(os.environ if environment is None else environment), **additions}
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                progress.feed(line)
                if line.strip():
                    log(line.rstrip("\n"))
            code = proc.wait()
        finally:
            if proc.poll() is None:  # cancelled: stop the CLI, which cancels the solve
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if code != 0:
            raise Failed(progress, code)
        image_id = ""
        with contextlib.suppress(OSError), open(iidfile, encoding="utf-8") as fh:
            image_id = fh.read().strip()
        digest = None
        if metadata:
            with contextlib.suppress(OSError, ValueError), open(metadata, encoding="utf-8") as fh:
                digest = json.load(fh).get("containerimage.digest")
        return Built(image_id, digest, progress)


def failure_line(progress_line: int | None, step: str | None, dockerfile_text: str) -> int | None:
    """BuildKit's own `Dockerfile:N` if it printed one, else the failing step found in the file."""
    if progress_line is not None:
        return progress_line
    if step:
        return dockerfile_rules.line_of(dockerfile_rules.parse(dockerfile_text), step)
    return None
