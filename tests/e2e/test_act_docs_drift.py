"""docs-drift as a consumer uses it: the seed's docs-contract.yml gate on a pull request,
run by act on a repository whose README tables match its workflows, then one that drifted."""

import shutil
from pathlib import Path

import pytest

from conftest import commit_all, run_act

pytestmark = pytest.mark.act
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "docs" / "seed"
GATE = """\
on: pull_request
permissions: {}
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - name: checkout (stand-in for actions/checkout)
        run: git clone --quiet "$CONSUMER_REPO" .
      - id: drift
        uses: org/deploy-actions/docs-drift@v1
      - if: always()
        env:
          COUNT: ${{ steps.drift.outputs.drift-count }}
        run: echo "result drift-count=$COUNT"
"""


def run_gate(repo: Path, action_repo: Path):
    commit_all(repo)
    return run_act(
        repo, action_repo, "pull_request", "-W", ".github/workflows/docs-contract.yml", "--env", f"CONSUMER_REPO={repo}"
    )


def test_docs_gate_passes_then_catches_a_drift(tmp_path, action_repo):
    repo = tmp_path / "service"
    shutil.copytree(SEED, repo)
    (repo / ".github/workflows/docs-contract.yml").write_text(GATE)
    clean = run_gate(repo, action_repo)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert "result drift-count=0" in clean.stdout
    (repo / ".github/workflows/deploy-production.yml").unlink()
    drifted = run_gate(repo, action_repo)
    assert drifted.returncode != 0
    assert "::error title=docs-drift%3A workflow-table" in drifted.stdout
    assert "lists deploy-production.yml" in drifted.stdout and "result drift-count=1" in drifted.stdout
