"""The GitHub Actions runtime contract, in one place: workflow commands (annotations,
masks, log groups) on stdout and the file commands behind $GITHUB_OUTPUT and
$GITHUB_STEP_SUMMARY. Mirrors actions/toolkit's core package in snake_case."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def tool_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for a tool the CLI starts (the docker CLI): the runner's, without the
    action's own inputs (INPUT_*), which hold secrets that tool has no business seeing."""
    return {key: value for key, value in env.items() if not key.startswith("INPUT_")}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command_line(command: str, message: str = "", **properties: Any) -> str:
    """`::command key=value,...::message` with the toolkit's escaping; None properties are dropped."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def issue(command: str, message: str = "", stream: IO[str] | None = None, **properties: Any) -> None:
    out = stream or sys.stdout
    out.write(command_line(command, message, **properties) + "\n")
    out.flush()


def mask(secret: str, stream: IO[str] | None = None) -> None:
    """Register a secret with the runner's log masker. The runner masks line by line, so
    a multi-line secret (a private key) is registered one line at a time."""
    for line in secret.splitlines() or [secret]:
        if line.strip():
            issue("add-mask", line, stream)


def annotate(
    level: str,
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    stream: IO[str] | None = None,
) -> None:
    if level not in ("error", "warning", "notice"):
        raise ValueError(level)
    issue(level, message, stream, title=title, file=file, line=line, col=col)


@contextlib.contextmanager
def group(title: str, stream: IO[str] | None = None) -> Iterator[None]:
    issue("group", title, stream)
    try:
        yield
    finally:
        issue("endgroup", "", stream)


def output_record(name: str, value: Any, delimiter: str | None = None) -> str:
    """One `name<<DELIM` heredoc record for $GITHUB_OUTPUT, safe for any multi-line value.
    Non-strings are written as JSON, as the toolkit does."""
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    delim = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delim in name or delim in text:
        raise ValueError(f"output {name!r} contains the delimiter; refusing to write it")
    return f"{name}<<{delim}\n{text}\n{delim}\n"


def set_output(name: str, value: Any, env: Mapping[str, str] | None = None) -> bool:
    """Append to $GITHUB_OUTPUT; False when there is no such file (not under a runner)."""
    path = (env if env is not None else os.environ).get("GITHUB_OUTPUT")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(output_record(name, value))
    return True


def append_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    path = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return True


def md_cell(value: Any) -> str:
    """A Markdown table cell that cannot break its table: pipes escaped, newlines folded."""
    text = "" if value is None else str(value)
    return re.sub(r"\s*\r?\n\s*", " ", text).replace("|", "\\|").strip()


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
