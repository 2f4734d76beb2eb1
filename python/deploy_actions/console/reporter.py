"""The one interface every command and the domain code write through: words, problems,
groups, progress, secrets, and a command's Result. What they look like is the view's —
GitHubView under the runner, TerminalView elsewhere — and with --json the words go to
stderr and a JsonDocument to stdout. Every text passes through the redactor first, so a
secret registered once never prints."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from deploy_actions import gha
from deploy_actions.console.document import JsonDocument
from deploy_actions.console.github import GitHubView
from deploy_actions.console.terminal import TerminalView
from deploy_actions.results import Result

MIN_REDACTED = 4


class Reporter:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        colour: bool | None = None,
        stream: IO[str] | None = None,
        env: dict[str, str] | None = None,
        progress_every: float | None = None,
    ):
        self.env = dict(os.environ if env is None else env)
        self.json_mode = json_mode
        self.out = stream or (sys.stderr if json_mode else sys.stdout)
        self.view: GitHubView | TerminalView
        if gha.in_actions(self.env):
            self.view = GitHubView(self.out, self._write, colour=bool(colour))
        else:
            tty = hasattr(self.out, "isatty") and self.out.isatty()
            if colour is None:
                colour = tty and "NO_COLOR" not in self.env
            self.view = TerminalView(self.out, self._write, colour=colour, live=tty)
        if progress_every is not None:
            self.view.progress_every = progress_every
        self.json = JsonDocument() if json_mode else None
        self._secrets: list[str] = []
        self._last_progress = 0.0
        self._progress_shown = False

    # -- secrets -------------------------------------------------------------
    def secret(self, value: str) -> None:
        """Mask a secret before anything else prints it (GitHub) and redact it here (everywhere)."""
        if not value or value in self._secrets:
            return
        # Redact whole values and their lines, but not fragments too short to be secret
        # (a one-letter line would blank that letter everywhere). GitHub gets every line.
        parts = [value] + [part for part in value.splitlines() if part != value]
        self._secrets.extend(part for part in parts if len(part.strip()) >= MIN_REDACTED)
        self._secrets.sort(key=len, reverse=True)
        self.view.mask(value)

    def _redact_tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._redact_tree(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redact_tree(v) for v in value]
        return value

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- plain words ---------------------------------------------------------
    def _write(self, text: str) -> None:
        self._clear_progress()
        self.out.write(self.redact(text) + "\n")
        self.out.flush()

    def info(self, text: str) -> None:
        self._write(text)

    def foreign(self, text: str) -> None:
        """Output of something else (a host, a container, alembic): shown as it is, but never
        taken as workflow commands (set an output, add a mask, annotate)."""
        if text.strip():
            with self.untrusted():
                self._write(text.rstrip("\n"))

    @contextlib.contextmanager
    def untrusted(self) -> Iterator[None]:
        """Everything written inside is foreign output (see `foreign`)."""
        with self.view.untrusted():
            yield

    def detail(self, text: str) -> None:
        self._write(self.view.paint(text, "dim"))

    def success(self, text: str) -> None:
        self._write(self.view.paint("✔ ", "green") + text)

    def problem(
        self, level: str, text: str, *, title: str | None = None, file: str | None = None, line: int | None = None
    ) -> None:
        """An error, warning or notice: an annotation under GitHub, else a labelled line.
        `file`/`line` point at the source of the problem."""
        self._clear_progress()
        self.view.problem(level, self.redact(text), self.redact(title) if title else None, file, line)

    def error(self, text: str, **where: Any) -> None:
        self.problem("error", text, **where)

    def warning(self, text: str, **where: Any) -> None:
        self.problem("warning", text, **where)

    def notice(self, text: str, **where: Any) -> None:
        """Something the user should know that is neither wrong nor risky (a re-run reused)."""
        self.problem("notice", text, **where)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        with self.view.group(self.redact(title)):
            yield

    # -- long waits ----------------------------------------------------------
    def progress(self, text: str, *, now: float | None = None) -> None:
        """A status line for a long wait: rewritten in place on a terminal, else printed
        at most every `progress_every` seconds so CI logs stay short."""
        if self.json and not self.view.live:
            return
        now = time.monotonic() if now is None else now
        if self.view.live:
            self.out.write("\r\033[K" + self.view.paint(self.redact(text), "dim"))
            self.out.flush()
            self._progress_shown = True
        elif now - self._last_progress >= self.view.progress_every:
            self._last_progress = now
            self._write(self.redact(text))

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.out.write("\r\033[K")
            self._progress_shown = False

    # -- machine-facing results -------------------------------------------------
    def output(self, name: str, value: Any) -> None:
        gha.set_output(name, self._redact_tree(value), self.env)

    def summary(self, markdown: str) -> None:
        gha.append_summary(self.redact(markdown + self.view.summary_tail()), self.env)

    def render(self, result: Result) -> int:
        """A command's result, the same way for every command: annotations, outputs, the step
        summary, the --json document (written by `finish`), the closing line; the exit code."""
        for problem in result.problems:
            self.problem(problem.level, problem.message, title=problem.title, file=problem.file, line=problem.line)
        for name, value in result.outputs.items():
            self.output(name, value)
        if result.summary:
            self.summary(result.summary)
        self.result(result.document)
        if result.message and result.ok:
            self.success(result.message)
        elif result.message:
            self.info(result.message)
        return result.code

    def result(self, document: dict[str, Any]) -> None:
        """What the command found, for the --json document (written once, by `finish`)."""
        if self.json:
            self.json.set(document)

    def finish(self, ok: bool) -> None:
        """The --json document: the only thing written to stdout in JSON mode, for every
        outcome — success, a failed check, bad input, an internal error."""
        if self.json:
            self._clear_progress()
            self.json.write(ok, self._redact_tree)
