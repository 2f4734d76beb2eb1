"""swarm-deploy as a consumer uses it: a `workflow_dispatch` deploy with an `image_tag`
input, the stack file from the consumer's checkout, the key from secrets and known_hosts
from variables, run by act against the manager's sshd (127.0.0.1)."""

import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import commit_all, free_port
from deploy_support import dispatch

pytestmark = [pytest.mark.act, pytest.mark.services]

WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      image_tag: {{description: "Release to deploy", required: true}}
permissions: {{}}
concurrency: {{group: deploy-production, cancel-in-progress: false}}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - name: checkout (stand-in for actions/checkout)
        run: git clone --quiet "$CONSUMER_REPO" .
      - id: deploy
        uses: org/deploy-actions/swarm-deploy@v1
        with:
          manager: {manager}
          ssh-key: ${{{{ secrets.DEPLOY_SSH_KEY }}}}
          known-hosts: ${{{{ vars.DEPLOY_KNOWN_HOSTS }}}}
          stack: {stack}
          compose-files: stack.yml
          image-tag: ${{{{ inputs.image_tag }}}}
          require-release-tag: false
          env: WEB_PORT={port}
          ready-url: http://127.0.0.1:{port}/ready
          ready-timeout: 5s
      - env:
          TAG: ${{{{ steps.deploy.outputs.deployed-tag }}}}
          PREVIOUS: ${{{{ steps.deploy.outputs.previous-tag }}}}
          ROLLED_BACK: ${{{{ steps.deploy.outputs.rolled-back }}}}
        if: always()
        run: echo "result deployed=$TAG previous=$PREVIOUS rolled-back=$ROLLED_BACK"
"""

STACK = """services:
  web:
    image: {repo}:${{IMAGE_TAG}}
    environment:
      BIND: 127.0.0.1:${{WEB_PORT}}
    networks: [hostnet]
    stop_grace_period: 2s
    deploy:
      update_config: {{order: stop-first, monitor: 2s}}
networks:
  hostnet: {{external: true, name: host}}
"""


def test_dispatch_deploys_to_the_swarm_then_a_bad_tag_rolls_back(tmp_path, action_repo, services, web_repo):
    stack, port = f"e2e-{uuid.uuid4().hex[:8]}", free_port()
    manager = f"{services['DA_SSH_USER']}@{services['DA_SWARM_MANAGER']}:{services['DA_SSH_PORT']}"
    repo = tmp_path / "ops"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github/workflows/deploy.yml").write_text(WORKFLOW.format(manager=manager, stack=stack, port=port))
    (repo / "stack.yml").write_text(STACK.format(repo=web_repo))
    commit_all(repo, "ops")

    def version() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=3) as answer:
            return answer.read().decode().strip()

    try:
        good = dispatch(repo, action_repo, services, "v1.0.0", "--env", f"CONSUMER_REPO={repo}")
        assert good.returncode == 0, good.stdout[-4000:]
        assert "result deployed=v1.0.0 previous= rolled-back=false" in good.stdout
        assert version() == "v1.0.0"
        key_line = Path(services["DA_SSH_KEY"]).read_text().splitlines()[1]
        assert key_line not in good.stdout
        bad = dispatch(repo, action_repo, services, "v2.0.0-rc.1", "--env", f"CONSUMER_REPO={repo}")
        assert bad.returncode != 0
        assert "::error title=swarm-deploy failed::" in bad.stdout
        assert "result deployed= previous=v1.0.0 rolled-back=true" in bad.stdout
        assert version() == "v1.0.0"
    finally:
        subprocess.run(["docker", "stack", "rm", stack], capture_output=True)
