"""build-push against the real Docker engine and two real registries: plain HTTP on
127.0.0.1:5000 and TLS + htpasswd on 127.0.0.1:5443 (CA trusted via /etc/docker/certs.d)."""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import free_port, read_outputs
from deploy_actions.cli import main
from deploy_actions.images.registry import DOCKER_LIST, OCI_INDEX, Manifest, Registry
from deploy_support import ArgvSampler

pytestmark = pytest.mark.services
SHA = "1111111222222233333334444444555555566666"


def service_context(root: Path, *, ready=True, extra="", dockerfile=None) -> Path:
    """A FROM-scratch busybox image whose httpd serves /health and (when ready) /ready on $PORT."""
    ctx = root / f"ctx-{uuid.uuid4().hex[:6]}"
    (ctx / "www").mkdir(parents=True)
    shutil.copy("/bin/busybox", ctx / "busybox")
    (ctx / "www" / "health").write_text("ok\n")
    if ready:
        (ctx / "www" / "ready").write_text("ok\n")
    if extra:
        (ctx / "www" / "extra").write_text(extra)
    (ctx / "Dockerfile").write_text(
        dockerfile
        or (
            "FROM scratch\n"
            "COPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "COPY www /www\n"
            'CMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:${PORT:-8080} -h /www"]\n'
        )
    )
    return ctx


def runner_env(tmp_path, gha_env, *, ref="refs/tags/v1.2.3", event="push", extra_event=None):
    event_file = tmp_path / f"event-{uuid.uuid4().hex[:6]}.json"
    event_file.write_text(json.dumps({"ref": ref, **(extra_event or {})}))
    return {
        **gha_env,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_REF": ref,
        "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": "org/app",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_EVENT_PATH": str(event_file),
        "SOURCE_DATE_EPOCH": "1767225600",
    }


def build_push(env, capsys, *args):
    code = main(["build-push", *args], env=env)
    out = capsys.readouterr().out
    return code, out, read_outputs(Path(env["GITHUB_OUTPUT"]))


@pytest.fixture
def repo(services):
    """A repository name no earlier run used (the registry keeps its data between runs)."""
    return f"{services['DA_REGISTRY']}/it-{uuid.uuid4().hex[:8]}/app"


def registry_for(image: str, **auth) -> Registry:
    return Registry(image.split("/", 1)[0], **auth)


def test_build_mode_builds_and_pushes_nothing(tmp_path, gha_env, capsys, repo):
    env = runner_env(
        tmp_path,
        gha_env,
        ref="refs/pull/5/merge",
        event="pull_request",
        extra_event={"pull_request": {"number": 5, "head": {"sha": "abcdef0" + "1" * 33}}},
    )
    code, out, outputs = build_push(env, capsys, "--image", repo, "--context", str(service_context(tmp_path)))
    assert code == 0, out
    assert outputs["digest"] == "" and outputs["image-id"].startswith("sha256:")
    assert outputs["tags"].splitlines() == [f"{repo}:pr-5", f"{repo}:sha-abcdef0"]
    assert "::group::docker build" in out
    with registry_for(repo) as reg:
        assert reg.digest(repo.split("/", 1)[1], "pr-5") is None


