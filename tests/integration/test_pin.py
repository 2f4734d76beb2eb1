"""deploy-actions pin against local bare git repositories with tags: no network."""

import subprocess

import pytest

from deploy_actions.cli import main

GIT = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t"]


def git(cwd, *args):
    return subprocess.run(GIT + list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def remote(tmp_path):
    """remotes/org/deploy-actions.git with releases v1.0.0, v1.1.0 (annotated), v1 → v1.1.0, v2.0.0, v1.2.0-rc.1."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    shas = {}
    for tag in ("v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v2.0.0"):
        (work / "VERSION").write_text(tag)
        git(work, "add", "-A")
        git(work, "commit", "-qm", tag)
        shas[tag] = git(work, "rev-parse", "HEAD")
        git(work, "tag", "-a", tag, "-m", tag) if tag == "v1.1.0" else git(work, "tag", tag)
    git(work, "tag", "v1", shas["v1.1.0"])
    bare = tmp_path / "remotes" / "org" / "deploy-actions.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return f"file://{tmp_path}/remotes/{{repo}}.git", shas


WORKFLOW = (
    "# deploy to stage\r\n"
    "on: workflow_dispatch\r\n"
    "jobs:\r\n"
    "  deploy:\r\n"
    "    runs-on: ubuntu-latest   # keep this comment\r\n"
    "    steps:\r\n"
    "      - uses: org/deploy-actions/smoke-ready@v1\r\n"
    "        with: {url: 'http://x'}\r\n"
    "      - uses: 'org/deploy-actions@v1.0.0'\r\n"
    "      - uses: ./local-action\r\n"
    "      - uses: docker://alpine:3\r\n"
)


def repo_with(tmp_path, text=WORKFLOW):
    root = tmp_path / "consumer"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github/workflows/deploy.yml").write_bytes(text.encode())
    return root


def pin(root, remote, *args, env=None):
    return main(["pin", "--root", str(root), "--remote", remote, *args], env=env or {})


def test_pin_keeps_every_other_byte_then_check_passes(tmp_path, remote, capsys):
    url, shas = remote
    root = repo_with(tmp_path)
    assert pin(root, url, "--check") == 1
    assert "org/deploy-actions@v1 is not pinned" in capsys.readouterr().out
    assert pin(root, url) == 0
    after = (root / ".github/workflows/deploy.yml").read_bytes().decode()
    expected = WORKFLOW.replace(
        "org/deploy-actions/smoke-ready@v1\r\n", f"org/deploy-actions/smoke-ready@{shas['v1.1.0']} # v1\r\n"
    )
    expected = expected.replace(
        "'org/deploy-actions@v1.0.0'\r\n", f"'org/deploy-actions@{shas['v1.0.0']}' # v1.0.0\r\n"
    )
    assert after == expected  # annotated v1.1.0 peeled to its commit; CRLF, quotes, comments kept
    assert pin(root, url, "--check") == 0
    assert pin(root, url) == 0 and (root / ".github/workflows/deploy.yml").read_bytes().decode() == expected


def test_update_moves_within_the_major_only(tmp_path, remote):
    url, shas = remote
    root = repo_with(
        tmp_path,
        f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        f"      - uses: org/deploy-actions@{shas['v1.0.0']} # v1.0.0\n",
    )
    assert pin(root, url, "--update") == 0
    text = (root / ".github/workflows/deploy.yml").read_text()
    assert f"org/deploy-actions@{shas['v1.1.0']} # v1.1.0\n" in text  # not v2.0.0, not the rc


def test_unknown_ref_or_invalid_yaml_rewrites_nothing(tmp_path, remote, capsys):
    url, _ = remote
    root = repo_with(tmp_path, WORKFLOW.replace("@v1.0.0", "@v9.9.9"))
    other = root / "action.yml"
    other.write_text("runs:\n  using: composite\n  steps:\n    - uses: org/deploy-actions@v1\n")
    before = {p: p.read_bytes() for p in (root / ".github/workflows/deploy.yml", other)}
    code = pin(root, url)
    out = capsys.readouterr().out
    assert code == 2 and "org/deploy-actions@v9.9.9 does not resolve" in out and "nothing was rewritten" in out
    assert {p: p.read_bytes() for p in before} == before
    other.write_text("runs: [unclosed\n")
    code = pin(root, url)
    assert code == 2 and "action.yml" in capsys.readouterr().out
    assert (root / ".github/workflows/deploy.yml").read_bytes() == before[root / ".github/workflows/deploy.yml"]
