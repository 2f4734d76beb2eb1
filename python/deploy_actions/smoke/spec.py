"""The smoke spec file: YAML, validated against the JSON Schema shipped in the package.
Every error names the file, the line, the call and the field, so it can be annotated
right where the mistake is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploy_actions import validated, yamlpos
from deploy_actions.errors import UsageError
from deploy_actions.smoke.expect import split_path
from deploy_actions.values import parse_duration

INPUT = "smoke-spec"


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


SCHEMA = "smoke-spec.schema.json"


def parse(text: str, file: str) -> list[Call]:
    # jsonschema is imported only to validate a spec not seen before in this environment.
    known = validated.seen(SCHEMA, text)
    try:
        data, lines = yamlpos.load(text, file, INPUT, SCHEMA, what="spec", validate=not known)
    except UsageError as exc:
        exc.hint = "The smoke spec format is described in smoke-ready/README.md."
        raise
    defaults = data.get("headers", {})
    calls = []
    for index, raw in enumerate(data["calls"]):
        expect = raw.get("expect", {})
        where = f"{file}:{yamlpos.line_for(lines, ('calls', index))}: {yamlpos.where(data, ('calls', index))}"
        status = expect.get("status", ())
        latency = expect.get("max-latency")
        max_latency = None
        if latency is not None:
            try:
                max_latency = parse_duration(str(latency), f"{where}.expect.max-latency")
            except UsageError as exc:
                raise UsageError(
                    str(exc),
                    input=INPUT,
                    file=file,
                    line=yamlpos.line_for(lines, ("calls", index, "expect", "max-latency")),
                ) from None
        for json_path in expect.get("json", {}):
            try:
                split_path(json_path)
            except ValueError as exc:
                line = yamlpos.line_for(lines, ("calls", index, "expect", "json", json_path))
                raise UsageError(
                    f"{where}.expect.json: {exc} (write paths like items[0].id)", input=INPUT, file=file, line=line
                ) from None
        if "schema" in expect and not known:
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(expect["schema"])
            except jsonschema.SchemaError as exc:
                line = yamlpos.line_for(lines, ("calls", index, "expect", "schema"))
                raise UsageError(
                    f"{where}.expect.schema: not a valid JSON Schema: {exc.message}", input=INPUT, file=file, line=line
                ) from None
        calls.append(
            Call(
                name=raw["name"],
                method=raw.get("method", "GET"),
                path=raw["path"],
                line=yamlpos.line_for(lines, ("calls", index)),
                headers={**defaults, **raw.get("headers", {})},
                json=raw.get("json"),
                has_json="json" in raw,
                statuses=(status,) if isinstance(status, int) else tuple(status),
                json_values=dict(expect.get("json", {})),
                schema=expect.get("schema"),
                max_latency=max_latency,
            )
        )
    validated.remember(SCHEMA, text)
    return calls


def load(path: str) -> list[Call]:
    from deploy_actions import inputfiles

    return parse(inputfiles.read_text(path, INPUT, what="smoke spec"), path)
