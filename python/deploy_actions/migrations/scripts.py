"""Finding and reading a project's revision files with `ast` — never importing them: the
project's code, models and dependencies are not ours to run in this process."""

from __future__ import annotations

import ast
import configparser
import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from deploy_actions.errors import UsageError


@dataclass
class Revision:
    revision: str
    down: tuple[str, ...]  # empty for a base revision
    path: Path
    line: int  # where `revision = …` is
    tree: ast.Module = field(repr=False)
    source: list[str] = field(repr=False, default_factory=list)
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def function(self, name: str) -> ast.FunctionDef | None:
        return next((n for n in self.tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def script_location(config: Path, input_name: str = "config") -> list[Path]:
    """The versions folders alembic.ini points at (script_location/versions, or version_locations)."""
    if not config.is_file():
        raise UsageError(f"no alembic.ini at {config} (set working-directory or config)", input=input_name)
    parser = configparser.ConfigParser(defaults={"here": str(config.parent.resolve())})
    try:
        parser.read(config, encoding="utf-8")
        location = parser.get("alembic", "script_location")
    except (configparser.Error, KeyError):
        raise UsageError(f"{config} has no [alembic] script_location", input=input_name) from None
    except UnicodeDecodeError:
        raise UsageError(f"{config} is not UTF-8 text: is it the alembic.ini?", input=input_name) from None
    base = Path(location) if os.path.isabs(location) else config.parent / location
    if ":" in location and not os.path.exists(base):
        raise UsageError(f"script_location {location!r} is a package resource; give a folder path", input=input_name)
    extra = _split_locations(parser.get("alembic", "version_locations", fallback=""), parser)
    folders = [Path(x) if os.path.isabs(x) else config.parent / x for x in extra] or [base / "versions"]
    if not base.is_dir():
        raise UsageError(f"script_location {base} does not exist", input=input_name)
    return folders


def _split_locations(text: str, parser: configparser.ConfigParser) -> list[str]:
    """version_locations split the way alembic splits them: by `path_separator` (alembic 1.16)
    or `version_path_separator` — `os`, `:`, `;`, `newline`, `space` — else, as before those
    settings, on spaces and commas."""
    separator = parser.get("alembic", "path_separator", fallback="") or parser.get(
        "alembic", "version_path_separator", fallback=""
    )
    separator = separator.strip()
    if separator == "os":
        parts = text.split(os.pathsep)
    elif separator in (":", ";"):
        parts = text.split(separator)
    elif separator == "newline":
        parts = text.splitlines()
    elif separator == "space":
        parts = text.split()
    else:
        parts = text.replace(",", " ").split()
    return [part.strip() for part in parts if part.strip()]


def _literal(
    node: ast.AST | None, names: dict[str, tuple[ast.AST | None, int]] | None = None, depth: int = 0
) -> tuple[str, ...]:
    """A revision field's value without running the file: literals, and module-level names
    (`revision = REVISION_ID`, `down_revision = (A, B)`) resolved through their assignments."""
    if node is None or depth > 10:
        return ()
    names = names or {}
    if isinstance(node, ast.Name):
        return _literal(names[node.id][0], names, depth + 1) if node.id in names else ()
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(v for element in node.elts for v in _literal(element, names, depth + 1))
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return ()
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def read(path: Path) -> Revision | None:
    raw = path.read_bytes()
    try:
        # Bytes, so a PEP 263 coding line (`# -*- coding: latin-1 -*-`) is honoured as Python does.
        tree = ast.parse(raw, filename=str(path))
        text = raw.decode(tokenize.detect_encoding(io.BytesIO(raw).readline)[0])
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        if not isinstance(exc, SyntaxError):
            raise UsageError(
                f"{path}: cannot be read as Python source ({exc})", input="migrations", file=str(path)
            ) from None
        raise UsageError(
            f"{path}:{exc.lineno}: not valid Python: {exc.msg}", input="migrations", file=str(path), line=exc.lineno
        ) from None
    values: dict[str, tuple[ast.AST | None, int]] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                values[target.id] = (value, node.lineno)
    if "revision" not in values:
        return None  # a helper module in the versions folder
    revision = _literal(values["revision"][0], values)
    if len(revision) != 1:
        raise UsageError(
            f"{path}:{values['revision'][1]}: `revision` cannot be resolved without running the file: use a string "
            "literal or a module-level string constant",
            input="migrations",
            file=str(path),
            line=values["revision"][1],
        )
    return Revision(
        revision=revision[0],
        down=_literal(values.get("down_revision", (None, 0))[0], values),
        path=path,
        line=values["revision"][1],
        tree=tree,
        source=text.splitlines(),
        branch_labels=_literal(values.get("branch_labels", (None, 0))[0], values),
        depends_on=_literal(values.get("depends_on", (None, 0))[0], values),
    )


def recursive_locations(config: Path) -> bool:
    """alembic's `recursive_version_locations`: off by default, when only each folder's own
    files are revisions (a subfolder listed as a location of its own is not read twice)."""
    parser = configparser.ConfigParser(defaults={"here": str(config.parent.resolve())})
    try:
        parser.read(config, encoding="utf-8")
        return parser.getboolean("alembic", "recursive_version_locations", fallback=False)
    except (configparser.Error, ValueError, UnicodeDecodeError):
        return False


def load(folders: list[Path], recursive: bool = False) -> list[Revision]:
    revisions = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"versions folder {folder} does not exist", input="config")
        for path in sorted(folder.rglob("*.py") if recursive else folder.glob("*.py")):
            if "__pycache__" in path.parts or path.resolve() in seen:
                continue
            seen.add(path.resolve())
            found = read(path)
            if found:
                revisions.append(found)
    return revisions
