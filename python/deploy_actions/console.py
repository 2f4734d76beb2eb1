"""Where a command's words go. One Reporter, three audiences: the GitHub runner
(workflow commands, outputs, step summary), a person at a terminal (colour, a live
progress line), and a machine (`--json`: one JSON document on stdout, words on stderr).
Every text passes through the redactor, so a secret registered once never prints."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from deploy_actions import gha
from deploy_actions.results import Result

# GitHub shows at most 10 error and 10 warning annotations per step; the rest only
# clutter the log, so they go to the summary instead.
ANNOTATION_LIMIT = 10
MIN_REDACTED = 4

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2", "bold": "1"}


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
        self.actions = gha.in_actions(self.env)
        self.json_mode = json_mode
        self.out = stream or (sys.stderr if json_mode else sys.stdout)
        tty = hasattr(self.out, "isatty") and self.out.isatty()
        if colour is None:
            colour = tty and not self.actions and "NO_COLOR" not in self.env
        self.colour = colour
        self.live = tty and not self.actions  # rewrite one progress line in place
        self.progress_every = progress_every if progress_every is not None else (10.0 if self.actions else 5.0)
        self._secrets: list[str] = []
        self._annotations = {"error": 0, "warning": 0, "notice": 0}
        self._overflow: list[str] = []
        self._last_progress = 0.0
        self._progress_shown = False
        self.document: dict[str, Any] = {}

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
        if self.actions:
            gha.mask(value, self.out)

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
    def _paint(self, text: str, colour: str) -> str:
        return f"\033[{_COLOURS[colour]}m{text}\033[0m" if self.colour else text

    def _write(self, text: str) -> None:
        self._clear_progress()
        self.out.write(self.redact(text) + "\n")
        self.out.flush()

    def info(self, text: str) -> None:
        self._write(text)

    def foreign(self, text: str) -> None:
        """Output of something else (a host, a container, alembic): shown as it is, but under
        GitHub between `::stop-commands::` markers, so a line in it cannot be taken as a
        workflow command (set an output, add a mask, annotate)."""
        if text.strip():
            with self.untrusted():
                self._write(text.rstrip("\n"))

    @contextlib.contextmanager
    def untrusted(self) -> Iterator[None]:
        """Everything written inside is foreign output (see `foreign`)."""
        if not self.actions:
            yield
            return
        token = os.urandom(16).hex()  # not `secrets`: its import costs a warm start ~5 ms
        self._write(f"::stop-commands::{token}")
        try:
            yield
        finally:
            self._write(f"::{token}::")

    def detail(self, text: str) -> None:
        self._write(self._paint(text, "dim"))

    def success(self, text: str) -> None:
        self._write(self._paint("✔ ", "green") + text)

    def problem(
        self, level: str, text: str, *, title: str | None = None, file: str | None = None, line: int | None = None
    ) -> None:
        """An error or warning: an annotation under GitHub (up to the display limit), else a
        coloured line. `file`/`line` point the annotation at the source of the problem."""
        text, title = self.redact(text), self.redact(title) if title else None
        if self.actions:
            self._clear_progress()
            if self._annotations[level] < ANNOTATION_LIMIT:
                self._annotations[level] += 1
                gha.annotate(level, text, title=title, file=file, line=line, stream=self.out)
            else:
                self._overflow.append(f"{level}: {title + ': ' if title else ''}{text}")
                self._write(f"{level}: {text}")
            return
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        label = self._paint(level, {"error": "red", "warning": "yellow"}.get(level, "bold"))
        self._write(f"{label}: {where}{title + ': ' if title else ''}{text}")

    def error(self, text: str, **where: Any) -> None:
        self.problem("error", text, **where)

    def warning(self, text: str, **where: Any) -> None:
        self.problem("warning", text, **where)

    def notice(self, text: str, **where: Any) -> None:
        """Something the user should know that is neither wrong nor risky (a re-run reused)."""
        self.problem("notice", text, **where)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.actions:
            with gha.group(self.redact(title), self.out):
                yield
        else:
            self._write(self._paint(title, "bold"))
            yield

    # -- long waits ----------------------------------------------------------
    def progress(self, text: str, *, now: float | None = None) -> None:
        """A status line for a long wait: rewritten in place on a terminal, else printed
        at most every `progress_every` seconds so CI logs stay short."""
        if self.json_mode and not self.live:
            return
        now = time.monotonic() if now is None else now
        if self.live:
            self.out.write("\r\033[K" + self._paint(self.redact(text), "dim"))
            self.out.flush()
            self._progress_shown = True
        elif now - self._last_progress >= self.progress_every:
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
        if self._overflow:
            markdown += "\n<details><summary>More problems (not annotated: GitHub shows 10 per step)</summary>\n\n"
            markdown += "".join(f"- {gha.md_cell(item)}\n" for item in self._overflow) + "\n</details>\n"
            self._overflow = []
        gha.append_summary(self.redact(markdown), self.env)

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
        self.document = dict(document)

    def finish(self, ok: bool) -> None:
        """The --json document: the only thing written to stdout in JSON mode, for every
        outcome — success, a failed check, bad input, an internal error — with `ok` first and
        always matching the exit code."""
        if self.json_mode:
            self._clear_progress()
            document = {"ok": ok, **{k: v for k, v in self.document.items() if k != "ok"}}
            sys.stdout.write(json.dumps(self._redact_tree(document), indent=2) + "\n")
            sys.stdout.flush()