def test_push_release_with_aliases_and_boot_check(tmp_path, gha_env, capsys, repo):
    env = runner_env(tmp_path, gha_env)
    port = free_port()
    code, out, outputs = build_push(
        env,
        capsys,
        "--mode",
        "push",
        "--image",
        repo,
        "--aliases",
        "minor,major,latest",
        "--context",
        str(service_context(tmp_path)),
        "--ready-url",
        f"http://127.0.0.1:{port}/ready",
        "--run-env",
        f"PORT={port}",
    )
    assert code == 0, out
    digest = outputs["digest"]
    tags = ["v1.2.3", "v1.2", "v1", "latest", "sha-1111111"]
    assert outputs["tags"].splitlines() == [f"{repo}:{t}" for t in tags]
    assert "✔ /ready answered 200" in out
    path = repo.split("/", 1)[1]
    with registry_for(repo) as reg:
        assert {reg.digest(path, t) for t in tags} == {digest}
        manifest = reg.manifest(path, digest)
        assert manifest.config_digest == outputs["image-id"]
        config = reg.request("GET", f"/v2/{path}/blobs/{manifest.config_digest}", scope=f"repository:{path}:pull")
        labels = config.json()["config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == "v1.2.3"
    assert labels["org.opencontainers.image.revision"] == SHA
    assert labels["org.opencontainers.image.source"] == "https://github.com/org/app"
    assert labels["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"
    meta = json.loads(outputs["metadata"])
    assert meta["digest"] == digest and meta["version"] == "v1.2.3" and meta["pushed"] is True
    summary = (Path(env["GITHUB_STEP_SUMMARY"])).read_text()
    assert digest in summary and "`v1.2.3`" in summary


@pytest.mark.parametrize("failure", ["not-ready", "test-command"])
def test_failed_check_before_push_pushes_nothing(tmp_path, gha_env, capsys, repo, failure):
    env = runner_env(tmp_path, gha_env)
    port = free_port()
    args = ["--mode", "push", "--image", repo, "--run-env", f"PORT={port}"]
    if failure == "not-ready":
        args += [
            "--context",
            str(service_context(tmp_path, ready=False)),
            "--ready-url",
            f"http://127.0.0.1:{port}/ready",
            "--ready-timeout",
            "2s",
        ]
    else:
        args += ["--context", str(service_context(tmp_path)), "--test-command", "sh -c 'echo checking; exit 3'"]
    code, out, outputs = build_push(env, capsys, *args)
    assert code == 1
    assert "nothing was pushed" in out
    # reported like a pass: the image built (its ID), no digest, no tags, and a summary table
    assert outputs["image"] == repo and outputs["image-id"].startswith("sha256:") and outputs["digest"] == ""
    assert outputs["tags"] == "" and json.loads(outputs["metadata"])["pushed"] is False
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "build-push failed" in summary and outputs["image-id"] in summary
    if failure == "test-command":
        assert "the test command exited 3" in out and "checking" in out
    else:
        assert "::error title=deploy-actions build-push::the boot check failed, nothing was pushed: GET " in out
    assert out.count("::error ") == 1  # one failure, annotated once: by the result
    with registry_for(repo) as reg:
        assert reg.digest(repo.split("/", 1)[1], "v1.2.3") is None
    leftover = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=org.deploy-actions.purpose"], capture_output=True, text=True
    ).stdout.strip()
    assert leftover == ""  # boot and test containers are removed


def test_release_tags_are_immutable_and_reruns_idempotent(tmp_path, gha_env, capsys, repo):
    env = runner_env(tmp_path, gha_env, ref="refs/tags/v1.0.0")
    context = service_context(tmp_path)
    port = free_port()
    argv = (
        "--mode",
        "push",
        "--image",
        repo,
        "--ready-url",
        f"http://127.0.0.1:{port}/ready",
        "--run-env",
        f"PORT={port}",
    )
    code, out, first = build_push(env, capsys, *argv, "--context", str(context))
    assert code == 0, out
    # A re-run of the release job on a runner without the image or its cache ("Re-run failed
    # jobs" after the push): the same commit's release is verified as it is, nothing rebuilt.
    image = repo + ":v1.0.0"
    subprocess.run(["docker", "rmi", "-f", image, repo + ":sha-1111111"], capture_output=True)
    subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True)
    changed = service_context(tmp_path, extra="different content\n")  # a rebuild would differ
    with registry_for(repo) as reg:
        tags_before = reg.tags(repo.split("/", 1)[1])
    code, out, again = build_push(env, capsys, *argv, "--context", str(changed))
    assert code == 0, out
    assert "built from this commit" in out and "a re-run" in out and "docker push" not in out
    assert "/ready" in out  # the existing image was booted and checked
    assert again == first  # outputs identical to the first run's
    with registry_for(repo) as reg:
        assert reg.tags(repo.split("/", 1)[1]) == tags_before
    # The same tag from another commit: refused, as an immutable tag must be.
    other = {**env, "GITHUB_SHA": "2" * 40}
    code, out, _ = build_push(other, capsys, "--mode", "push", "--image", repo, "--context", str(changed))
    assert code == 1
    assert "release tags are immutable" in out and "v1.0.0 →" in out
    with registry_for(repo) as reg:
        assert reg.digest(repo.split("/", 1)[1], "v1.0.0") == first["digest"]  # untouched
    code, out, moved = build_push(
        env, capsys, "--mode", "push", "--image", repo, "--context", str(changed), "--overwrite"
    )
    assert code == 0 and moved["digest"] != first["digest"]


