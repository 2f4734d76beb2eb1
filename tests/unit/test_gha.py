import io

import pytest

from conftest import read_outputs
from deploy_actions import gha


def test_command_escaping_follows_the_toolkit():
    line = gha.command_line("error", "50% done\nnext", file="a,b:c.py", line=3, title=None)
    assert line == "::error file=a%2Cb%3Ac.py,line=3::50%25 done%0Anext"


def test_mask_registers_each_line_of_a_multiline_secret():
    out = io.StringIO()
    gha.mask("-----BEGIN KEY-----\nabc\n-----END KEY-----", out)
    assert out.getvalue().splitlines() == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::abc",
        "::add-mask::-----END KEY-----",
    ]


def test_outputs_are_heredoc_records_safe_for_multiline(tmp_path):
    env = {"GITHUB_OUTPUT": str(tmp_path / "out")}
    assert gha.set_output("report", "line 1\nline 2", env)
    assert gha.set_output("results", {"ok": True}, env)
    assert read_outputs(tmp_path / "out") == {"report": "line 1\nline 2", "results": '{"ok":true}'}


def test_output_record_shape_and_refusals():
    assert gha.output_record("x", "v", delimiter="D") == "x<<D\nv\nD\n"
    with pytest.raises(ValueError, match="delimiter"):
        gha.output_record("x", "a\nD\nb", delimiter="D")
    with pytest.raises(ValueError, match="invalid output name"):
        gha.output_record("bad name", "v")


def test_no_runner_files_means_no_writes(tmp_path):
    assert gha.set_output("x", "1", {}) is False
    assert gha.append_summary("# hi", {}) is False


def test_markdown_cells_cannot_break_tables():
    table = gha.md_table(["a", "b"], [["x|y", "line1\nline2"]])
    assert table.splitlines()[2] == "| x\\|y | line1 line2 |"


def test_group_wraps_even_on_error():
    out = io.StringIO()
    with pytest.raises(RuntimeError), gha.group("Install", out):
        raise RuntimeError
    assert out.getvalue() == "::group::Install\n::endgroup::\n"


def test_tools_started_by_the_cli_do_not_inherit_the_actions_inputs():
    env = {"PATH": "/usr/bin", "HOME": "/root", "INPUT_PASSWORD": "s3cret", "INPUT_SSH_KEY": "key", "GITHUB_SHA": "a"}
    assert gha.tool_environment(env) == {"PATH": "/usr/bin", "HOME": "/root", "GITHUB_SHA": "a"}
