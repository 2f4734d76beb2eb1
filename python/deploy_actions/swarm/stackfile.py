"""Stack files, read before anything reaches the cluster: which services there are, which
image each runs once the variables are filled in as `docker stack deploy` fills them, and
whether each release service takes its tag from the tag variable. Errors name file:line.
Pure apart from reading the files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.errors import UsageError

# Compose's interpolation: $$ (a literal $), $NAME, ${NAME}, ${NAME:-default}, ${NAME-default},
# ${NAME:?error}, ${NAME?error}, ${NAME:+alternative}, ${NAME+alternative}.
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})"
)


@dataclass(frozen=True)
class Service:
    name: str
    image: str  # as written, variables and all
    file: str
    line: int
    replicas: int | None  # None: global mode
    update_order: str | None
    constraints: tuple[str, ...] = ()  # deploy.placement.constraints, variables filled in


@dataclass(frozen=True)
class Stack:
    files: tuple[str, ...]
    services: dict[str, Service]
    version: str | None = None  # the first file's `version`, for a file added after it


def interpolate(text: str, env: Mapping[str, str], *, where: str = "") -> str:
    def value(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("plain") or match.group("braced")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        unset, empty = current is None, not current
        if op in (":-", "-"):
            return arg if (empty if op == ":-" else unset) else current or ""
        if op in (":+", "+"):
            return "" if (empty if op == ":+" else unset) else arg
        if op in (":?", "?") and (empty if op == ":?" else unset):
            raise UsageError(f"{where}: variable {name} is not set: {arg or 'required'}", input="compose-files")
        return current or ""

    return VARIABLE.sub(value, text)


def uses_variable(image: str, name: str) -> bool:
    return any((m.group("plain") or m.group("braced")) == name for m in VARIABLE.finditer(image))


def _mapping(value: object, what: str, file: str, line: int) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{file}:{line}: {what} must be a mapping", input="compose-files", file=file, line=line)
    return value


def parse(text: str, file: str) -> tuple[dict, dict[tuple, int]]:
    from deploy_actions import yamlpos

    data, node = yamlpos.parse(text, file, "compose-files")
    if not isinstance(data, dict):
        raise UsageError(f"{file}: expected a compose file (a mapping with services)", input="compose-files", file=file)
    return data, yamlpos.key_lines(node)


def load(files: Mapping[str, str], env: Mapping[str, str]) -> Stack:
    """`files`: path → text, in the order given (later files override earlier ones, as
    `docker stack deploy -c a -c b` merges them)."""
    services: dict[str, Service] = {}
    version = None
    for index, (file, text) in enumerate(files.items()):
        data, lines = parse(text, file)
        if index == 0 and data.get("version") is not None:
            version = str(data["version"])
        declared = _mapping(data.get("services"), "services", file, lines.get(("services",), 1))
        for key, body in declared.items():
            name = str(key)  # `1:` is a YAML integer; Docker takes it as the name "1"
            line = lines.get(("services", name), 1)
            body = _mapping(body, f"service {name}", file, line)
            if "build" in body and "image" not in body and name not in services:
                raise UsageError(
                    f"{file}:{line}: service {name} has `build` and no `image`: a stack runs images "
                    "from a registry (build-push them first)",
                    input="compose-files",
                    file=file,
                    line=line,
                )
            earlier = services.get(name)
            image = body.get("image", earlier.image if earlier else None)
            if not isinstance(image, str) or not image.strip():
                raise UsageError(
                    f"{file}:{line}: service {name} has no image", input="compose-files", file=file, line=line
                )
            deploy = _mapping(body.get("deploy"), f"services.{name}.deploy", file, line)
            update = _mapping(deploy.get("update_config"), f"services.{name}.deploy.update_config", file, line)
            mode = deploy.get("mode", "replicated")
            replicas = deploy.get("replicas", earlier.replicas if earlier else 1)
            if isinstance(replicas, str):
                filled = interpolate(replicas, env, where=f"{file}:{line}").strip() or "1"
                replicas = int(filled) if filled.isascii() and filled.isdigit() else None
            if not isinstance(replicas, int):
                raise UsageError(
                    f"{file}:{line}: service {name}: deploy.replicas must be a whole number",
                    input="compose-files",
                    file=file,
                    line=line,
                )
            placement = _mapping(deploy.get("placement"), f"services.{name}.deploy.placement", file, line)
            constraints = placement.get("constraints", earlier.constraints if earlier else ())
            if not isinstance(constraints, list | tuple) or not all(isinstance(c, str) for c in constraints):
                raise UsageError(
                    f"{file}:{line}: service {name}: deploy.placement.constraints must be a list of strings",
                    input="compose-files",
                    file=file,
                    line=line,
                )
            constraints = tuple(interpolate(c, env, where=f"{file}:{line}").strip() for c in constraints)
            if "image" in body or not earlier:
                where = (file, lines.get(("services", name, "image"), line))
            else:
                where = (earlier.file, earlier.line)
            services[name] = Service(
                name=name,
                image=image.strip(),
                file=where[0],
                line=where[1],
                replicas=None if mode in ("global", "global-job") else int(replicas),
                update_order=update.get("order", earlier.update_order if earlier else None),
                constraints=constraints,
            )
    if not services:
        first = next(iter(files), "")
        raise UsageError(f"{first}: no services in the stack file(s)", input="compose-files", file=first)
    return Stack(tuple(files), services, version)


def check_release_services(stack: Stack, names: tuple[str, ...], tag_variable: str) -> tuple[str, ...]:
    """The services that carry the release (all, by default); each must take its tag from
    the tag variable, or deploying a new tag would change nothing there."""
    chosen = names or tuple(stack.services)
    unknown = [n for n in chosen if n not in stack.services]
    if unknown:
        raise UsageError(
            f"not in the stack file(s): {', '.join(unknown)} (services there: {', '.join(stack.services)})",
            input="services",
        )
    for name in chosen:
        service = stack.services[name]
        if not uses_variable(service.image, tag_variable):
            raise UsageError(
                f"{service.file}:{service.line}: service {name}'s image {service.image!r} does not use "
                f"${{{tag_variable}}}, so the tag being deployed would not reach it (or list the release "
                "services in `services`)",
                input="compose-files",
                file=service.file,
                line=service.line,
            )
    return chosen