def test_promote_within_and_across_repositories(tmp_path, gha_env, capsys, repo, services):
    env = runner_env(tmp_path, gha_env, ref="refs/tags/v2.0.0")
    code, out, pushed = build_push(
        env, capsys, "--mode", "push", "--image", repo, "--context", str(service_context(tmp_path))
    )
    assert code == 0, out
    digest = pushed["digest"]
    prod = repo.replace("/app", "/prod-app")
    dispatch = runner_env(tmp_path, gha_env, ref="refs/heads/main", event="workflow_dispatch")
    code, out, promoted = build_push(
        dispatch,
        capsys,
        "--mode",
        "promote",
        "--image",
        prod,
        "--source",
        f"{repo}:v2.0.0",
        "--version",
        "v2.0.0",
        "--tags",
        "production",
    )
    assert code == 0, out
    assert promoted["digest"] == digest
    assert promoted["tags"].splitlines() == [f"{prod}:v2.0.0", f"{prod}:production"]  # no sha-/branch tag
    assert "blobs mounted, 0 copied (0 bytes)" in out
    with registry_for(prod) as reg:
        assert reg.digest(prod.split("/", 1)[1], "production") == digest
    code, out, by_digest = build_push(
        dispatch, capsys, "--mode", "promote", "--image", repo, "--source", f"{repo}@{digest}", "--tags", "stage"
    )
    assert code == 0 and by_digest["digest"] == digest
    code, out, _ = build_push(
        dispatch, capsys, "--mode", "promote", "--image", prod, "--source", f"{repo}:nope", "--tags", "x"
    )
    assert code == 1 and "does not exist" in out


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_LIST])
def test_promote_an_index_keeps_its_digest(tmp_path, gha_env, capsys, repo, index_type):
    env = runner_env(tmp_path, gha_env, ref="refs/tags/v3.0.0")
    code, out, pushed = build_push(
        env, capsys, "--mode", "push", "--image", repo, "--context", str(service_context(tmp_path))
    )
    assert code == 0, out
    path = repo.split("/", 1)[1]
    with registry_for(repo) as reg:
        child = reg.manifest(path, pushed["digest"])
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": index_type,
                "manifests": [
                    {
                        "mediaType": child.media_type,
                        "digest": child.digest,
                        "size": len(child.body),
                        "platform": {"architecture": "amd64", "os": "linux"},
                    }
                ],
            }
        ).encode()
        index_digest = reg.put_manifest(path, "multi", Manifest(index_type, "", index))
    other = repo.replace("/app", "/other")
    code, out, promoted = build_push(
        env, capsys, "--mode", "promote", "--image", other, "--source", f"{repo}:multi", "--tags", "multi"
    )
    assert code == 0, out
    assert promoted["digest"] == index_digest
    with registry_for(other) as reg:
        assert reg.manifest(other.split("/", 1)[1], child.digest) is not None  # the child came along
        assert reg.manifest(other.split("/", 1)[1], "multi").media_type == index_type


def test_registry_down(tmp_path, gha_env, capsys):
    env = runner_env(tmp_path, gha_env)
    code, out, _ = build_push(
        env,
        capsys,
        "--mode",
        "push",
        "--image",
        f"127.0.0.1:{free_port()}/down/app",
        "--context",
        str(service_context(tmp_path)),
    )
    assert code == 1 and "did not answer" in out


