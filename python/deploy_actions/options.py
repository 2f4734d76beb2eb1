"""One declaration per input serves every front door: the `--flag` on a laptop, the
`INPUT_<NAME>` variable an action.yml maps from `with:` (the runner sets none for
composite actions, actions/runner#665), and the contract test that keeps the two
in step. Precedence: command-line flag, then a non-empty variable, then the default."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deploy_actions.errors import UsageError


@dataclass(frozen=True)
class Option:
    name: str  # kebab-case, exactly the action input's name
    help: str
    default: str = ""  # as written in action.yml; "" means none
    required: bool = False
    secret: bool = False
    switch: bool = False  # boolean: --name / --no-name on the command line
    metavar: str | None = None
    # A default only the action.yml has: an expression the runner evaluates (`${{ github.token }}`).
    action_default: str = ""
    renamed_from: str = ""  # the input's older name: still read, with a deprecation warning
    deprecation: str = ""  # on the older name's stand-in: action.yml's deprecationMessage
    path: str = ""  # "one": names a file or folder; "list": several, by line or comma (see check_path)

    def stand_in(self) -> Option | None:
        """The older name as an input of its own, for action.yml (the runner warns on use)."""
        if not self.renamed_from:
            return None
        return Option(
            self.renamed_from,
            f"Deprecated: the former name of `{self.name}`.",
            switch=self.switch,
            secret=self.secret,
            deprecation=f"`{self.renamed_from}` is now `{self.name}`; use `{self.name}`.",
        )

    @property
    def env(self) -> str:
        return "INPUT_" + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Command:
    """A subcommand: its inputs, the outputs it sets, and the parse/run pair that keeps
    reading inputs apart from doing the work."""

    name: str
    summary: str
    options: tuple[Option, ...]
    outputs: Mapping[str, str]  # output name -> description
    parse: Callable[[Mapping[str, str], Mapping[str, str]], Any]  # (raw inputs, environment)
    run: Callable[..., Any]  # (inputs, reporter) -> results.Result, rendered by the CLI
    description: str = ""
    branding: tuple[str, str] = ("check-circle", "green")  # (Feather icon, colour) for the Marketplace
    action: bool = True  # False for CLI helpers that have no action.yml
    root: bool = False  # a CLI helper the root action runs too (its inputs are all an action's)
    secrets: Callable[[Any], Sequence[str]] = field(default=lambda inputs: ())


def with_stand_ins(options: Sequence[Option]) -> list[Option]:
    """The options, then the older names of renamed ones."""
    return [*options, *(old for opt in options if (old := opt.stand_in()))]


def add_arguments(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    for opt in options:
        if opt.renamed_from:  # still accepted, not advertised
            kind: dict[str, Any] = {"action": argparse.BooleanOptionalAction} if opt.switch else {}
            parser.add_argument(
                f"--{opt.renamed_from}", dest=f"{opt.dest}__old", default=None, help=argparse.SUPPRESS, **kind
            )
        env_note = f" [env: {opt.env}]"
        default_note = f" (default: {opt.default})" if opt.default and not opt.switch else ""
        required_note = " (required)" if opt.required else ""
        text = (opt.help + required_note + default_note + env_note).replace("%", "%%")
        if opt.switch and opt.name.startswith("no-"):  # `--no-cache` means yes; argparse would read it as no
            parser.add_argument(
                f"--{opt.name}", dest=opt.dest, action="store_const", const=True, default=None, help=text
            )
        elif opt.switch:
            parser.add_argument(
                f"--{opt.name}", dest=opt.dest, action=argparse.BooleanOptionalAction, default=None, help=text
            )
        else:
            parser.add_argument(
                f"--{opt.name}",
                dest=opt.dest,
                default=None,
                help=text,
                metavar=opt.metavar or opt.name.upper().replace("-", "_"),
            )


def _given(opt: Option, dest: str, env_name: str, args: argparse.Namespace | None, env: Mapping[str, str]) -> str:
    value = getattr(args, dest, None) if args is not None else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if value is not None else env.get(env_name, "")


def resolve(
    options: Sequence[Option], args: argparse.Namespace | None, env: Mapping[str, str], notices: list[str] | None = None
) -> dict[str, str]:
    """The raw string of every input, from flag, environment or default (an older name of a
    renamed input counts too, with a notice). Required inputs are enforced here because the
    runner does not enforce `required: true` for composite actions (actions/runner#1070)."""
    raw: dict[str, str] = {}
    for opt in options:
        value = _given(opt, opt.dest, opt.env, args, env)
        old = opt.stand_in()
        if not value.strip() and old:
            value = _given(opt, f"{opt.dest}__old", old.env, args, env)
            if value.strip() and notices is not None:
                notices.append(f"input `{old.name}` is deprecated: it is now `{opt.name}`")
        if not value.strip():
            value = opt.default
        if opt.required and not value.strip():
            raise UsageError(
                f"is required: pass --{opt.name} or set {opt.env} (in a workflow: `with: {opt.name}: …`)",
                input=opt.name,
            )
        if opt.path:
            check_path(value, opt.name, several=opt.path == "list")
        raw[opt.name] = value
    return raw


def check_path(value: str, name: str, *, several: bool = False) -> None:
    """A path input (`several`: a list of them, by line or comma) the operating system can
    take: no control character, no name of over 255 bytes, at most 4,096 bytes a path —
    refused here in one line rather than as an OSError from whichever call meets it first."""
    allowed = "\n" if several else ""
    if any((ord(ch) < 0x20 and ch not in allowed) or ord(ch) == 0x7F for ch in value.strip()):
        raise UsageError("expected a path, got control characters (a line break?) in it", input=name)
    for item in value.replace(",", "\n").split("\n") if several else [value]:
        if len(item.encode("utf-8", "surrogateescape")) > 4096 or any(
            len(part.encode("utf-8", "surrogateescape")) > 255 for part in item.split("/")
        ):
            raise UsageError("expected a path, got a name longer than the file system allows", input=name)
