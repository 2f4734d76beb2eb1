"""build-push on BuildKit (Debian's docker 20.10 CLI, DOCKER_BUILDKIT=1, against the real
engine's built-in BuildKit) with the real registries: cache mounts, secrets that leave no
trace, layer cache from the previous release on an emptied engine, targets and stages,
failures annotated at their Dockerfile line, and the inputs BuildKit-less setups refuse."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from conftest import read_outputs
from deploy_actions.cli import main
from deploy_actions.images.registry import Registry
from deploy_support import ArgvSampler

pytestmark = pytest.mark.services
DOCKER = "/usr/bin/docker"  # Debian's CLI; the one in /usr/local/bin may lack BuildKit


def context_with(root: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    ctx = root / f"ctx-{uuid.uuid4().hex[:6]}"
    ctx.mkdir(parents=True)
    shutil.copy("/bin/busybox", ctx / "busybox")
    for name, text in (files or {}).items():
        (ctx / name).write_text(text)
    (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


BUSYBOX = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'


def env_for(tmp_path, gha_env, ref="refs/tags/v1.0.0", **extra):
    """A runner's variables for one build; each build is its own commit (its own sha- tag)."""
    event = tmp_path / f"event-{uuid.uuid4().hex[:6]}.json"
    event.write_text(json.dumps({"ref": ref}))
    out = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
    return {
        **gha_env,
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": ref,
        "GITHUB_SHA": uuid.uuid4().hex + uuid.uuid4().hex[:8],
        "GITHUB_REPOSITORY": "org/app",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(tmp_path / f"summary-{uuid.uuid4().hex[:6]}"),
        "SOURCE_DATE_EPOCH": "1767225600",
        **extra,
    }


def build_push(env, capsys, *args):
    code = main(["build-push", *args], env=env)
    out = capsys.readouterr().out
    return code, out, read_outputs(Path(env["GITHUB_OUTPUT"]))


def build(env, capsys, image, context, *args):
    """build-push of `context` as `image`: (exit code, output, outputs)."""
    return build_push(env, capsys, "--image", image, "--context", str(context), *args)


def docker(*args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKER, *args], capture_output=True, check=check, timeout=300)


def annotation(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("::error "))


@pytest.fixture
def repo(services):
    return f"{services['DA_REGISTRY']}/bk-{uuid.uuid4().hex[:8]}/app"


def forget(*images: str) -> None:
    """An engine as a fresh runner has it: these images gone and no build cache at all."""
    for image in images:
        docker("rmi", "-f", image, check=False)
    docker("builder", "prune", "-af")


def layers(image: str) -> list[str]:
    registry, rest = image.split("/", 1)
    repository, tag = rest.rsplit(":", 1)
    with Registry(registry) as reg:
        return [layer["digest"] for layer in reg.manifest(repository, tag).document["layers"]]


def test_cache_mount_target_and_stages(tmp_path, gha_env, capsys, repo):
    dockerfile = (
        BUSYBOX.replace("FROM scratch", "FROM scratch AS base")
        + "FROM base AS deps\nARG ROUND=1\n"
        + "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
        + f"    echo {uuid.uuid4().hex}-$ROUND >> /root/.cache/pip/seen && wc -l < /root/.cache/pip/seen > /deps\n"
        + "FROM base AS app\nCOPY --from=deps /deps /deps\nRUN echo app > /stage\n"
        + "FROM base AS debug\nRUN echo debug > /stage\n"
    )
    context = context_with(tmp_path, dockerfile)
    env = env_for(tmp_path, gha_env)
    code, out, outputs = build(env, capsys, repo, context, "--target", "app")
    assert code == 0, out
    assert "docker build (BuildKit)" in out and "RUN --mount=type=cache" in out
    image = outputs["image-id"]
    assert docker("run", "--rm", image, "cat", "/stage").stdout == b"app\n"  # the target, not the last stage
    first = int(docker("run", "--rm", image, "cat", "/deps").stdout)
    # The cache mount outlives the build: a rebuild that re-runs the step (ROUND changed) sees it.
    env = env_for(tmp_path, gha_env)
    code, out, outputs = build(env, capsys, repo, context, "--target", "app", "--build-args", "ROUND=2")
    assert code == 0, out
    assert int(docker("run", "--rm", outputs["image-id"], "cat", "/deps").stdout) == first + 1


