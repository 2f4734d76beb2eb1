"""The GitHub runner's view: workflow commands. Secrets masked, problems as annotations
(as many as GitHub shows; the rest kept for the step summary), groups, and foreign output
between `::stop-commands::` markers so none of its lines is taken as a command."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import IO

from deploy_actions import gha
from deploy_actions.console.terminal import paint

# GitHub shows at most 10 error and 10 warning annotations per step; the rest only
# clutter the log, so they go to the summary instead.
ANNOTATION_LIMIT = 10


class GitHubView:
    live = False  # a runner's log is appended to, never rewritten

    def __init__(self, out: IO[str], write: Callable[[str], None], *, colour: bool = False):
        self.out, self.write = out, write
        self.colour = colour  # GitHub's log shows ANSI colour, but only --color asks for it
        self.progress_every = 10.0
        self._annotations = {"error": 0, "warning": 0, "notice": 0}
        self._overflow: list[str] = []

    def paint(self, text: str, colour: str) -> str:
        return paint(text, colour) if self.colour else text

    def mask(self, value: str) -> None:
        gha.mask(value, self.out)

    def problem(self, level: str, text: str, title: str | None, file: str | None, line: int | None) -> None:
        if self._annotations[level] < ANNOTATION_LIMIT:
            self._annotations[level] += 1
            gha.annotate(level, text, title=title, file=file, line=line, stream=self.out)
        else:
            self._overflow.append(f"{level}: {title + ': ' if title else ''}{text}")
            self.write(f"{level}: {text}")

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        with gha.group(title, self.out):
            yield

    @contextlib.contextmanager
    def untrusted(self) -> Iterator[None]:
        token = os.urandom(16).hex()  # not `secrets`: its import costs a warm start ~5 ms
        self.write(f"::stop-commands::{token}")
        try:
            yield
        finally:
            self.write(f"::{token}::")

    def summary_tail(self) -> str:
        """The problems GitHub would not have shown, for the step summary (once)."""
        if not self._overflow:
            return ""
        tail = "\n<details><summary>More problems (not annotated: GitHub shows 10 per step)</summary>\n\n"
        tail += "".join(f"- {gha.md_cell(item)}\n" for item in self._overflow) + "\n</details>\n"
        self._overflow = []
        return tail
