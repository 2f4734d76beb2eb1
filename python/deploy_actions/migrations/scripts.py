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

from deploy_actions import inputfiles
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


@dataclass(frozen=True)
class Settings:
    """The [alembic] options that say where revisions live, as alembic reads them: from the
    ini file first, then from pyproject.toml's [tool.alembic] (alembic 1.16+)."""

    script_location: str
    version_locations: tuple[str, ...]  # already split; `%(here)s` substituted
    recursive: bool
    base: Path  # relative locations are relative to this folder (the config file's)


def settings(
    config: Path, pyproject: Path | None = None, input_name: str = "config", section: str = "alembic"
) -> Settings:
    """`config` is alembic.ini (or pyproject.toml itself); `pyproject` the pyproject.toml
    alembic also reads (the one in the folder it runs in; by default beside `config`);
    `section` the ini section alembic is told to read (`alembic -n`)."""
    if config.name == "pyproject.toml":
        ini, toml_path = config.parent / "alembic.ini", config
    else:
        ini, toml_path = config, pyproject or config.parent / "pyproject.toml"
    # lexists: a FIFO or a symlink to /dev/zero is refused by the reader, not taken as absent
    ini_options = _ini_options(ini, input_name, section) if os.path.lexists(ini) else {}
    toml_options = _toml_options(toml_path, input_name) if os.path.lexists(toml_path) else {}
    if not os.path.lexists(ini) and not toml_options:
        raise UsageError(f"no alembic.ini at {config} (set working-directory or config)", input=input_name)
    if "script_location" in ini_options:
        location, base = ini_options["script_location"], ini.parent
    elif "script_location" in toml_options:
        here = str(toml_path.parent.resolve())
        location, base = str(toml_options["script_location"]).replace("%(here)s", here), toml_path.parent
    else:
        where = f"{ini} has no [{section}] script_location"
        raise UsageError(where + (f", nor {toml_path} a [tool.alembic] one" if toml_options else ""), input=input_name)
    if "version_locations" in ini_options:
        locations = _split_locations(ini_options["version_locations"], ini_options)
    else:
        value = toml_options.get("version_locations") or []
        locations = [value] if isinstance(value, str) else [str(v) for v in value if str(v).strip()]
        locations = [v.replace("%(here)s", str(toml_path.parent.resolve())) for v in locations]
    recursive = ini_options.get("recursive_version_locations", "").strip().lower() in ("true", "1", "yes", "on")
    if "recursive_version_locations" not in ini_options:
        recursive = toml_options.get("recursive_version_locations") is True
    return Settings(location, tuple(locations), recursive, base)


# Only these are read: another option's bad interpolation (a password with `%40` in
# sqlalchemy.url) is alembic's to report when it reads it, not ours.
_KEYS = (
    "script_location",
    "version_locations",
    "path_separator",
    "version_path_separator",
    "recursive_version_locations",
)


def _ini_options(ini: Path, input_name: str, section: str = "alembic") -> dict[str, str]:
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.resolve())})
    try:
        text = inputfiles.read_text(ini, input_name, what="alembic config")
    except UsageError as exc:
        if "not UTF-8" in str(exc):
            raise UsageError(f"{ini} is not UTF-8 text: is it the alembic.ini?", input=input_name) from None
        raise
    try:
        parser.read_string(text, source=str(ini))
        if not parser.has_section(section):
            return {}
        return {key: parser.get(section, key) for key in _KEYS if parser.has_option(section, key)}
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"{ini} cannot be read as an ini file: {first}", input=input_name) from None


def _toml_options(path: Path, input_name: str) -> dict:
    import tomllib

    try:
        data = tomllib.loads(inputfiles.read_text(path, input_name, what="pyproject.toml"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}", input=input_name) from None
    except RecursionError:
        raise UsageError(f"{path}: nested too deeply to be read", input=input_name, file=str(path)) from None
    section = data.get("tool", {}).get("alembic", {}) if isinstance(data.get("tool"), dict) else {}
    return section if isinstance(section, dict) else {}


def script_location(config: Path, input_name: str = "config", pyproject: Path | None = None) -> list[Path]:
    """The versions folders alembic reads (script_location/versions, or version_locations)."""
    return locate(config, pyproject, input_name)[0]


def locate(
    config: Path, pyproject: Path | None = None, input_name: str = "config", section: str = "alembic"
) -> tuple[list[Path], bool]:
    """The versions folders, and whether alembic reads them recursively: the config read once.
    A relative location is relative to the folder alembic runs in (pyproject's, the
    working directory), as alembic resolves it; else to the config's folder."""
    found = settings(config, pyproject, input_name, section)
    roots = list(dict.fromkeys([pyproject.parent if pyproject else found.base, found.base]))
    location = found.script_location
    base = _relative(location, roots)
    if ":" in location and not os.path.exists(base):
        base = _package_folder(location, roots, input_name)
    extra = found.version_locations
    folders = [_relative(x, roots) for x in extra] or [base / "versions"]
    if not base.is_dir():
        raise UsageError(f"script_location {base} does not exist", input=input_name)
    return folders, found.recursive


def _relative(location: str, roots: list[Path]) -> Path:
    if os.path.isabs(location):
        return Path(location)
    return next((root / location for root in roots if (root / location).exists()), roots[-1] / location)


def _package_folder(location: str, roots: list[Path], input_name: str) -> Path:
    """`myapp:migrations`, `myapp.db:migrations` or `myapp:db:migrations` (alembic splits on
    every colon): the folder inside the package, found in the source tree (where alembic
    runs or beside the config, or under src/) — never by importing the package."""
    package, *resource = location.split(":")
    inside = Path(*package.split("."), *resource)
    candidates = [place for root in roots for place in (root / inside, root / "src" / inside)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = " or ".join(str(c) for c in candidates)
    raise UsageError(
        f"script_location {location!r} is a package resource and no folder {tried} exists; give a folder path",
        input=input_name,
    )


def _split_locations(text: str, options: dict[str, str]) -> list[str]:
    """version_locations split the way alembic splits them: by `path_separator` (alembic 1.16)
    or `version_path_separator` — `os`, `:`, `;`, `newline`, `space` — else, as before those
    settings, on spaces and commas."""
    separator = options.get("path_separator", "") or options.get("version_path_separator", "")
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
    raw = inputfiles.read_bytes(path, "migrations", what="revision file", limit=inputfiles.REPOSITORY_LIMIT)
    try:
        # Bytes, so a PEP 263 coding line (`# -*- coding: latin-1 -*-`) is honoured as Python does.
        tree = ast.parse(raw, filename=str(path))
        text = raw.decode(tokenize.detect_encoding(io.BytesIO(raw).readline)[0])
    except (RecursionError, MemoryError):  # hundreds of nested brackets: no revision looks like that
        raise UsageError(f"{path}: nested too deeply to be read", input="migrations", file=str(path)) from None
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, UnicodeDecodeError):  # a stray byte where no coding line says what it is
            line = raw[: exc.start].count(b"\n") + 1
            raise UsageError(
                f"{path}:{line}: byte 0x{raw[exc.start]:02x} is not {exc.encoding}; re-save the file as UTF-8 or "
                "declare its encoding on line 1 or 2 (PEP 263: `# -*- coding: latin-1 -*-`)",
                input="migrations",
                file=str(path),
                line=line,
            ) from None
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


def load_project(config: Path, pyproject: Path | None = None, section: str = "alembic") -> list[Revision]:
    """Every revision of the project whose alembic config is `config` (and `pyproject`)."""
    return load(*locate(config, pyproject, section=section))


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
