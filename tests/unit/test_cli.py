"""Entry-point tests: run main() with a runner-like environment and assert the exit code
and exactly what was written to stdout, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from deploy_actions.cli import main
from deploy_actions.commands import root_commands


def run(argv, env, capsys):
    code = main(argv, env=env)
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,input_name,expected",
    [
        (["smoke-ready"], "url", "url: is required: pass --url or set INPUT_URL"),
        (["smoke-ready", "--url", "localhost:8000"], "url", "url: expected an http(s) URL"),
        (["smoke-ready", "--url", "http://127.0.0.1:1", "--timeout=-5s"], "timeout", "timeout: expected a duration"),
        (
            ["smoke-ready", "--url", "http://127.0.0.1:1", "--interval", "1s", "--max-interval", "100ms"],
            "max-interval",
            "max-interval: expected at least interval",
        ),
        (
            ["smoke-ready", "--url", "http://127.0.0.1:1", "--expected-status", "ok"],
            "expected-status",
            "expected-status: expected a whole number",
        ),
    ],
)
def test_bad_input_is_one_annotated_line_and_exit_2(argv, input_name, expected, gha_env, capsys, tmp_path):
    code, out = run(argv, gha_env, capsys)
    assert code == 2
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=deploy-actions smoke-ready%3A bad input::")
    assert expected in errors[0]
    assert "Traceback" not in out
    assert expected in (tmp_path / "summary.md").read_text()


def test_bad_input_from_environment_like_an_action(gha_env, capsys):
    env = {**gha_env, "INPUT_URL": "http://127.0.0.1:1", "INPUT_TIMEOUT": "soon"}
    code, out = run(["smoke-ready"], env, capsys)
    assert code == 2 and "timeout: expected a duration such as 30s" in out


def test_root_entry_rejects_unknown_command(gha_env, capsys):
    code, out = run([], {**gha_env, "INPUT_COMMAND": "deploy-everything"}, capsys)
    assert code == 2
    expected = f"command: expected one of {', '.join(root_commands())}, got 'deploy-everything'"
    assert f"::error title=deploy-actions%3A bad input::{expected}" in out


def test_secret_header_in_bad_input_is_masked_first(gha_env, capsys):
    env = {**gha_env, "INPUT_URL": "nope", "INPUT_HEADERS": "Authorization: Bearer abcdef123"}
    code, out = run(["smoke-ready"], env, capsys)
    lines = out.splitlines()
    assert code == 2
    assert lines[0] == "::add-mask::Authorization: Bearer abcdef123"
    assert "abcdef123" not in "\n".join(lines[1:])


def test_bad_spec_annotates_the_spec_line(gha_env, capsys, tmp_path):
    spec = tmp_path / "smoke.yml"
    spec.write_text("calls:\n  - name: a\n    path: /x\n    expect: {status: 99}\n")
    code, out = run(["smoke-ready", "--url", "http://127.0.0.1:1", "--smoke-spec", str(spec)], gha_env, capsys)
    assert code == 2
    assert f"file={str(spec).replace(':', '%3A')},line=4::smoke-spec: {spec}:4: calls[0] ('a').expect.status" in out


def test_help_and_version_exit_0(capsys):
    assert main(["smoke-ready", "--help"], env={}) == 0
    assert "--ready-path" in capsys.readouterr().out
    assert main(["--version"], env={}) == 0


def test_json_mode_prints_only_json_on_stdout(capsys):
    code = main(["--json", "smoke-ready", "--url", "bad"], env={})
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out) == {
        "ok": False,
        "error": "url: expected an http(s) URL such as http://127.0.0.1:8000, got 'bad'",
        "kind": "usage",
    }
    assert "error" in captured.err


def test_module_entry_point_and_exit_code():
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "smoke-ready", "--bogus"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "unrecognized arguments: --bogus" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
