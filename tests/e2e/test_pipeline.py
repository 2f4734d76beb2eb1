"""The whole pipeline on loopback, through `deploy-actions local-run` (act) and the example
workflows, on a service repository made from examples/notes: release v0.1.0 → stage
(127.0.0.2) → production (127.0.0.3), the same digest on both; a bad v0.1.1 that passes
its release checks but is never ready on stage → rolled back to v0.1.0; the docs contract
passing, then failing once a workflow is renamed without its table row."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, free_port
from deploy_actions.images.registry import Registry
from deploy_support import LoadClient, blue_green_down, compose_down, host_docker, local_run

pytestmark = [pytest.mark.act, pytest.mark.services]

NOTES = ROOT / "examples" / "notes"
GIT = ["git", "-c", "user.name=dev", "-c", "user.email=dev@example.test"]


class Pipeline:
    def __init__(self, services, tmp: Path):
        self.services = services
        suffix = uuid.uuid4().hex[:6]
        self.name = f"notes-e2e-{suffix}"
        self.image = f"{services['DA_REGISTRY']}/e2e-{suffix}/notes"
        self.port = free_port()
        self.repo = tmp / "notes"
        self.files = tmp / "env"
        subprocess.run([str(NOTES / "base" / "build")], check=True, capture_output=True)
        subprocess.run([str(NOTES / "new-repo"), str(self.repo)], check=True, capture_output=True)
        subprocess.run(
            [str(NOTES / "local-env"), str(self.files), self.name, self.image, str(self.port)],
            check=True,
            capture_output=True,
        )
        self.hosts = services["DA_SSH_HOSTS"].split(",")[:2]

    def git(self, *args: str) -> str:
        return subprocess.run([*GIT, *args], cwd=self.repo, check=True, capture_output=True, text=True).stdout

    def run(self, workflow: str, *args: str, vars_file: str = "ci.vars"):
        return local_run(
            self.repo,
            "--workflow",
            workflow,
            "--vars-file",
            str(self.files / vars_file),
            "--secrets-file",
            str(self.files / "secrets"),
            *args,
        )

    def get(self, addr: str, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://{addr}:{self.port}{path}", timeout=3) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def running_image(self, addr: str) -> str:
        """The image ID the host's notes container runs, as the host itself reports it."""
        key = Path(self.services["DA_SSH_KEY"]).read_text()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy_actions",
                "--json",
                "deploy-status",
                "--hosts",
                f"{self.services['DA_SSH_USER']}@{addr}:{self.services['DA_SSH_PORT']}",
                "--known-hosts",
                Path(self.services["DA_SSH_KNOWN_HOSTS"]).read_text(),
                "--deploy-path",
                f"{self.services['DA_SSH_DEPLOY_ROOT']}/{self.name}",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "INPUT_SSH_KEY": key},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        [host] = json.loads(proc.stdout)["hosts"]
        [running] = [r for r in host["running"] if r["service"] == "notes"]
        return running["image_id"]

    def down(self):
        compose_down(self.services, self.name, self.hosts)
        blue_green_down(self.services, self.name, self.hosts)


@pytest.fixture(scope="module")
def pipeline(services, tmp_path_factory):
    made = Pipeline(services, tmp_path_factory.mktemp("pipeline"))
    yield made
    made.down()


def test_release_then_stage_then_production_run_the_same_digest(pipeline):
    pipeline.git("tag", "v0.1.0")
    code, result, log = pipeline.run("release-images.yml", "--tag", "v0.1.0")
    assert code == 0, log[-5000:]
    assert result["jobs"] == {"release-images/image": "succeeded"}
    assert "Running upgrade 0001_notes -> 0002_created_at" in log  # the image migrated the CI database itself
    sha = pipeline.git("rev-parse", "--short=7", "HEAD").strip()
    with Registry(pipeline.services["DA_REGISTRY"]) as registry:
        repo = pipeline.image.split("/", 1)[1]
        digest = registry.digest(repo, "v0.1.0")
        assert digest and registry.digest(repo, f"sha-{sha}") == digest

    code, result, log = pipeline.run("deploy-stage.yml", "--dispatch", "image_tag=v0.1.0", vars_file="stage.vars")
    assert code == 0, log[-5000:]
    assert "alembic-preflight passed" in log and "$ migrate v0.1.0" in log
    assert pipeline.get(pipeline.hosts[0], "/ready") == (200, {"ready": True, "revision": "0002_created_at"})
    assert not _listening(pipeline, 1)  # production untouched so far

    code, result, log = pipeline.run(
        "deploy-production.yml", "--dispatch", "image_tag=v0.1.0", vars_file="production.vars"
    )
    assert code == 0, log[-5000:]
    for addr in pipeline.hosts:
        assert pipeline.get(addr, "/version") == (200, {"version": "v0.1.0"})
    stage_image, production_image = (pipeline.running_image(addr) for addr in pipeline.hosts)
    assert stage_image == production_image
    for addr in pipeline.hosts:  # each host pulled, into its own engine, the digest release-images pushed
        pulled = host_docker(pipeline.services, addr, "image", "inspect", "-f", "{{json .RepoDigests}}", stage_image)
        assert f"{pipeline.image}@{digest}" in json.loads(pulled.stdout), pulled.stderr


def _listening(pipeline: Pipeline, index: int) -> bool:
    try:
        urllib.request.urlopen(f"http://{pipeline.hosts[index]}:{pipeline.port}/health", timeout=1)
        return True
    except OSError:
        return False


