"""What a command found, as data: the verdict, the problems to annotate, the outputs, the
step summary and the --json document. Commands return one; `Reporter.render` turns it into
the person's view, the GitHub view and the JSON document the same way for every command
(the CLI does the same for bad input and internal errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploy_actions.errors import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning | notice
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass
class Result:
    ok: bool
    document: dict[str, Any] = field(default_factory=dict)  # the --json document (`ok` is added)
    outputs: dict[str, Any] = field(default_factory=dict)  # $GITHUB_OUTPUT, in order
    summary: str = ""  # the step summary, Markdown
    problems: list[Problem] = field(default_factory=list)  # annotations (errors, warnings)
    message: str = ""  # the last line for a person: what passed, or what failed
    exit_code: int | None = None  # when it is neither 0 nor 1 (a usage failure found late: 2)

    @property
    def code(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        return EXIT_OK if self.ok else EXIT_CHECK_FAILED

    def error(self, message: str, **where: Any) -> None:
        self.problems.append(Problem("error", message, **where))

    def fail(self, message: str, command: str, *, usage: bool = False) -> None:
        """The command failed: a failed check (exit 1), or the input's fault found only once
        it ran — a compose file that cannot run, no manager there (exit 2)."""
        self.ok = False
        self.error(message, title=f"{command}: bad input" if usage else f"{command} failed")
        self.exit_code = EXIT_USAGE if usage else None

    def conclude(self, failure: str | None, command: str, *, usage: bool, message: str) -> None:
        """The deploy commands' ending: `fail` with `failure`, or pass saying `message`."""
        if failure:
            self.fail(failure, command, usage=usage)
        else:
            self.message = message

    def warning(self, message: str, **where: Any) -> None:
        self.problems.append(Problem("warning", message, **where))

    def notice(self, message: str, **where: Any) -> None:
        self.problems.append(Problem("notice", message, **where))
