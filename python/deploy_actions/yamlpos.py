"""YAML as the library reads it: one loading policy for every file (bounded nesting and
alias expansion, errors at file:line), and documents that remember where each key came
from, so a schema error can name the file, the key path and the line. PyYAML's composer
gives the marks; no second parser is needed."""

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


MAX_DEPTH = 64  # collections inside collections: far beyond any real file, far below Python's stack
MAX_NODES = 100_000  # values once every alias is expanded: a big stack file has a few thousand


def _refuse(file: str, input_name: str, line: int, problem: str) -> UsageError:
    return UsageError(f"{file}:{line}: {problem}", input=input_name, file=file, line=line)


def _check_shape(text: str, file: str, input_name: str, loader: type) -> None:
    """One pass over the parser's events, before anything is built: nesting deeper than
    MAX_DEPTH (a 1 KB file can nest 500 levels and break every recursive reader) or aliases
    that expand past MAX_NODES values (a few hundred bytes can expand to gigabytes: the
    billion laughs) are refused on the line where the limit is crossed. Anchors within the
    limits are fine: compose files and workflows use them."""
    import yaml

    sizes: dict[str, int] = {}  # anchor → values it stands for, expanded
    open_: list[list] = []  # per open collection: [anchor, values inside it so far]
    total = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise _refuse(file, input_name, event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
            open_.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_.pop()
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        else:
            continue
        if anchor:
            sizes[anchor] = size
        if open_:
            open_[-1][1] += size
        else:
            total += size
        if total + sum(entry[1] for entry in open_) > MAX_NODES:
            raise _refuse(
                file,
                input_name,
                event.start_mark.line + 1,
                f"YAML aliases (*name) here expand to more than {MAX_NODES:,} values; write the values out",
            )


def parse(text: str, file: str, input_name: str, *, loader: type | None = None) -> tuple[Any, Any]:
    """The one way the library reads YAML: (data, node), node for key_lines. Every file a
    user controls — specs, contracts, stack files, workflows, action files, MkDocs configs —
    goes through here, so one set of limits holds for all; a file that breaks them, or is
    not YAML, is a UsageError naming file:line. `loader`: a SafeLoader subclass with the
    tags a format defines (MkDocs' !ENV)."""
    import yaml

    try:
        # The shape is checked by PyYAML's own parser, whose limits are the ones above (libyaml
        # stops at its own depth with a message of its own); building uses libyaml where PyYAML has it.
        _check_shape(text, file, input_name, loader or yaml.SafeLoader)
        loader = loader or getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        reader = loader(text)
        try:
            node = reader.get_single_node()
            data = reader.construct_document(node) if node is not None else None
        finally:
            reader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(
            f"{file}: not valid YAML: {problem}" + (f" (line {line})" if line else ""),
            input=input_name,
            file=file,
            line=line,
        ) from None
    return data, node


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
    data, node = parse(text, file, input_name)
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