def test_secrets_leave_no_trace(tmp_path, gha_env, capsys, repo):
    secret = "tok-" + uuid.uuid4().hex
    file_secret = "file-" + uuid.uuid4().hex
    build_arg = "arg-" + uuid.uuid4().hex  # not a secret, yet kept off every argv too
    (tmp_path / "netrc").write_text(file_secret)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    dockerfile = BUSYBOX + (
        f'RUN --mount=type=secret,id=index_token test "$(sha256sum < /run/secrets/index_token)" = "{digest}  -" '
        "&& echo token-ok\n"
        "RUN --mount=type=secret,id=netrc,target=/root/.netrc grep -q file- /root/.netrc && echo file-ok\n"
        "ARG FLAVOUR\nRUN echo $FLAVOUR > /flavour\n"
    )
    context = context_with(tmp_path, dockerfile)
    env = env_for(tmp_path, gha_env, INPUT_SECRETS=f"index_token={secret}")
    with ArgvSampler(secret, file_secret, build_arg) as sampler:
        code, out, outputs = build(
            env,
            capsys,
            repo,
            context,
            "--mode",
            "push",
            "--build-args",
            f"FLAVOUR={build_arg}",
            "--secret-files",
            f"netrc={tmp_path / 'netrc'}",
        )
    assert code == 0, out
    assert "token-ok" in out and "file-ok" in out
    assert f"::add-mask::{secret}" in out.splitlines()[:3]  # the value itself, before any log
    assert sampler.samples > 10 and sampler.found == []
    logged = [line for line in out.splitlines() if not line.startswith("::add-mask::")]
    written = "\n".join(logged) + Path(env["GITHUB_OUTPUT"]).read_text()
    written += Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert secret not in written and file_secret not in written
    image = outputs["image-id"]
    assert docker("run", "--rm", image, "cat", "/flavour").stdout.decode().strip() == build_arg
    history = docker("history", "--no-trunc", image).stdout.decode()
    assert "index_token" in history  # the step is recorded, its secret is not
    assert secret not in history and file_secret not in history
    saved = docker("save", image).stdout
    assert secret.encode() not in saved and file_secret.encode() not in saved
    with tarfile.open(fileobj=io.BytesIO(saved)) as archive:
        for name in [m.name for m in archive.getmembers() if m.name.endswith("layer.tar")]:
            with tarfile.open(fileobj=archive.extractfile(name)) as layer:
                files = [m.name for m in layer.getmembers() if m.isfile()]  # mount points stay, empty
                assert not any(n.startswith("run/secrets/") or n.endswith(".netrc") for n in files)


def test_layer_cache_from_the_previous_release_on_an_empty_engine(tmp_path, gha_env, capsys, repo):
    dockerfile = BUSYBOX + ("RUN head -c 64 /dev/urandom | od -x > /dependencies && sleep 2\nCOPY app.txt /app.txt\n")
    context = context_with(tmp_path, dockerfile, {"app.txt": "one\n"})
    code, out, first = build(env_for(tmp_path, gha_env, "refs/tags/v1.0.0"), capsys, repo, context, "--mode", "push")
    assert code == 0, out
    forget(*first["tags"].splitlines(), first["image-id"])
    (context / "app.txt").write_text("two\n")  # an app-only change
    code, out, second = build(env_for(tmp_path, gha_env, "refs/tags/v1.1.0"), capsys, repo, context, "--mode", "push")
    assert code == 0, out
    assert f"layer cache from {repo}:v1.0.0" in out
    heavy = next(line for line in out.splitlines() if "RUN head -c 64" in line and line.startswith("#"))
    step = heavy.split()[0]
    assert f"{step} CACHED" in out  # the heavy step did not run again
    before, after = layers(f"{repo}:v1.0.0"), layers(f"{repo}:v1.1.0")
    assert before[:3] == after[:3] and before[3] != after[3]  # same dependency layer, new app layer
    # The same with the source named explicitly, as docker/build-push-action takes it.
    forget(f"{repo}:v1.1.0", second["image-id"])
    (context / "app.txt").write_text("three\n")
    code, out, _ = build(
        env_for(tmp_path, gha_env, "refs/heads/main"),
        capsys,
        repo,
        context,
        "--cache-from",
        f"type=registry,ref={repo}:v1.0.0",
    )
    assert code == 0, out
    assert f"{step} CACHED" in out or "RUN head -c 64" in out and "CACHED" in out
    # `none` turns the automatic source off: on an empty engine every step runs.
    forget()
    code, out, _ = build(env_for(tmp_path, gha_env, "refs/tags/v1.2.0"), capsys, repo, context, "--cache-from", "none")
    assert code == 0, out
    assert "layer cache from" not in out and "importing cache manifest" not in out


