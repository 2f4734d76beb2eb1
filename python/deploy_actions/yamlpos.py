"""YAML documents that remember where each key came from, so a schema error can name the
file, the key path and the line (smoke specs, the docs contract). PyYAML's composer gives
the marks; no second parser is needed."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from deploy_actions.errors import UsageError


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("deploy_actions").joinpath(f"schemas/{name}").read_text("utf-8"))


def _lines(node: Any, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
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


def key_lines(node: Any) -> dict[tuple, int]:
    """{key path: line} for a composed YAML node (yaml.compose)."""
    return _lines(node)


def line_for(lines: dict[tuple, int], path: tuple) -> int:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def where(data: Any, path: tuple) -> str:
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


def _specific(error):
    """For a value matching none of several forms (`oneOf`), the error of the form it came
    closest to: the one that got past the type check, deepest first."""
    while error.context:
        error = max(error.context, key=lambda e: (e.validator != "type", len(e.absolute_path)))
    return error


def _path(error: Any) -> tuple:
    """Where an error is: for an unexpected key, the key itself rather than its parent."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = next((k for k in error.instance if k not in known), None)
        if extra is not None:
            path += (extra,)
    return path


def _refuse_aliases(text: str, file: str, input_name: str) -> None:
    """Anchors and aliases (`*a`) let a few hundred bytes expand to gigabytes (the billion
    laughs); a spec or contract has no need for them."""
    import yaml

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1
            raise UsageError(
                f"{file}:{line}: YAML aliases (*name) are not accepted here; write the value out",
                input=input_name,
                file=file,
                line=line,
            )


def _message(error: Any) -> str:
    """The validator's message, without quoting a long value whole: a file given by mistake
    (a private key, say) parses as one big string and must not be printed back."""
    text = repr(error.instance)
    if len(text) > 60 and text in error.message:
        kind = {str: "a string", dict: "a mapping", list: "a list"}.get(type(error.instance), "a value")
        size = f" of {len(error.instance):,} characters" if isinstance(error.instance, str) else ""
        return error.message.replace(text, f"({kind}{size})")
    return error.message


def load(
    text: str, file: str, input_name: str, schema_name: str, *, what: str, validate: bool = True
) -> tuple[Any, dict[tuple, int]]:
    """Parse and validate (unless the caller knows this text passed already); errors (up to
    three) name file:line and the key path."""
    import yaml

    try:
        _refuse_aliases(text, file, input_name)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(
            f"{file}: not valid YAML: {problem}" + (f" (line {line})" if line else ""),
            input=input_name,
            file=file,
            line=line,
        ) from None
    if node is None:
        raise UsageError(f"{file}: the {what} is empty", input=input_name, file=file, line=1)
    lines = _lines(node)
    if not validate:
        return data, lines
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = sorted(map(_specific, validator.iter_errors(data)), key=lambda e: (line_for(lines, _path(e)), e.message))
    if errors:
        found = [(line_for(lines, _path(e)), where(data, _path(e)), _message(e)) for e in errors]
        shown = "; ".join(f"{file}:{line}: {path}: {message}" for line, path, message in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UsageError(shown + more, input=input_name, file=file, line=found[0][0])
    return data, lines