def test_tls_registry_login_and_wrong_password(tmp_path, gha_env, capsys, services):
    env = runner_env(tmp_path, gha_env, ref="refs/tags/v0.9.0")
    image = f"{services['DA_REGISTRY_TLS']}/it-{uuid.uuid4().hex[:8]}/app"
    context = str(service_context(tmp_path))
    good = {
        **env,
        "INPUT_USERNAME": services["DA_REGISTRY_TLS_USER"],
        "INPUT_PASSWORD": services["DA_REGISTRY_TLS_PASSWORD"],
    }
    with ArgvSampler(services["DA_REGISTRY_TLS_PASSWORD"]) as sampler:  # every process, during the push
        code, out, outputs = build_push(good, capsys, "--mode", "push", "--image", image, "--context", context)
    assert code == 0, out
    assert sampler.samples > 10 and sampler.found == []
    assert out.splitlines()[0] == f"::add-mask::{services['DA_REGISTRY_TLS_PASSWORD']}"
    wrong_password = "not-the-password-" + uuid.uuid4().hex
    bad = {
        **env,
        "INPUT_USERNAME": services["DA_REGISTRY_TLS_USER"],
        "INPUT_PASSWORD": wrong_password,
        "GITHUB_OUTPUT": str(tmp_path / "bad-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "bad-summary"),
    }
    code, out, _ = build_push(bad, capsys, "--mode", "push", "--image", image, "--context", context)
    assert code == 1 and "refused the credentials" in out
    written = "\n".join(out.splitlines()[1:]) + "".join(
        p.read_text() for p in (tmp_path / "bad-output", tmp_path / "bad-summary") if p.exists()
    )
    assert wrong_password not in written
    code, out, _ = build_push(
        {**env, "GITHUB_OUTPUT": str(tmp_path / "o3")}, capsys, "--mode", "push", "--image", image, "--context", context
    )
    assert code == 1 and "needs credentials" in out


def test_dockerfile_errors(tmp_path, gha_env, capsys, repo):
    env = runner_env(tmp_path, gha_env)
    missing = tmp_path / "empty"
    missing.mkdir()
    code, out, _ = build_push(env, capsys, "--image", repo, "--context", str(missing))
    assert code == 2 and "dockerfile: no Dockerfile at" in out
    broken = service_context(tmp_path, dockerfile='FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/nope"]\n')
    code, out, _ = build_push(env, capsys, "--image", repo, "--context", str(broken))
    assert code == 1
    annotation = next(line for line in out.splitlines() if line.startswith("::error title=build-push%3A build failed"))
    assert f"file={broken / 'Dockerfile'},line=3::" in annotation
    assert 'RUN ["/bin/nope"]' in annotation
    syntax = service_context(tmp_path, dockerfile="FROM scratch\nRUNN nothing\n")
    code, out, _ = build_push(env, capsys, "--image", repo, "--context", str(syntax))
    assert code == 1
    annotation = next(line for line in out.splitlines() if line.startswith("::error title=build-push%3A build failed"))
    assert f"file={syntax / 'Dockerfile'},line=2::" in annotation and "unknown instruction" in annotation.lower()


def test_boot_check_refuses_a_port_that_already_answers(tmp_path, gha_env, capsys, repo, start_app):
    squatter = start_app(ready_after=0)  # a ready server that is not the image
    port = squatter.server_address[1]
    env = runner_env(tmp_path, gha_env)
    code, out, _ = build_push(
        env,
        capsys,
        "--mode",
        "push",
        "--image",
        repo,
        "--context",
        str(service_context(tmp_path, ready=False)),
        "--ready-url",
        f"http://127.0.0.1:{port}/ready",
        "--run-env",
        f"PORT={port}",
    )
    assert code == 1 and f"something already listens on 127.0.0.1:{port}" in out
    with registry_for(repo) as reg:
        assert reg.digest(repo.split("/", 1)[1], "v1.2.3") is None