def test_private_registry_credentials_reach_the_cli_through_a_helper_only(tmp_path, gha_env, capsys, services):
    """BuildKit reads registries through the CLI's config. The login is a credential helper
    that answers from the CLI's environment: the real CLI pulls with it, nothing is written
    to the user's config, no argv carries the password, and the folder goes afterwards."""
    from deploy_actions.images import cli_auth

    image = f"{services['DA_REGISTRY_TLS']}/bk-{uuid.uuid4().hex[:8]}/app"
    password = services["DA_REGISTRY_TLS_PASSWORD"]
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text('{"auths": {}}')
    context = context_with(tmp_path, BUSYBOX + "COPY app.txt /app.txt\n", {"app.txt": "one\n"})
    auth = {"INPUT_USERNAME": services["DA_REGISTRY_TLS_USER"], "INPUT_PASSWORD": password, "HOME": str(home)}
    with ArgvSampler(password) as sampler:
        code, out, first = build(env_for(tmp_path, gha_env, **auth), capsys, image, context, "--mode", "push")
        assert code == 0, out
        forget(*first["tags"].splitlines(), first["image-id"])
        env = {**os.environ, "HOME": str(home)}
        anonymous = subprocess.run([DOCKER, "pull", f"{image}:v1.0.0"], env=env, capture_output=True, text=True)
        assert anonymous.returncode != 0
        with cli_auth.registry_login(image.split("/")[0], services["DA_REGISTRY_TLS_USER"], password, env) as extra:
            folder = Path(extra["DOCKER_CONFIG"])
            assert password not in (folder / "config.json").read_text()
            pulled = subprocess.run(
                [DOCKER, "pull", f"{image}:v1.0.0"], env={**env, **extra}, capture_output=True, text=True
            )
        assert pulled.returncode == 0, pulled.stderr
    assert sampler.samples > 10 and sampler.found == []
    assert not folder.exists()
    assert (home / ".docker" / "config.json").read_text() == '{"auths": {}}'  # the user's config untouched
    # A cache source the engine's BuildKit cannot read is a warning, not a failed build.
    (context / "app.txt").write_text("two\n")
    code, out, _ = build(env_for(tmp_path, gha_env, "refs/tags/v1.0.1", **auth), capsys, image, context)
    assert code == 0, out
    assert f"layer cache from {image}:v1.0.0" in out
    warnings = [line for line in out.splitlines() if line.startswith("::warning title=build-push%3A BuildKit")]
    assert all(password not in line for line in warnings)


def test_ssh_agent_forwarded_to_a_run_step(tmp_path, gha_env, capsys, repo):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            subprocess.run(["sleep", "0.05"])
        dockerfile = BUSYBOX + 'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo agent-ok\n'
        context = context_with(tmp_path, dockerfile)
        env = env_for(tmp_path, gha_env, SSH_AUTH_SOCK=str(sock))
        code, out, _ = build(env, capsys, repo, context, "--ssh", "default")
        assert code == 0, out
        assert "agent-ok" in out
        code, out, _ = build(env_for(tmp_path, gha_env), capsys, repo, context, "--ssh", "default")
        assert code == 2 and "ssh: line 1: 'default' forwards the SSH agent, but SSH_AUTH_SOCK is not set" in out
    finally:
        agent.terminate()
        agent.wait()


