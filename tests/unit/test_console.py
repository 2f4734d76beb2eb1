import io
import json

from conftest import read_outputs
from deploy_actions.console import ANNOTATION_LIMIT, Reporter


def test_secrets_are_masked_then_redacted_everywhere(tmp_path):
    out = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "o"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    r = Reporter(stream=out, env=env)
    r.secret("tok-123456")
    r.info("using tok-123456")
    r.error("bad tok-123456", title="t")
    r.output("results", {"header": "Bearer tok-123456"})
    r.summary("| tok-123456 |")
    text = out.getvalue()
    assert text.splitlines()[0] == "::add-mask::tok-123456"
    assert "tok-123456" not in "\n".join(text.splitlines()[1:])
    assert json.loads(read_outputs(tmp_path / "o")["results"]) == {"header": "Bearer ***"}
    assert "tok-123456" not in (tmp_path / "s").read_text()


def test_short_fragments_of_a_secret_are_not_redacted_everywhere():
    out = io.StringIO()
    r = Reporter(stream=out, env={"GITHUB_ACTIONS": "true"})
    r.secret("-----BEGIN KEY-----\nx\n-----END KEY-----")
    r.info("expected x")
    assert "::add-mask::x" in out.getvalue()  # GitHub still masks it
    assert out.getvalue().splitlines()[-1] == "expected x"


def test_human_mode_has_no_workflow_commands_and_colour_only_when_asked():
    out = io.StringIO()
    r = Reporter(stream=out, env={}, colour=False)
    r.secret("hunter22")
    r.error("failed with hunter22", file="spec.yml", line=4)
    assert out.getvalue() == "error: spec.yml:4: failed with ***\n"
    coloured = io.StringIO()
    Reporter(stream=coloured, env={}, colour=True).success("ok")
    assert "\033[32m" in coloured.getvalue()


def test_annotations_beyond_the_limit_go_to_the_summary(tmp_path):
    out = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    r = Reporter(stream=out, env=env)
    for i in range(ANNOTATION_LIMIT + 3):
        r.error(f"problem {i}")
    assert out.getvalue().count("::error") == ANNOTATION_LIMIT
    r.summary("## done\n")
    summary = (tmp_path / "s").read_text()
    assert "problem 12" in summary and "problem 0" not in summary


def test_progress_is_throttled_off_terminal():
    out = io.StringIO()
    r = Reporter(stream=out, env={}, colour=False, progress_every=5)
    for t in (0.0, 1.0, 4.9, 5.1, 6.0, 10.2):
        r.progress(f"waiting {t}", now=100 + t)
    assert out.getvalue().splitlines() == ["waiting 0.0", "waiting 5.1", "waiting 10.2"]


def test_act_log_streamed_by_local_run_cannot_issue_workflow_commands(tmp_path):
    import sys

    from deploy_actions.commands.local_run import stream

    out = io.StringIO()
    r = Reporter(stream=out, env={"GITHUB_ACTIONS": "true"})
    code, text = stream([sys.executable, "-c", "print('::add-mask::x')"], tmp_path, {}, r)
    lines = out.getvalue().splitlines()
    assert code == 0 and "::add-mask::x" in text
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].split("::")[2]
    assert lines.index("::add-mask::x") > start and lines[-1] == f"::{token}::"
