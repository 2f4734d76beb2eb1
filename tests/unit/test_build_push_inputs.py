"""build-push's bad inputs: one annotated line naming the input, exit 2, before any
engine or registry is touched."""

import json

import pytest

from deploy_actions.cli import main


@pytest.fixture
def context(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return str(tmp_path)


def run(gha_env, capsys, tmp_path, *args, ref="refs/tags/v1.2.3"):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": ref}))
    env = {
        **gha_env,
        "GITHUB_REF": ref,
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_EVENT_PATH": str(event),
    }
    code = main(["build-push", *args], env=env)
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--mode", "deploy"], "mode: expected one of build, push, promote, got 'deploy'"),
        (["--image", ""], "image: is required"),
        (["--image", "ghcr.io/Org/App"], "image: repository names must be lowercase"),
        (["--labels", "bad label"], "labels: line 1: expected `key=value`"),
        (["--aliases", "major,newest"], "aliases: expected any of minor, major, latest, got newest"),
        (["--ready-url", "127.0.0.1:8000/ready"], "ready-url: expected an http(s) URL"),
        (["--ready-url", "http://127.0.0.1:8000"], "ready-url: expected the full readiness URL such as"),
        (["--mode", "promote"], "source: is required in promote mode"),
        (["--mode", "promote", "--source", "docker.io/org/app:v1"], "source: promote works within one registry"),
        (["--version", "1.2.3"], "version: expected a release version like v1.2.3"),
    ],
)
def test_bad_input(gha_env, capsys, tmp_path, context, args, expected):
    base = {"--image": "127.0.0.1:5000/org/app", "--context": context}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [part for pair in base.items() for part in pair]
    code, out = run(gha_env, capsys, tmp_path, *argv)
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert code == 2 and len(errors) == 1, out
    assert expected in errors[0]


def test_non_semver_tag_push_in_push_mode(gha_env, capsys, tmp_path, context):
    code, out = run(
        gha_env,
        capsys,
        tmp_path,
        "--mode",
        "push",
        "--image",
        "127.0.0.1:5000/org/app",
        "--context",
        context,
        ref="refs/tags/release-7",
    )
    assert code == 2 and "version: expected a release version like v1.2.3 or v1.2.3-rc.1, got 'release-7'" in out


def test_unreadable_context(gha_env, capsys, tmp_path):
    code, out = run(gha_env, capsys, tmp_path, "--image", "127.0.0.1:5000/org/app", "--context", str(tmp_path / "nope"))
    assert code == 2 and "context: expected a readable directory" in out


def test_password_is_masked_before_a_bad_input_is_reported(gha_env, capsys, tmp_path, context):
    gha_env["INPUT_PASSWORD"] = "hunter2-registry-token"
    code, out = run(gha_env, capsys, tmp_path, "--mode", "sideways", "--image", "127.0.0.1:5000/org/app")
    assert code == 2
    assert out.splitlines()[0] == "::add-mask::hunter2-registry-token"
    assert "hunter2" not in "\n".join(out.splitlines()[1:])
