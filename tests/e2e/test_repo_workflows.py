"""This repository's own workflows under act, through `deploy-actions local-run`: ci.yml's
job that uses every action from the checkout, release.yml's checks on a tag, and the
reusable release-image.yml / deploy.yml called from a service repository in a few lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, commit_all, free_port
from deploy_support import blue_green_down, compose_down, local_run

pytestmark = [pytest.mark.act, pytest.mark.services]

GIT = ["git", "-c", "user.name=dev", "-c", "user.email=dev@example.test"]


@pytest.fixture(scope="module")
def library(action_repo, tmp_path_factory) -> Path:
    """This checkout as a repository of its own (act runs a git working tree)."""
    repo = tmp_path_factory.mktemp("library") / "deploy-actions"
    shutil.copytree(action_repo, repo)
    commit_all(repo, "deploy-actions")
    return repo


def test_ci_uses_every_action_from_the_checkout(library, services):
    code, result, log = local_run(library, "--workflow", "ci.yml", "--job", "actions", "--pr", "1")
    assert code == 0, log[-6000:]
    assert result["jobs"] == {"ci/actions": "succeeded"}
    for step in (
        "alembic-preflight (",
        "build-push (",
        "ssh-compose-deploy (",
        "smoke-ready (",
        "The root action",
        "docs-drift on this repository",
    ):
        assert "✅  Success - Main " + step in log, step
    assert "alembic-preflight passed" in log and "is live on 1 host" in log
    key_line = Path(services["DA_SSH_KEY"]).read_text().splitlines()[1]
    assert key_line not in log  # the throwaway key was masked


def test_release_check_job_on_a_tag(library, tmp_path):
    repo = tmp_path / "release"
    shutil.copytree(library, repo)
    changelog = repo / "CHANGELOG.md"
    section = "## [Unreleased]\n\n## [0.1.0] - 2026-11-26"
    changelog.write_text(changelog.read_text().replace("## [Unreleased]", section, 1))
    commit_all(repo, "release 0.1.0")
    subprocess.run(["git", "tag", "v0.1.0"], cwd=repo, check=True)
    code, result, log = local_run(repo, "--workflow", "release.yml", "--tag", "v0.1.0", "--job", "check")
    assert code == 0, log[-4000:]
    assert "v0.1.0 can be released; create v0 to it" in log
    assert "::set-output:: move-major=true" in log

    subprocess.run(["git", "tag", "v0.2.0"], cwd=repo, check=True)  # pyproject.toml still says 0.1.0
    code, result, log = local_run(repo, "--workflow", "release.yml", "--tag", "v0.2.0", "--job", "check")
    assert code == 1 and result["jobs"] == {"release/check": "failed"}
    assert "pyproject.toml says version '0.1.0', the tag says '0.2.0'" in log
    assert "CHANGELOG.md has no `## [0.2.0]` section" in log


CALLERS = {
    "release.yml": """\
on: {push: {tags: ["v*"]}}
permissions: {}
jobs:
  image:
    permissions: {contents: read, packages: write}
    uses: org/deploy-actions/.github/workflows/release-image.yml@v1
    with: {image: "${{ vars.IMAGE }}", build-args: "VERSION=${{ github.ref_name }}", test-command: alembic upgrade head,
           run-env: "BIND=127.0.0.1:18000", ready-url: "http://127.0.0.1:18000/ready", smoke-spec: smoke.yml}
    secrets: {run-env-secrets: "DATABASE_URL=${{ vars.CI_DATABASE_URL }}"}
""",
    "deploy.yml": """\
on: {workflow_dispatch: {inputs: {image_tag: {description: Release to deploy, required: true}}}}
permissions: {}
jobs:
  deploy:
    permissions: {contents: read}
    uses: org/deploy-actions/.github/workflows/deploy.yml@v1
    with: {image_tag: "${{ inputs.image_tag }}", environment: stage, hosts: "${{ vars.DEPLOY_HOSTS }}",
           known-hosts: "${{ vars.DEPLOY_KNOWN_HOSTS }}", deploy-path: "${{ vars.DEPLOY_PATH }}",
           ready-url: "${{ vars.READY_URL }}", smoke-spec: smoke.yml, proxy-listen: "${{ vars.PROXY_LISTEN }}",
           upstream-host: "${{ vars.UPSTREAM_HOST }}", upstream-ports: "${{ vars.UPSTREAM_PORTS }}",
           proxy-image: "${{ vars.PROXY_IMAGE }}",
           migrate-command: docker compose run --rm --no-deps notes alembic upgrade head,
           alembic-command: "docker run --rm --network host --env DATABASE_URL
             ${{ vars.IMAGE }}:${{ inputs.image_tag }} alembic",
           live-ref: auto}
    secrets: {ssh-key: "${{ secrets.DEPLOY_SSH_KEY }}", preflight-database-url: "${{ secrets.PREFLIGHT_DATABASE_URL }}"}
  report:
    needs: deploy
    runs-on: ubuntu-latest
    steps:
      - env: {TAG: "${{ needs.deploy.outputs.deployed-tag }}", PREVIOUS: "${{ needs.deploy.outputs.previous-tag }}"}
        run: echo "deployed=$TAG previous=$PREVIOUS"
""",
}


def test_reusable_workflows_release_and_deploy_a_service(library, services, tmp_path):
    notes = ROOT / "examples" / "notes"
    repo, files = tmp_path / "svc", tmp_path / "env"
    subprocess.run([str(notes / "base" / "build")], check=True, capture_output=True)
    subprocess.run([str(notes / "new-repo"), str(repo)], check=True, capture_output=True)
    workflows = repo / ".github" / "workflows"
    for old in workflows.glob("*.yml"):
        old.unlink()
    for name, text in CALLERS.items():
        (workflows / name).write_text(text)
    suffix = uuid.uuid4().hex[:6]
    name, image, port = f"reuse-{suffix}", f"{services['DA_REGISTRY']}/reuse-{suffix}/notes", free_port()
    subprocess.run([str(notes / "local-env"), str(files), name, image, str(port)], check=True, capture_output=True)
    subprocess.run([*GIT, "commit", "-qam", "call the reusable workflows"], cwd=repo, check=True)
    subprocess.run(["git", "tag", "v0.3.0"], cwd=repo, check=True)
    try:
        code, result, log = local_run(
            repo, "--workflow", "release.yml", "--tag", "v0.3.0", "--vars-file", str(files / "ci.vars"), library=library
        )
        assert code == 0, log[-6000:]
        assert result["jobs"] and set(result["jobs"].values()) == {"succeeded"}
        assert "pushed " + image in log

        code, result, log = local_run(
            repo,
            "--workflow",
            "deploy.yml",
            "--dispatch",
            "image_tag=v0.3.0",
            "--vars-file",
            str(files / "stage.vars"),
            "--secrets-file",
            str(files / "secrets"),
            library=library,
        )
        assert code == 0, log[-6000:]
        assert "alembic-preflight passed" in log  # before the deploy, against the live release (none yet)
        # The reusable workflow's outputs reach the caller's next job (no tag ran before).
        assert "| deployed=v0.3.0 previous=\n" in log
        addr = services["DA_SSH_HOSTS"].split(",")[0]
        with urllib.request.urlopen(f"http://{addr}:{port}/version", timeout=3) as resp:
            assert json.loads(resp.read()) == {"version": "v0.3.0"}
    finally:
        compose_down(services, name, services["DA_SSH_HOSTS"].split(",")[:1])
        blue_green_down(services, name, services["DA_SSH_HOSTS"].split(",")[:1])
