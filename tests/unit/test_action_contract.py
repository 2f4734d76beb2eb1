"""Every action.yml agrees with the Python side: each input is mapped into env: and read
by the command, each output the command sets is declared, no ${{ }} runs inside run:,
and the committed files are what the generator renders."""

import inspect
import json
import re
import sys

import pytest
import yaml

from conftest import ROOT
from deploy_actions import actionfile
from deploy_actions.commands import actions
from deploy_actions.options import with_stand_ins

COMMANDS = actions()

ACTION_FOLDERS = ["build-push", "ssh-compose-deploy", "smoke-ready", "alembic-preflight", "docs-drift"]


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def step(action):
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite" and len(steps) == 1
    return steps[0]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_action_maps_every_input_and_declares_every_output(name):
    command = COMMANDS[name]
    action = load(ROOT / name / "action.yml")
    run_step = step(action)
    assert set(action["inputs"]) == {o.name for o in with_stand_ins(command.options)}
    for opt in with_stand_ins(command.options):
        declared = action["inputs"][opt.name]
        assert run_step["env"][opt.env] == f"${{{{ inputs.{opt.name} }}}}"
        assert declared.get("default", "") == (opt.action_default or opt.default), opt.name
        assert declared["required"] is opt.required
        assert declared["description"].strip()
        assert declared.get("deprecationMessage", "") == opt.deprecation  # renamed inputs: the old name warns
    assert set(action["outputs"]) == set(command.outputs)
    for output in command.outputs:
        assert action["outputs"][output]["value"] == f"${{{{ steps.{run_step['id']}.outputs.{output} }}}}"
    assert action["branding"]["icon"] and action["branding"]["color"]


def _output_names(source: str) -> set[str]:
    """The keys of every `outputs={…}` / `outputs = {…}` a command's result is built with."""
    names = set()
    for match in re.finditer(r"outputs\s*=\s*\{", source):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[i], 0)
            i += 1
        names |= set(re.findall(r'"([\w-]+)"\s*:', source[match.end() : i]))
    return names


@pytest.mark.parametrize("name", list(COMMANDS))
def test_outputs_the_command_sets_are_declared(name):
    source = inspect.getsource(sys.modules[COMMANDS[name].run.__module__])
    assert _output_names(source) == set(COMMANDS[name].outputs)


def test_root_action_offers_every_command_input_without_defaults():
    action = load(ROOT / "action.yml")
    run_step = step(action)
    every = {o.name for c in COMMANDS.values() for o in with_stand_ins(c.options)} | {"command"}
    assert set(action["inputs"]) == every
    expressions = {o.name for c in COMMANDS.values() for o in c.options if o.action_default}
    assert all("default" not in spec for name, spec in action["inputs"].items() if name not in expressions)
    assert set(run_step["env"]) == {"INPUT_" + n.upper().replace("-", "_") for n in every}


def test_helpers_the_root_action_runs_ask_only_for_its_inputs_and_set_only_its_outputs():
    from deploy_actions.commands import root_commands

    action = load(ROOT / "action.yml")
    helpers = {n: c for n, c in root_commands().items() if n not in COMMANDS}
    assert set(helpers) == {"promote", "abort"}
    for command in helpers.values():
        assert {o.name for o in with_stand_ins(command.options)} <= set(action["inputs"])
        assert set(command.outputs) <= set(action["outputs"])


def test_no_expression_in_descriptions():
    """The runner evaluates `${{` in action metadata; in a description it breaks the action."""
    for path in [ROOT / "action.yml"] + [ROOT / n / "action.yml" for n in COMMANDS]:
        action = load(path)
        for kind in ("inputs", "outputs"):
            for name, spec in (action.get(kind) or {}).items():
                assert "${{" not in spec["description"], f"{path}: {kind}.{name}"


def test_no_expression_inside_run_and_strict_bash():
    for path in [ROOT / "action.yml"] + [ROOT / n / "action.yml" for n in COMMANDS]:
        run_step = step(load(path))
        assert "${{" not in run_step["run"], path
        assert run_step["shell"] == "bash" and run_step["run"].startswith("set -euo pipefail")
        assert "${GITHUB_ACTION_PATH}" in run_step["run"]


def test_committed_action_files_are_generated():
    stale = [str(p) for p, text in actionfile.rendered().items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"run python -m deploy_actions.actionfile --write: {stale}"


def test_this_repositorys_docs_do_not_drift(capsys):
    """Dogfooding: every action README's tables, links and paths, checked by docs-drift."""
    from deploy_actions.cli import main

    code = main(["--json", "docs-drift", "--root", str(ROOT)], env={})
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["report"]
    assert "action-table" not in {d["rule"] for d in report["report"]}


def test_layout_has_every_action_folder_and_no_symlinks():
    for name in ACTION_FOLDERS:
        assert (ROOT / name / "README.md").is_file()
    tracked = [p for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts]
    assert not [p for p in tracked if p.is_symlink()]
    # An action that is not delivered yet has no action.yml that could pretend to work.
    for name in ACTION_FOLDERS:
        assert (ROOT / name / "action.yml").exists() == (name in COMMANDS)


def test_a_renamed_input_still_works_under_its_old_name_with_a_warning(gha_env, capsys, tmp_path):
    from deploy_actions.cli import main

    spec = tmp_path / "smoke.yml"
    spec.write_text("calls: 3\n")  # refused by the spec's own check: shows which input was read
    for argv, env in ((["--spec", str(spec)], {}), ([], {"INPUT_SPEC": str(spec)})):
        code = main(["smoke-ready", "--url", "http://127.0.0.1:9", *argv], env={**gha_env, **env})
        out = capsys.readouterr().out
        assert code == 2 and "smoke-spec: " in out, out
        assert "::warning title=deploy-actions smoke-ready::input `spec` is deprecated: it is now `smoke-spec`" in out
    code = main(["smoke-ready", "--url", "http://127.0.0.1:9", "--smoke-spec", str(spec)], env=gha_env)
    assert code == 2 and "deprecated" not in capsys.readouterr().out
