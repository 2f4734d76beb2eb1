"""A person's view at a terminal, or a plain log outside GitHub: colour where the stream
is a terminal (and NO_COLOR is unset), problems as labelled lines with their file and
line, and a progress line rewritten in place."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import IO

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2", "bold": "1"}


def paint(text: str, colour: str) -> str:
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


class TerminalView:
    def __init__(self, out: IO[str], write: Callable[[str], None], *, colour: bool, live: bool):
        self.out, self.write = out, write
        self.colour, self.live = colour, live
        self.progress_every = 5.0

    def paint(self, text: str, colour: str) -> str:
        return paint(text, colour) if self.colour else text

    def mask(self, value: str) -> None:
        """Nothing to register: the Reporter's redaction is all a terminal has."""

    def problem(self, level: str, text: str, title: str | None, file: str | None, line: int | None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        label = self.paint(level, {"error": "red", "warning": "yellow"}.get(level, "bold"))
        self.write(f"{label}: {where}{title + ': ' if title else ''}{text}")

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self.write(self.paint(title, "bold"))
        yield

    @contextlib.contextmanager
    def untrusted(self) -> Iterator[None]:
        yield  # nothing reads a terminal's text as commands

    def summary_tail(self) -> str:
        return ""
