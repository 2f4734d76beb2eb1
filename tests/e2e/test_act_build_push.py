"""build-push as a consumer uses it: a release workflow on a tag push, run by act,
building the consumer's BuildKit Dockerfile (a cache mount, a build secret from the secrets
context), booting the image, pushing to the local registry."""

import json
import os
import shutil
import subprocess
import textwrap
import uuid

import pytest

from conftest import commit_all, free_port, run_act
from deploy_actions.images.registry import Registry

pytestmark = [pytest.mark.act, pytest.mark.services]

# act's host mode starts with an empty workspace and actions/checkout cannot be fetched
# here, so a git clone of the consumer repository stands in for it.
WORKFLOW = """\
on: push
permissions: {{}}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - name: checkout (stand-in for actions/checkout)
        run: git clone --quiet "$CONSUMER_REPO" .
      - id: image
        uses: org/deploy-actions/build-push@v1
        with:
          mode: push
          image: {image}
          aliases: major,latest
          ready-url: http://127.0.0.1:{port}/ready
          run-env: PORT={port}
          secrets: |
            index_token=${{{{ secrets.INDEX_TOKEN }}}}
      - env:
          DIGEST: ${{{{ steps.image.outputs.digest }}}}
          TAGS: ${{{{ steps.image.outputs.tags }}}}
        run: |
          echo "pushed digest=$DIGEST"
          echo "$TAGS" | sed 's/^/pushed tag /'
"""


def test_release_workflow_on_a_tag_push(tmp_path, action_repo, services):
    repo = tmp_path / "service"
    (repo / "www").mkdir(parents=True)
    (repo / "www" / "ready").write_text("ok\n")
    (repo / "www" / "health").write_text("ok\n")
    shutil.copy("/bin/busybox", repo / "busybox")
    (repo / "Dockerfile").write_text(
        textwrap.dedent("""\
        FROM scratch
        COPY busybox /bin/busybox
        RUN ["/bin/busybox", "--install", "-s", "/bin"]
        RUN --mount=type=cache,target=/cache echo warm > /cache/seen
        RUN --mount=type=secret,id=index_token test -s /run/secrets/index_token && echo token-seen
        COPY www /www
        CMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:${PORT:-8080} -h /www"]
        """)
    )
    image = f"{services['DA_REGISTRY']}/e2e-{uuid.uuid4().hex[:8]}/service"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github/workflows/release.yml").write_text(WORKFLOW.format(image=image, port=free_port()))
    commit_all(repo, "service")
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": "refs/tags/v0.1.0"}))
    token = "idx-" + uuid.uuid4().hex
    proc = run_act(
        repo,
        action_repo,
        "push",
        "-e",
        str(event),
        "--env",
        f"CONSUMER_REPO={repo}",
        "-s",
        "INDEX_TOKEN",  # act reads the value from its environment
        env={**os.environ, "INDEX_TOKEN": token},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "docker build (BuildKit)" in proc.stdout and "token-seen" in proc.stdout
    assert token not in proc.stdout + proc.stderr
    printed = [line.split("| ", 1)[1] for line in proc.stdout.splitlines() if "| pushed " in line]  # step output
    digest = next(line.removeprefix("pushed digest=") for line in printed if line.startswith("pushed digest="))
    tags = [line.split(":")[-1] for line in printed if line.startswith("pushed tag ")]
    assert tags == ["v0.1.0", "v0", "latest", f"sha-{sha[:7]}"]
    with Registry(services["DA_REGISTRY"]) as registry:
        path = image.split("/", 1)[1]
        assert {registry.digest(path, tag) for tag in tags} == {digest.strip()}
