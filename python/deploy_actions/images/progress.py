"""BuildKit's plain progress, read line by line: which step failed, what it printed last,
the Dockerfile line BuildKit names (newer versions print `Dockerfile:12`) and the final
error. Pure, so every BuildKit generation's format is a unit test, not a build."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

VERTEX = re.compile(r"^#(\d+) \[([^\]]+)\] (.*)$")
OUTPUT = re.compile(r"^#(\d+) (?:\d+\.\d+ )?(.*)$")
ERROR = re.compile(r"^#(\d+) ERROR: (.*)$")
FRAME = re.compile(r"^(-+|\s*\d+ \|.*| > .*|View build details: .*)$")  # the snippet around an error
SOURCE = re.compile(r"^(\S+):(\d+)$")  # `Dockerfile:12`, `app.Dockerfile:3` before the snippet
PARSE_LINE = re.compile(r"\bline (\d+)\b")
TAIL = 20


@dataclass
class Failure:
    message: str
    step: str | None  # the failing instruction as BuildKit names it, e.g. `[builder 2/4] RUN make`
    line: int | None  # from BuildKit itself, if it said
    tail: list[str]


@dataclass
class Progress:
    steps: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, deque[str]] = field(default_factory=dict)
    failed: str | None = None
    error: str | None = None
    source_line: int | None = None
    last: str = ""
    side_errors: list[str] = field(default_factory=list)
    cached: set[str] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)

    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if not line.strip():
            return
        vertex = VERTEX.match(line)
        if vertex and not line.startswith(f"#{vertex.group(1)} ERROR"):
            self.steps.setdefault(vertex.group(1), f"[{vertex.group(2)}] {vertex.group(3)}")
            return
        error = ERROR.match(line)
        if error:
            number, message = error.group(1), error.group(2).strip()
            if number not in self.steps:  # a cache import, a context transfer: not a step
                self.side_errors.append(message)
            elif self.failed is None and "canceled" not in message:  # parallel stages cancelled by it
                self.failed, self.error = number, message
            return
        output = OUTPUT.match(line)
        if output:
            number, text = output.groups()
            if text == "CACHED":
                self.cached.add(number)
            elif text.startswith("DONE"):
                self.ran.add(number)
            elif not text.startswith("sha256:"):
                self.outputs.setdefault(number, deque(maxlen=TAIL)).append(text)
            return
        source = SOURCE.match(line.strip())
        if source and self.source_line is None:
            self.source_line = int(source.group(2))
            return
        if not FRAME.match(line):
            self.last = line.strip()

    def step_state(self, instruction: str) -> str | None:
        """`cached`, `ran` or None for the step whose text ends with `instruction`."""
        for number, name in self.steps.items():
            if name.endswith(instruction):
                return "cached" if number in self.cached else "ran" if number in self.ran else None
        return None

    def failure(self) -> Failure:
        """What went wrong, once the build exited non-zero."""
        message = self.last or self.error or (self.side_errors[-1] if self.side_errors else "the build failed")
        message = re.sub(r"^(ERROR|error): ", "", message)
        step = self.steps.get(self.failed) if self.failed else None
        tail = list(self.outputs.get(self.failed, ())) if self.failed else []
        line = self.source_line
        if line is None and "parse error" in message:
            match = PARSE_LINE.search(message)
            line = int(match.group(1)) if match else None
        return Failure(message, step, line, tail)
