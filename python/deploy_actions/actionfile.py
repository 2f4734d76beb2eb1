"""Renders each action.yml from the command's option spec, so an input can never be
declared without being mapped into `env:` and read, nor an output set without being
declared. `python -m deploy_actions.actionfile` (run by the tests) fails when a committed
file differs; `--write` regenerates them. The READMEs' tables follow with docs-drift --fix."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from deploy_actions.commands import actions, root_commands
from deploy_actions.options import Command, Option, with_stand_ins

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "# Generated from python/deploy_actions/commands/ by `python -m deploy_actions.actionfile --write`;\n"
    "# edit the command's options there, not this file.\n"
)

# No ${{ }} expression inside run: (script injection); inputs arrive through env: only.
# DEPLOY_ACTIONS_RUNTIME: the environment's Python, put in $GITHUB_ENV by the first action
# of the job. When it is an environment made from this version's lock (its copy of the lock
# is identical), the CLI starts in it directly: one interpreter start, no bootstrap.
# Anything else falls back to the bootstrap, with one warning; it runs with -S: it is stdlib
# only, and the runner's site-packages and their .pth files (code run at every start, 35 ms
# on this project's CI machine) are only loaded if pip has to make the environment.
# DEPLOY_ACTIONS_STARTED: for the start-up time in timing reports.
STEP_SCRIPT = """\
set -euo pipefail
export DEPLOY_ACTIONS_STARTED="${{EPOCHREALTIME:-}}"
lib="${{GITHUB_ACTION_PATH}}/{python}"
rt=${{DEPLOY_ACTIONS_RUNTIME:-}}
if [ -n "$rt" ]; then
  if [ -x "$rt" ] && cmp -s "${{rt%/bin/python}}/requirements.lock" "$lib/requirements.lock"; then
    export PYTHONPATH="$lib${{PYTHONPATH:+:$PYTHONPATH}}" PYTHONUTF8=1 PYTHONNOUSERSITE=1
    exec "$rt" -m deploy_actions {command}
  fi
  echo "::warning title=deploy-actions::DEPLOY_ACTIONS_RUNTIME ($rt) is not usable here; using the bootstrap"
fi
py=$(command -v python3 || command -v python || true)
if [ -z "$py" ]; then
  echo "::error title=deploy-actions::No Python on this runner. Add actions/setup-python before this step."
  exit 2
fi
exec "$py" -S "$lib/bootstrap.py" {command}
"""


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _inputs(options: Sequence[Option], with_defaults: bool) -> list[str]:
    lines = ["inputs:"]
    for opt in options:
        lines += [f"  {opt.name}:", f"    description: {_q(opt.help)}", f"    required: {str(opt.required).lower()}"]
        if opt.deprecation:
            lines.append(f"    deprecationMessage: {_q(opt.deprecation)}")
        if opt.action_default:
            lines.append(f"    default: {_q(opt.action_default)}")
        elif with_defaults and opt.default:
            lines.append(f"    default: {_q(opt.default)}")
    return lines


def _outputs(outputs: dict[str, str]) -> list[str]:
    lines = ["outputs:"] if outputs else []
    for name, text in outputs.items():
        lines += [f"  {name}:", f"    description: {_q(text)}", f"    value: ${{{{ steps.run.outputs.{name} }}}}"]
    return lines


def _runs(options: Sequence[Option], python: str, command: str) -> list[str]:
    lines = ["runs:", "  using: composite", "  steps:", "    - id: run", "      shell: bash", "      env:"]
    lines += [f"        {opt.env}: ${{{{ inputs.{opt.name} }}}}" for opt in options]
    lines.append("      run: |")
    script = STEP_SCRIPT.format(python=python, command=command).rstrip(" \n")
    lines += [f"        {line}".rstrip() for line in script.splitlines()]
    return lines


def render_command(command: Command) -> str:
    icon, colour = command.branding
    lines = [
        f"name: {_q('deploy-actions ' + command.name)}",
        f"description: {_q(command.summary)}",
        "author: deploy-actions",
        "branding:",
        f"  icon: {icon}",
        f"  color: {colour}",
    ]
    options = with_stand_ins(command.options)
    lines += _inputs(options, with_defaults=True) + _outputs(dict(command.outputs))
    lines += _runs(options, "../python", command.name)
    return HEADER + "\n".join(lines) + "\n"


def root_options() -> list[Option]:
    """`command` plus every command's inputs, without defaults: a default would look like a
    value the user gave to a command that does not use it. Each command applies its own.
    Runner expressions (`${{ github.token }}`) are the exception: only the runner can supply them."""
    merged: dict[str, list[tuple[str, Option]]] = {}
    for command in actions().values():
        for opt in with_stand_ins(command.options):
            merged.setdefault(opt.name, []).append((command.name, opt))
    options = [Option("command", f"Which command to run: one of {', '.join(root_commands())}.", required=True)]
    for name, uses in merged.items():
        # An input several commands share gets each command's own description and default.
        text = " ".join(
            f"[{command}] {opt.help}" + (f" Default: `{opt.default}`." if opt.default else "") for command, opt in uses
        )
        first = uses[0][1]
        options.append(
            Option(
                name,
                text,
                secret=any(o.secret for _, o in uses),
                switch=first.switch,
                action_default=first.action_default,
                deprecation=first.deprecation if all(o.deprecation for _, o in uses) else "",
            )
        )
    return options


def render_root() -> str:
    outputs: dict[str, str] = {}
    for command in actions().values():
        for name, text in command.outputs.items():
            outputs.setdefault(name, f"[{command.name}] {text}")
    lines = [
        f"name: {_q('deploy-actions')}",
        "description: "
        + _q(
            "Run any deploy-actions command (build-push, ssh-compose-deploy, smoke-ready, "
            "alembic-preflight, docs-drift) by name; see each action's README."
        ),
        "author: deploy-actions",
        "branding:",
        "  icon: package",
        "  color: blue",
    ]
    options = root_options()
    lines += _inputs(options, with_defaults=False) + _outputs(outputs)
    lines += _runs([o for o in options if o.name != "command"] + [options[0]], "python", "")
    return HEADER + "\n".join(lines) + "\n"


def rendered() -> dict[Path, str]:
    files = {ROOT / "action.yml": render_root()}
    for command in actions().values():
        files[ROOT / command.name / "action.yml"] = render_command(command)
    return files


def _stale(files: dict[Path, str]) -> list[Path]:
    return [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: Sequence[str]) -> int:
    current = rendered()
    if "--write" in argv:
        for path in _stale(current):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(current[path], encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} (now run: deploy-actions docs-drift --fix)")
        return 0
    stale = _stale(current)
    for path in stale:
        print(f"{path.relative_to(ROOT)} is out of date: run python -m deploy_actions.actionfile --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
