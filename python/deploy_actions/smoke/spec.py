"""The smoke spec file: YAML, validated against the JSON Schema shipped in the package.
Every error names the file, the line, the call and the field, so it can be annotated
right where the mistake is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from deploy_actions.errors import UsageError
from deploy_actions.smoke.expect import split_path
from deploy_actions.values import parse_duration

if TYPE_CHECKING:
    import yaml

INPUT = "spec"


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    line: int
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    has_json: bool = False
    statuses: tuple[int, ...] = ()  # empty: any 2xx
    json_values: dict[str, Any] = field(default_factory=dict)
    schema: Any = None
    max_latency: float | None = None


@cache
def schema() -> dict[str, Any]:
    text = resources.files("deploy_actions").joinpath("schemas/smoke-spec.schema.json").read_text("utf-8")
    return json.loads(text)


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map every key/item path in the YAML document to its 1-based line."""
    import yaml

    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = path + (key.value,)
            out[sub] = key.start_mark.line + 1
            _lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, path + (index,), out)
    return out


def _where(data: Any, path: tuple) -> str:
    """`calls[2] ('create item').expect.status` for an error path."""
    parts: list[str] = []
    node = data
    for step in path:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node) and isinstance(node[step], dict) and "name" in node[step]:
                label += f" ({node[step]['name']!r})"
            parts.append(label)
        else:
            parts.append(f".{step}")
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return "".join(parts).lstrip(".") or "(top level)"


def _line_for(lines: dict[tuple, int], path: tuple) -> int:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def parse(text: str, file: str) -> list[Call]:
    # Imported here: start-up without a spec stays fast (jsonschema alone costs ~60 ms).
    import jsonschema
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"{file}: not valid YAML: {problem}" + (f" (line {line})" if line else ""),
                         input=INPUT, file=file, line=line) from None
    if node is None:
        raise UsageError(f"{file}: the spec is empty; expected a mapping with `calls:`", input=INPUT, file=file, line=1)
    lines = _lines(node)
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (_line_for(lines, tuple(e.absolute_path)), e.message))
    if errors:
        # Up to three problems, each with its line; the first is where the annotation points.
        found = [(_line_for(lines, tuple(e.absolute_path)), _where(data, tuple(e.absolute_path)), e.message)
                 for e in errors]
        shown = "; ".join(f"{file}:{line}: {where}: {message}" for line, where, message in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UsageError(shown + more, input=INPUT, file=file, line=found[0][0],
                         hint="The smoke spec format is described in smoke-ready/README.md.")
    defaults = data.get("headers", {})
    calls = []
    for index, raw in enumerate(data["calls"]):
        expect = raw.get("expect", {})
        where = f"{file}:{_line_for(lines, ('calls', index))}: {_where(data, ('calls', index))}"
        status = expect.get("status", ())
        latency = expect.get("max-latency")
        max_latency = None
        if latency is not None:
            try:
                max_latency = parse_duration(str(latency), f"{where}.expect.max-latency")
            except UsageError as exc:
                raise UsageError(str(exc), input=INPUT, file=file,
                                 line=_line_for(lines, ("calls", index, "expect", "max-latency"))) from None
        for json_path in expect.get("json", {}):
            try:
                split_path(json_path)
            except ValueError as exc:
                line = _line_for(lines, ("calls", index, "expect", "json", json_path))
                raise UsageError(f"{where}.expect.json: {exc} (write paths like items[0].id)",
                                 input=INPUT, file=file, line=line) from None
        if "schema" in expect:
            try:
                jsonschema.Draft202012Validator.check_schema(expect["schema"])
            except jsonschema.SchemaError as exc:
                line = _line_for(lines, ("calls", index, "expect", "schema"))
                raise UsageError(f"{where}.expect.schema: not a valid JSON Schema: {exc.message}",
                                 input=INPUT, file=file, line=line) from None
        calls.append(Call(
            name=raw["name"], method=raw.get("method", "GET"), path=raw["path"],
            line=_line_for(lines, ("calls", index)),
            headers={**defaults, **raw.get("headers", {})},
            json=raw.get("json"), has_json="json" in raw,
            statuses=(status,) if isinstance(status, int) else tuple(status),
            json_values=dict(expect.get("json", {})), schema=expect.get("schema"),
            max_latency=max_latency))
    return calls


def load(path: str) -> list[Call]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read the smoke spec {path!r}: {exc.strerror}", input=INPUT) from None
    return parse(text, path)
