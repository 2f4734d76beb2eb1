"""alembic-preflight as a consumer uses it in CI: the project's migrations checked against
the local PostgreSQL through `uses: org/deploy-actions/alembic-preflight@v1`, run by act."""

import os
import shutil
from pathlib import Path

import pytest

from conftest import commit_all, run_act

pytestmark = [pytest.mark.act, pytest.mark.services]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alembic"

WORKFLOW = """\
on: pull_request
permissions: {}
jobs:
  migrations:
    runs-on: ubuntu-latest
    steps:
      - name: checkout (stand-in for actions/checkout)
        run: git clone --quiet "$CONSUMER_REPO" .
      - id: backend
        uses: org/deploy-actions/alembic-preflight@v1
        with:
          working-directory: backend
          database-url: ${{ secrets.DATABASE_URL }}
          round-trip: true
      - id: branchy
        continue-on-error: true
        uses: org/deploy-actions/alembic-preflight@v1
        with:
          working-directory: branchy
      - env:
          HEAD: ${{ steps.backend.outputs.head }}
          PASSED: ${{ steps.backend.outputs.passed }}
          BRANCHY: ${{ steps.branchy.outputs.passed }}
          BRANCHY_HEADS: ${{ steps.branchy.outputs.heads }}
        run: echo "result head=$HEAD passed=$PASSED branchy=$BRANCHY heads=$(echo $BRANCHY_HEADS)"
"""


def test_pull_request_workflow(tmp_path, action_repo, services):
    repo = tmp_path / "service"
    shutil.copytree(FIXTURES / "linear", repo / "backend")
    shutil.copytree(FIXTURES / "two_heads", repo / "branchy")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github/workflows/ci.yml").write_text(WORKFLOW)
    commit_all(repo, "service")
    env = {**os.environ, "DATABASE_URL": services["DA_POSTGRES_URL"]}
    proc = run_act(repo, action_repo, "pull_request", "-s", "DATABASE_URL", "--env", f"CONSUMER_REPO={repo}", env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "result head=a3 passed=true branchy=false heads=b2 b3" in proc.stdout
    assert "alembic-preflight%3A multiple-heads" in proc.stdout
    assert services["DA_POSTGRES_URL"].split(":")[2].split("@")[0] not in proc.stdout  # the password
