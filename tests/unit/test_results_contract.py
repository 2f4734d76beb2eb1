"""Every command, every way it can end — success, a failed check, bad input, an internal
error — ends the same way: one JSON document on stdout with `ok` matching the exit code
(`--json`), and a step summary. One renderer (cli + Reporter.finish) does it for all."""

import dataclasses
import json
from pathlib import Path

import pytest

import deploy_actions.cli as cli
from deploy_actions.commands import MODULES
from deploy_actions.errors import CheckFailed
from deploy_actions.results import Result

BAD_INPUT = {  # a real input mistake of each command: the command's own parsing refuses it
    "abort": ["--hosts", "nobody"],
    "alembic-preflight": ["--mode", "sideways"],
    "build-push": [],
    "deploy-status": [],
    "docs-drift": ["--root", "/nonexistent-folder"],
    "local-run": [],
    "maintenance": ["--state", "maybe"],
    "pause": ["--state", "maybe"],
    "pin": ["--remote", "https://example.invalid/no-template"],
    "promote": ["--hosts", "d@h", "--deploy-path", "relative"],
    "proxy-remove-app": [],
    "release-check": [],
    "smoke-ready": [],
    "ssh-compose-deploy": [],
    "swarm-deploy": [],
    "swarm-status": ["--manager", "no-user-here", "--stack", "s", "--known-hosts", "x"],
}


def test_every_command_is_covered():
    assert set(BAD_INPUT) == set(MODULES)


def run(gha_env, capsys, argv):
    code = cli.main(["--json", *argv], env=gha_env)
    out = capsys.readouterr().out
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"])
    written = summary.read_text() if summary.exists() else ""
    summary.unlink(missing_ok=True)
    return code, json.loads(out), written  # stdout is exactly one JSON document


@pytest.mark.parametrize("name", sorted(MODULES))
def test_bad_input(name, gha_env, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no alembic.ini, no repository: nothing to find by accident
    code, doc, summary = run(gha_env, capsys, [name, *BAD_INPUT[name]])
    assert code == 2 and doc["ok"] is False and doc["kind"] == "usage" and doc["error"]
    assert "bad input" in summary


def _replaced(monkeypatch, name, run_with):
    """The command with its parsing and work replaced: what is under test is the ending."""
    real = cli.load

    def load(wanted):
        command = real(wanted)
        if wanted != name:
            return command
        options = tuple(dataclasses.replace(o, required=False) for o in command.options)
        return dataclasses.replace(
            command, options=options, parse=lambda raw, env: None, run=run_with, secrets=lambda inputs: ()
        )

    monkeypatch.setattr(cli, "load", load)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_failed_check(name, gha_env, capsys, monkeypatch):
    def fails(inputs, reporter):
        raise CheckFailed("the thing under check is broken")

    _replaced(monkeypatch, name, fails)
    code, doc, summary = run(gha_env, capsys, [name])
    assert code == 1 and doc == {"ok": False, "error": "the thing under check is broken", "kind": "check"}
    assert "the thing under check is broken" in summary


@pytest.mark.parametrize("name", sorted(MODULES))
def test_internal_error(name, gha_env, capsys, monkeypatch):
    def crashes(inputs, reporter):
        raise ZeroDivisionError("division by zero")

    _replaced(monkeypatch, name, crashes)
    code, doc, summary = run(gha_env, capsys, [name])
    assert code == 1 and doc["ok"] is False and doc["kind"] == "internal"
    assert "internal error" in summary and "ZeroDivisionError" in summary


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("exit_code", [0, 1])
def test_the_commands_own_result_gets_ok_from_its_exit_code(name, exit_code, gha_env, capsys, monkeypatch):
    def finishes(inputs, reporter):
        # even a document that says otherwise: `ok` follows the verdict
        return Result(exit_code == 0, document={"ok": True, "detail": 3}, summary="### done\n")

    _replaced(monkeypatch, name, finishes)
    code, doc, summary = run(gha_env, capsys, [name])
    assert code == exit_code and doc == {"ok": exit_code == 0, "detail": 3} and summary == "### done\n"


def test_real_outcomes_of_smoke_ready(start_app, gha_env, capsys):
    app = start_app(ready_after=0)
    code, doc, summary = run(gha_env, capsys, ["smoke-ready", "--url", app.url, "--timeout", "5s"])
    assert code == 0 and doc["ok"] is True and doc["ready"] is True and "smoke-ready" in summary
    code, doc, summary = run(gha_env, capsys, ["smoke-ready", "--url", "http://127.0.0.1:9", "--timeout", "200ms"])
    assert code == 1 and doc["ok"] is False and doc["ready"] is False and summary


def test_docs_drift_diff_stays_inside_the_json_document(gha_env, capsys, tmp_path):
    (tmp_path / "README.md").write_text("# x\n\nSee [missing](nowhere.md).\n")
    code, doc, _ = run(gha_env, capsys, ["docs-drift", "--root", str(tmp_path), "--diff"])
    assert code == 1 and doc["ok"] is False and doc["drift_count"] == 1 and "diff" in doc
