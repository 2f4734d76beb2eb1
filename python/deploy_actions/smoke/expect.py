"""Judging an answer against what a smoke call expects. Pure: no I/O, so every rule
is unit-tested on its own."""

from __future__ import annotations

import json
import re
from typing import Any

from deploy_actions.smoke.http import Response
from deploy_actions.values import format_duration

WRONG_STATUS, WRONG_BODY, TOO_SLOW = "wrong-status", "wrong-body", "too-slow"
_MISSING = object()
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """`$.items[0].id` or `items[0].id` → ['items', 0, 'id']."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:].lstrip(".")
    tokens: list[str | int] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if text[pos : match.start()] not in ("", "."):
            raise ValueError(f"cannot read path {path!r}")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if text[pos:] or (not tokens and text):
        raise ValueError(f"cannot read path {path!r}")
    return tokens


def lookup(document: Any, path: str) -> Any:
    """The value at `path`, or _MISSING."""
    node = document
    for token in split_path(path):
        by_index = isinstance(token, int) and isinstance(node, list) and -len(node) <= token < len(node)
        by_key = isinstance(token, str) and isinstance(node, dict) and token in node
        if not (by_index or by_key):
            return _MISSING
        node = node[token]
    return node


def same(expected: Any, actual: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 (Python's bool is an int)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual, strict=True))
    return expected == actual


def status_ok(status: int, accepted: tuple[int, ...]) -> bool:
    return status in accepted if accepted else 200 <= status < 300


def judge(
    response: Response,
    *,
    statuses: tuple[int, ...] = (),
    json_values: dict[str, Any] | None = None,
    schema: Any = None,
    max_latency: float | None = None,
) -> tuple[str | None, str]:
    """(failure kind or None, one-line explanation)."""
    if response.failure:
        return response.failure, response.error
    assert response.status is not None
    if not status_ok(response.status, statuses):
        wanted = " or ".join(map(str, statuses)) if statuses else "2xx"
        return WRONG_STATUS, f"expected status {wanted}, got {response.status}"
    if json_values or schema is not None:
        try:
            document = response.json()
        except (ValueError, UnicodeDecodeError):
            return WRONG_BODY, "expected a JSON body, got something that is not JSON"
        for path, expected in (json_values or {}).items():
            try:
                actual = lookup(document, path)
            except ValueError as exc:
                return WRONG_BODY, str(exc)
            if actual is _MISSING:
                return WRONG_BODY, f"expected {path} = {json.dumps(expected)}, but the body has no {path}"
            if not same(expected, actual):
                return WRONG_BODY, f"expected {path} = {json.dumps(expected)}, got {json.dumps(actual)}"
        if schema is not None:
            import jsonschema  # only when a spec asks for it: keeps start-up fast

            error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
            if error is not None:
                where = "/".join(map(str, error.absolute_path)) or "(body)"
                return WRONG_BODY, f"body does not match the schema at {where}: {error.message}"
    if max_latency is not None and response.seconds > max_latency:
        return TOO_SLOW, (
            f"answered in {format_duration(response.seconds)}, "
            f"slower than the max-latency {format_duration(max_latency)}"
        )
    return None, f"HTTP {response.status} in {format_duration(response.seconds)}"
