"""ssh-compose-deploy as a consumer uses it: a `workflow_dispatch` deploy with an
`image_tag` input, the key from secrets and known_hosts from variables, run by act
against the sshd on 127.0.0.2."""

from pathlib import Path

import pytest

from conftest import commit_all
from deploy_support import Target, dispatch

pytestmark = [pytest.mark.act, pytest.mark.services]

WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      image_tag: {{description: "Release to deploy", required: true}}
permissions: {{}}
concurrency: {{group: deploy-stage, cancel-in-progress: false}}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - id: deploy
        uses: org/deploy-actions/ssh-compose-deploy@v1
        with:
          hosts: {hosts}
          ssh-key: ${{{{ secrets.DEPLOY_SSH_KEY }}}}
          known-hosts: ${{{{ vars.DEPLOY_KNOWN_HOSTS }}}}
          deploy-path: {path}
          image-tag: ${{{{ inputs.image_tag }}}}
          strategy: recreate
          ready-url: http://{{host}}:{port}/ready
          ready-timeout: 3s
      - env:
          TAG: ${{{{ steps.deploy.outputs.deployed-tag }}}}
          PREVIOUS: ${{{{ steps.deploy.outputs.previous-tag }}}}
        run: echo "result deployed=$TAG previous=$PREVIOUS"
"""


def test_dispatch_deploys_a_tag_then_a_bad_tag_rolls_back(tmp_path, action_repo, services, web_repo):
    target = Target(services, web_repo)
    try:
        repo = tmp_path / "ops"
        (repo / ".github" / "workflows").mkdir(parents=True)
        (repo / ".github/workflows/deploy.yml").write_text(
            WORKFLOW.format(hosts=target.hosts("127.0.0.2"), path=target.path, port=target.port)
        )
        commit_all(repo, "ops")
        good = dispatch(repo, action_repo, services, "v1.0.0")
        assert good.returncode == 0, good.stdout[-4000:]
        assert "result deployed=v1.0.0 previous=none" in good.stdout
        assert target.version("127.0.0.2") == "v1.0.0"
        key_line = Path(services["DA_SSH_KEY"]).read_text().splitlines()[1]
        assert key_line not in good.stdout  # the key never shows in the log
        bad = dispatch(repo, action_repo, services, "v2.0.0-rc.1")
        assert bad.returncode != 0
        assert "::error title=ssh-compose-deploy failed::" in bad.stdout and "rolled-back" in bad.stdout
        assert target.version("127.0.0.2") == "v1.0.0"
    finally:
        target.down()