def test_failures_are_annotated_at_their_dockerfile_line(tmp_path, gha_env, capsys, repo):
    env = env_for(tmp_path, gha_env)
    syntax = context_with(tmp_path, BUSYBOX + "RUN --mount=type=nonsense true\n")
    code, out, _ = build(env, capsys, repo, syntax)
    assert code == 1
    line = annotation(out)
    assert f"file={syntax / 'Dockerfile'},line=4::" in line and "nonsense" in line
    # The same instruction in two stages: the failing one is the second stage's.
    stages = (
        BUSYBOX.replace("FROM scratch", "FROM scratch AS base")
        + "FROM base AS one\nRUN test -e /flag || echo no flag\n"
        + "FROM base AS two\nRUN echo about to fail\nRUN test -e /flag || (echo no flag; exit 3)\n"
    )
    # Make both RUN lines identical text so only the stage can tell them apart.
    stages = stages.replace("RUN test -e /flag || echo no flag", "RUN test -e /flag || (echo no flag; exit 3)")
    stages = stages.replace("FROM base AS one\nRUN", "FROM base AS one\nRUN touch /flag\nRUN")
    failing = context_with(tmp_path, stages)
    code, out, _ = build(env_for(tmp_path, gha_env), capsys, repo, failing, "--target", "two")
    assert code == 1
    line = annotation(out)
    lines = (failing / "Dockerfile").read_text().splitlines()
    expected = max(n for n, text in enumerate(lines, 1) if text.startswith("RUN test -e /flag"))
    assert f"file={failing / 'Dockerfile'},line={expected}::" in line
    assert "exit code: 3" in line and "`[two " in line and "Last lines: no flag" in line  # the step and its last output


def test_classic_builder_names_buildkit_syntax(tmp_path, gha_env, capsys, repo):
    context = context_with(tmp_path, BUSYBOX + "RUN --mount=type=cache,target=/c true\n")
    code, out, _ = build(env_for(tmp_path, gha_env), capsys, repo, context, "--mode", "push", "--builder", "classic")
    assert code == 2
    line = annotation(out)
    assert f"file={context / 'Dockerfile'},line=4::" in line and "`RUN --mount`" in line and "builder" in line
    plain = context_with(tmp_path, BUSYBOX + "RUN echo classic > /built\n")
    code, out, outputs = build(env_for(tmp_path, gha_env), capsys, repo, plain, "--builder", "classic")
    assert code == 0, out
    assert "docker build (classic)" in out
    assert docker("run", "--rm", outputs["image-id"], "cat", "/built").stdout == b"classic\n"
    with Registry(repo.split("/", 1)[0]) as reg:
        assert reg.tags(repo.split("/", 1)[1]) == []  # nothing was pushed by either


@pytest.mark.parametrize(
    "args, message",
    [
        (["--secrets", "no-equals-sign-here"], "secrets: line 1: expected `id=value`"),
        (["--secret-files", "npmrc=/nonexistent/npmrc"], "secret-files: line 1: secret 'npmrc': no file at"),
        (["--cache-from", "Not A Reference"], "cache-from:"),
        (["--cache-from", "type=registry"], "cache-from: type=registry needs ref="),
        (["--cache-to", "somewhere"], "cache-to: expected type=inline"),
        (["--platforms", "linux/amd64,linux/arm64"], "platforms: needs docker buildx, which this runner does not have"),
        (["--platforms", "amd64"], "platforms: expected os/arch"),
        (["--provenance", "mode=max"], "provenance: needs docker buildx"),
        (["--builder", "classic", "--secrets", "a=b"], "builder: secrets needs BuildKit"),
        (["--network", "bridge2"], "network: expected one of default, host, none"),
        (["--builder", "bad name!"], "builder: expected one of auto, buildx, docker-buildkit, classic"),
    ],
)
def test_bad_build_inputs(tmp_path, gha_env, capsys, repo, args, message):
    context = context_with(tmp_path, BUSYBOX)
    code, out, _ = build(env_for(tmp_path, gha_env), capsys, repo, context, "--mode", "push", *args)
    assert code == 2, out
    assert message in out
    assert "::error " in out and "Traceback" not in out
    shown = [line for line in out.splitlines() if not line.startswith("::add-mask::")]
    assert "no-equals-sign-here" not in "\n".join(shown)  # a secrets line is never echoed
    with Registry(repo.split("/", 1)[0]) as reg:
        assert reg.tags(repo.split("/", 1)[1]) == []
