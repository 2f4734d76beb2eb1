"""`deploy-actions <command>`: one entry point for laptops, GitHub Actions, GitLab CI and act.
Turns every user mistake into one clear line and exit 2, a failed check into exit 1."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence

from deploy_actions import __version__, gha, timing
from deploy_actions.cancel import cancel
from deploy_actions.commands import MODULES, load, root_commands
from deploy_actions.console import Reporter
from deploy_actions.errors import EXIT_CHECK_FAILED, EXIT_USAGE, CheckFailed, UsageError
from deploy_actions.options import add_arguments, resolve, with_stand_ins
from deploy_actions.results import Problem, Result

PROG = "deploy-actions"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit itself
        raise UsageError(f"{_without_values(message)} (see `{self.prog} --help`)")


def _without_values(message: str) -> str:
    """argparse quotes what it did not understand, values included (`--secrets token=…`):
    name the options only, never a value that may be a secret."""
    prefix = "unrecognized arguments: "
    if message.startswith(prefix):
        words = message[len(prefix) :].split()
        options = [w.split("=", 1)[0] for w in words if w.startswith("-")]
        others = len(words) - len(options)
        named = ", ".join(options) + (
            f" and {others} other value(s)"
            if others and options
            else f"{others} value(s) without an option"
            if others
            else ""
        )
        return f"unrecognized arguments: {named}"
    return message


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The full parser for `selected` (every command's when None, as for --help); the other
    commands get a bare entry so argparse still knows their names."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document with the result on stdout")
    common.add_argument(
        "--color",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="colour the output (default: when stdout is a terminal and NO_COLOR is unset)",
    )
    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="One artifact, one smoke check: build, ship and verify Dockerised services.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in MODULES:
        if selected not in (None, name):
            sub.add_parser(name, add_help=False)
            continue
        command = load(name)
        p = sub.add_parser(
            name,
            parents=[common],
            help=command.summary,
            description=command.description or command.summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(p, command.options)
    return parser


def _selected(argv: Sequence[str]) -> str | None:
    """The command named on the command line, if any (the first word that is not an option)."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in MODULES else None


def _root_entry(env: Mapping[str, str], reporter: Reporter) -> list[str]:
    """The root action passes its `command` input and every other input through the
    environment; pick the command and say which given inputs it will not use."""
    name = env.get("INPUT_COMMAND", "").strip()
    commands = root_commands()
    if name not in commands:
        raise UsageError(f"expected one of {', '.join(commands)}, got {name!r}", input="command")
    known = {o.env for o in with_stand_ins(commands[name].options)} | {"INPUT_COMMAND"}
    every = {o.env: o.name for c in commands.values() for o in with_stand_ins(c.options) if not o.action_default}
    for var, value in sorted(env.items()):
        if var.startswith("INPUT_") and var not in known and value.strip() and var in every:
            reporter.warning(
                f"input `{every[var]}` is not used by command `{name}` and was ignored", title="deploy-actions"
            )
    return [name]


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    argv = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--json", action="store_true")
    pre.add_argument("--color", action=argparse.BooleanOptionalAction, default=None)
    early, _ = pre.parse_known_args(argv)
    reporter = Reporter(json_mode=early.json, colour=early.color, env=env)
    command_name = None
    code, render = EXIT_CHECK_FAILED, True  # render: write the --json document (not for --help)
    try:
        if not argv and env.get("INPUT_COMMAND") is not None:
            argv = _root_entry(env, reporter)
        parser = build_parser(_selected(argv))
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            code, render = int(exc.code or 0), False
            return code
        if not args.command:
            parser.print_help(sys.stderr)
            code = EXIT_USAGE
            reporter.result({"error": "no command given", "kind": "usage"})
            return code
        command = load(args.command)
        command_name = command.name
        notices: list[str] = []
        raw = resolve(command.options, args, env, notices)
        for notice in notices:
            reporter.warning(notice, title=f"{PROG} {command.name}")
        for opt in command.options:
            if opt.secret and raw[opt.name]:
                reporter.secret(raw[opt.name])
        inputs = command.parse(raw, env)
        for value in command.secrets(inputs):
            reporter.secret(value)
        timing.started(env)
        code = reporter.render(command.run(inputs, reporter))
        return code
    except UsageError as exc:
        title = f"{PROG} {command_name}: bad input" if command_name else f"{PROG}: bad input"
        failed = _failure(str(exc), "usage", title, EXIT_USAGE, f"### ❌ {title}\n\n{exc}\n")
        failed.problems[0] = Problem("error", str(exc), title=title, file=exc.file, line=exc.line)
        if exc.hint:
            failed.message, failed.summary = exc.hint, failed.summary + f"\n{exc.hint}\n"
        code = reporter.render(failed)
        return code
    except CheckFailed as exc:
        title = f"{PROG} {command_name}" if command_name else PROG
        failed = _failure(str(exc), "check", title, EXIT_CHECK_FAILED, f"### ❌ {title} failed\n\n{exc}\n")
        failed.problems[0] = Problem(
            "error", exc.detail or str(exc), title=exc.title or title, file=exc.file, line=exc.line
        )
        code = reporter.render(failed)
        return code
    except KeyboardInterrupt:
        code = reporter.render(_failure("interrupted", "cancelled", PROG, 130, ""))
        return code
    except BrokenPipeError:  # `deploy-actions … | head`: the reader left; say nothing more
        _quiet_stdout()
        render = False
        return EXIT_CHECK_FAILED
    except Exception as exc:  # a bug in deploy-actions, not the user's mistake
        what = f"internal error ({type(exc).__name__}: {exc})"
        failed = _failure(
            f"{what}; please report it with the log (set RUNNER_DEBUG=1 or DEPLOY_ACTIONS_DEBUG=1 for the traceback)",
            "internal",
            PROG,
            EXIT_CHECK_FAILED,
            f"### ❌ {PROG} {command_name or ''}: internal error\n\n{gha.md_cell(what)}\n\n"
            "Please report it with the log (re-run with debug logging for the traceback).\n",
        )
        failed.document["error"] = f"internal error ({type(exc).__name__})"
        if env.get("RUNNER_DEBUG") == "1" or env.get("DEPLOY_ACTIONS_DEBUG"):
            failed.message = traceback.format_exc()
        code = reporter.render(failed)
        return code
    finally:
        timing.report(env)
        if render:
            with contextlib.suppress(BrokenPipeError):
                reporter.finish(code == 0)


def _failure(message: str, kind: str, title: str, code: int, summary: str) -> Result:
    """Bad input, a failed check, a cancellation or a bug, as a result like any command's."""
    return Result(
        False,
        document={"error": message, "kind": kind},
        summary=summary,
        problems=[Problem("error", message, title=title)],
        exit_code=code,
    )


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _interrupt(signum, frame) -> None:
    # A cancelled GitHub job gets SIGINT, then SIGTERM: stop running work and unwind like
    # Ctrl-C, so `with` blocks remove key files and close SSH connections in time.
    cancel()
    raise KeyboardInterrupt


def entry() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    code = main()
    # Every `with` has unwound and the result is written: leave now. The interpreter's own
    # teardown (finalising modules such as httpx and ssl) adds tens of milliseconds to every
    # step of a workflow and to a readiness gate's answer, and has nothing left to do.
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