def test_a_release_that_is_never_ready_on_stage_never_serves(pipeline):
    # v0.1.1 reads its database URL from a new variable. Its release workflow sets it, so
    # the release checks pass; stage's .env does not: configuration is the only difference.
    app = pipeline.repo / "app" / "notes.py"
    app.write_text(app.read_text().replace('URL_VARIABLE = "DATABASE_URL"', 'URL_VARIABLE = "NOTES_DATABASE_URL"'))
    workflow = pipeline.repo / ".github" / "workflows" / "release-images.yml"
    text = workflow.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("DATABASE_URL="))
    workflow.write_text(text.replace(line, line + "\n" + line.replace("DATABASE_URL=", "NOTES_DATABASE_URL=")))
    pipeline.git("commit", "-qam", "read NOTES_DATABASE_URL")
    pipeline.git("tag", "v0.1.1")
    code, _, log = pipeline.run("release-images.yml", "--tag", "v0.1.1")
    assert code == 0, log[-5000:]

    # Users polling stage all through the deploy: blue-green gates v0.1.1 on its own /ready,
    # so not one request fails and none reaches it.
    with LoadClient(f"http://{pipeline.hosts[0]}:{pipeline.port}/version", rate=50, threads=2) as users:
        code, result, log = pipeline.run("deploy-stage.yml", "--dispatch", "image_tag=v0.1.1", vars_file="stage.vars")
    assert code == 1
    assert result["jobs"] == {"deploy-stage/deploy": "failed"}
    assert "NOTES_DATABASE_URL is not set" in log  # the /ready reason reaches the log
    assert "rejected" in log and "::error title=ssh-compose-deploy failed::" in log
    assert len(users.answers) > 50 and users.failed == []
    assert {json.loads(body)["version"] for _, _, body in users.answers} == {"v0.1.0"}
    assert pipeline.get(pipeline.hosts[0], "/version") == (200, {"version": "v0.1.0"})
    assert pipeline.get(pipeline.hosts[0], "/ready")[0] == 200


def test_a_migration_dropping_what_the_live_release_reads_is_refused_before_any_host_changes(pipeline):
    """v0.2.0 moves notes.text to a new column and drops it in the same release: its image is
    consistent (its own checks pass), but the release live on stage still reads `text`. The
    stage deploy's preflight reads that release's code from git (live-ref: auto) and stops,
    naming both places, before the migration runs or any host changes."""
    app = pipeline.repo / "app" / "notes.py"
    before = app.read_text()
    app.write_text(
        before.replace("SELECT id, text FROM notes", "SELECT id, body FROM notes").replace(
            "INSERT INTO notes (text)", "INSERT INTO notes (body)"
        )
    )
    (pipeline.repo / "migrations" / "versions" / "0003_body.py").write_text(
        'revision = "0003_body"\ndown_revision = "0002_created_at"\n\nfrom alembic import op\nimport sqlalchemy as sa\n'
        '\n\ndef upgrade() -> None:\n    op.add_column("notes", sa.Column("body", sa.Text()))\n'
        '    op.drop_column("notes", "text")\n\n\ndef downgrade() -> None:\n    pass\n'
    )
    pipeline.git("add", "-A")
    pipeline.git("commit", "-qm", "notes.text becomes notes.body, in one release")
    pipeline.git("tag", "v0.2.0")
    try:
        code, _, log = pipeline.run("release-images.yml", "--tag", "v0.2.0")
        assert code == 0, log[-5000:]  # the image is consistent with itself
        code, result, log = pipeline.run("deploy-stage.yml", "--dispatch", "image_tag=v0.2.0", vars_file="stage.vars")
    finally:
        pipeline.git("reset", "-q", "--hard", "HEAD~1")  # the later tests work on the service as it was
    assert code == 1 and result["jobs"] == {"deploy-stage/deploy": "failed"}
    assert "::error title=alembic-preflight%3A live-release-uses,file=migrations/versions/0003_body.py,line=10::" in log
    assert re.search(
        r"`notes.text` is dropped in 0003_body.py:10, but v0\.1\.\d still uses it \(app/notes.py:\d+\)", log
    )
    assert "$ migrate v0.2.0" not in log  # stopped before the migration, and before any host
    assert pipeline.get(pipeline.hosts[0], "/version") == (200, {"version": "v0.1.0"})
    assert pipeline.get(pipeline.hosts[0], "/ready") == (200, {"ready": True, "revision": "0002_created_at"})


def test_pull_request_checks_build_the_image_and_run_the_unit_tests(pipeline):
    code, result, log = pipeline.run("docker-build.yml", "--pr", "4")
    assert code == 0, log[-4000:]
    assert result["jobs"] == {"docker-build/build": "succeeded"}
    assert "✔ built sha256:" in log and "docker push" not in log  # build only
    # backend-ci's migrations job installs the service's packages from PyPI: not run here.
    code, result, log = pipeline.run("backend-ci.yml", "--pr", "4", "--job", "test")
    assert code == 0, log[-4000:]
    assert "Ran 4 tests" in log and result["jobs"] == {"backend-ci/test": "succeeded"}


def test_docs_contract_passes_then_catches_a_renamed_workflow(pipeline):
    code, result, log = pipeline.run("docs-contract.yml", "--pr", "1")
    assert code == 0, log[-4000:]
    pipeline.git("checkout", "-q", "-b", "rename")
    pipeline.git("mv", ".github/workflows/deploy-stage.yml", ".github/workflows/deploy-staging.yml")
    pipeline.git("commit", "-qm", "rename the stage deploy")
    code, result, log = pipeline.run("docs-contract.yml", "--pr", "2")
    assert code == 1 and result["jobs"] == {"docs-contract/docs": "failed"}
    assert "lists deploy-stage.yml" in log and "does not list deploy-staging.yml" in log
