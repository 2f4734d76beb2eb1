"""local-run's pure parts: workflow facts, event payloads, the vars/secrets file format,
the act command line and act's job results."""

from pathlib import Path

import pytest
import yaml

from deploy_actions import act_plan
from deploy_actions.errors import UsageError

WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      image_tag: {description: Release, required: true, type: string}
      dry_run: {type: boolean, default: false}
      stage: {type: choice, options: [stage, production], default: stage}
  push:
    tags: ["v*"]
jobs:
  deploy:
    runs-on: [self-hosted, linux]
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: org/deploy-actions/smoke-ready@v1
      - uses: "org/deploy-actions/build-push@v1.2.3"
      - uses: ./local-action
  other:
    runs-on: ubuntu-latest
    steps:
      - uses: org/deploy-actions@0123456789abcdef0123456789abcdef01234567
"""


def facts(text=WORKFLOW):
    return act_plan.read_workflow(yaml.safe_load(text), "org/deploy-actions")


def test_workflow_facts():
    wf = facts()
    assert wf.events == {"workflow_dispatch", "push"}
    assert wf.labels == ("self-hosted", "linux", "ubuntu-latest")
    assert wf.library_refs == ("v1", "v1.2.3", "0123456789abcdef0123456789abcdef01234567")
    assert wf.fetched == ()


def test_actions_act_would_download_are_named():
    text = WORKFLOW.replace(
        "      - uses: ./local-action\n",
        "      - uses: docker/login-action@v3\n      - uses: actions/checkout@v4\n        with: {ref: v0.1.0}\n",
    )
    assert facts(text).fetched == ("docker/login-action@v3", "actions/checkout@v4")
    reusable = "on: push\njobs:\n  call:\n    uses: other/repo/.github/workflows/x.yml@v1\n"
    assert facts(reusable).fetched == ("other/repo/.github/workflows/x.yml@v1",)


@pytest.mark.parametrize("text", ["jobs: {}\n", "on: push\n", "- a\n"])
def test_not_a_workflow(text):
    with pytest.raises(UsageError) as err:
        facts(text)
    assert err.value.input == "workflow"


def test_dispatch_checks_inputs_like_github():
    wf = facts()
    event = act_plan.dispatch({"image_tag": "v0.1.0"}, wf, "main")
    assert event.payload["inputs"] == {"image_tag": "v0.1.0", "dry_run": "false", "stage": "stage"}
    assert event.act_args == ("--input", "image_tag=v0.1.0", "--input", "dry_run=false", "--input", "stage=stage")
    for pairs, says in [
        ({}, "requires input 'image_tag'"),
        ({"image_tag": "v1", "tag": "x"}, "no input tag"),
        ({"image_tag": "v1", "stage": "qa"}, "stage must be one of stage, production"),
        ({"image_tag": "v1", "dry_run": "yes"}, "dry_run is a boolean"),
    ]:
        with pytest.raises(UsageError, match=says):
            act_plan.dispatch(pairs, wf, "main")


def test_tag_and_pull_request_payloads():
    assert act_plan.tag_push("v0.1.0", "abc").payload["ref"] == "refs/tags/v0.1.0"
    with pytest.raises(UsageError, match="expected a release tag"):
        act_plan.tag_push("release-1", "abc")
    pr = act_plan.pull_request("7", "feature", "h", "main", "b")
    assert pr.payload["pull_request"]["base"]["ref"] == "main" and pr.payload["number"] == 7
    with pytest.raises(UsageError, match="pull request number"):
        act_plan.pull_request("seven", "feature", "h", "main", "b")


def test_pairs_file(tmp_path):
    (tmp_path / "key").write_text("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
    path = tmp_path / "secrets"
    values = act_plan.read_pairs_file('# comment\n\nexport A=1\nB="two words"\nKEY=@key\n', path, "secrets-file")
    assert values == {"A": "1", "B": "two words", "KEY": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}


def test_pairs_file_errors_cite_the_line_not_the_secret(tmp_path):
    path = tmp_path / "secrets"
    with pytest.raises(UsageError) as err:
        act_plan.read_pairs_file("A=1\nhunter2 is my password\n", path, "secrets-file")
    assert err.value.line == 2 and "hunter2" not in str(err.value)
    with pytest.raises(UsageError, match="cannot read"):
        act_plan.read_pairs_file("KEY=@missing\n", path, "secrets-file")


def test_act_command_maps_every_label_and_library_ref():
    wf = facts()
    event = act_plan.dispatch({"image_tag": "v0.1.0"}, wf, "main")
    argv = act_plan.act_command(
        "act",
        event,
        Path("/e.json"),
        Path("/w.yml"),
        wf,
        "org/deploy-actions",
        Path("/lib"),
        ["KEY"],
        ["HOSTS"],
        "",
        ["--verbose"],
    )
    assert argv[:2] == ["act", "workflow_dispatch"]
    joined = " ".join(argv)
    for expected in [
        "-P self-hosted=-self-hosted",
        "-P linux=-self-hosted",
        "-P ubuntu-latest=-self-hosted",
        "--local-repository org/deploy-actions@v1=/lib",
        "--local-repository org/deploy-actions@v1.2.3=/lib",
        "-s KEY",
        "--var HOSTS",
        "--input image_tag=v0.1.0",
    ]:
        assert expected in joined
    assert argv[-1] == "--verbose"


def test_job_results():
    log = (
        "[release/image] ⭐ Run Set up job\n[release/image]   ✅  Success - Set up job\n"
        "[release/image] 🏁  Job succeeded\n[deploy/deploy] 🏁  Job failed\n"
    )
    assert act_plan.job_results(log) == {"release/image": "succeeded", "deploy/deploy": "failed"}


@pytest.mark.parametrize(
    "remote, expected",
    [
        ("https://github.com/acme/notes.git", "acme/notes"),
        ("git@github.com:acme/notes.git\n", "acme/notes"),
        ("ssh://git@gitlab.example/group/notes.git", "group/notes"),
        ("/srv/repos/notes.git", "local/My-Notes"),
        ("", "local/My-Notes"),
    ],
)
def test_local_run_names_the_real_repository(remote, expected, tmp_path):
    from deploy_actions.act_plan import repository_name

    assert repository_name(remote, tmp_path / "My Notes!") == expected
