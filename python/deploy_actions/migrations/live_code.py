"""What a release's code uses of the database, read from its source and never imported:
SQLAlchemy models (`__tablename__` with `Column` / `mapped_column` / `Mapped[...]`
attributes, an explicit column name that differs from the attribute, mixins' columns,
foreign keys' targets), `Table(...)` and `sa.table(...)` definitions, and the tables and
columns of SQL strings, through PostgreSQL's own parser. Pure: texts in, evidence out."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

Place = tuple[str, int]  # (file, line)
ALL = "*"  # a column name that stands for every column (`SELECT *`)
_COLUMN_CALLS = {"Column", "mapped_column"}
_TABLE_CALLS = {"Table", "table"}
_SQL = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.I)
# Drivers' placeholders (`:name`, `%(name)s`, `%s`, `?`): values, to PostgreSQL's parser.
_PLACEHOLDERS = re.compile(r"(?<![:\w]):[A-Za-z_]\w*|%\([^)]*\)s|%s|\?")
# Annotations of Mapped[...] that are a value, not a relationship to another model.
_SCALAR = re.compile(
    r"^(?:Optional\[)?(?:int|str|float|bool|bytes|dict|Any|Decimal|UUID|uuid\.UUID|date|time|datetime|timedelta|"
    r"datetime\.\w+|decimal\.Decimal|dict\[.*\]|list\[(?:int|str|float|bool|dict)\]|JSON|[a-z_.]*Enum\w*)"
    r"(?:\s*\|\s*None)?\]?$"
)


@dataclass
class Evidence:
    """Where the code names each table and column."""

    columns: dict[tuple[str, str], Place] = field(default_factory=dict)  # (table, column) → first use
    tables: dict[str, Place] = field(default_factory=dict)  # table → first use
    mapped: set[str] = field(default_factory=set)  # tables with a model or Table: the code inserts into them

    def use(self, table: str | None, column: str | None, place: Place) -> None:
        if not table:
            return
        self.tables.setdefault(table, place)
        if column:
            self.columns.setdefault((table, column), place)

    def reads(self, table: str, column: str | None = None) -> Place | None:
        """Where the code uses the table (or this column of it), if it does."""
        if column is None:
            return self.tables.get(table)
        return self.columns.get((table, column)) or self.columns.get((table, ALL))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return getattr(node, "attr", getattr(node, "id", ""))


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _foreign_keys(call: ast.Call) -> list[tuple[str, str]]:
    """`ForeignKey("users.id")` inside a column: the code reads that column too."""
    found = []
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and _name(node) == "ForeignKey" and node.args:
            target = _text(node.args[0])
            if target and "." in target:
                table, column = target.rsplit(".", 1)
                found.append((table.split(".")[-1], column))
    return found


def _column(attribute: str | None, value: ast.expr | None, annotation: ast.expr | None) -> str | None:
    """The column an attribute maps: `Column("x", …)`, `mapped_column(name="x")`, or the
    attribute's own name; None for a relationship or anything else."""
    if isinstance(value, ast.Call) and _name(value) in _COLUMN_CALLS:
        first = _text(value.args[0]) if value.args else None
        return first or _text(_kw(value, "name")) or attribute
    if value is None and annotation is not None:
        text = ast.unparse(annotation)
        inner = text[len("Mapped[") : -1] if text.startswith("Mapped[") else None
        if inner is not None and _SCALAR.match(inner.replace(" ", "")):
            return attribute
    return None


def read(files: dict[str, str], evidence: Evidence | None = None) -> Evidence:
    """The evidence of many files ({path: text}); a file that is not valid Python is skipped."""
    evidence = evidence or Evidence()
    mixins: dict[str, list[tuple[str, int]]] = {}
    models: list[tuple[str, str, list[str], int]] = []  # (path, table, base names, line)
    for path, text in files.items():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        _read_tree(path, tree, evidence, mixins, models)
    for path, table, bases, _line in models:  # columns a model gets from its mixins
        for base in bases:
            for column, line in mixins.get(base, []):
                evidence.use(table, column, (path, line))
    return evidence


def _read_tree(
    path: str,
    tree: ast.Module,
    evidence: Evidence,
    mixins: dict[str, list[tuple[str, int]]],
    models: list[tuple[str, str, list[str], int]],
) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            _read_class(path, node, evidence, mixins, models)
        elif isinstance(node, ast.Call) and _name(node) in _TABLE_CALLS and node.args and _text(node.args[0]):
            table = _text(node.args[0])
            evidence.use(table, None, (path, node.lineno))
            evidence.mapped.add(table)
            for item in node.args[1:]:
                if isinstance(item, ast.Call) and _name(item) in ("Column", "column") and item.args:
                    evidence.use(table, _text(item.args[0]), (path, item.lineno))
                    for target in _foreign_keys(item):
                        evidence.use(*target, (path, item.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value):
            for table, column in sql_uses(node.value):
                evidence.use(table, column, (path, node.lineno))


def _read_class(
    path: str,
    node: ast.ClassDef,
    evidence: Evidence,
    mixins: dict[str, list[tuple[str, int]]],
    models: list[tuple[str, str, list[str], int]],
) -> None:
    table = next(
        (
            _text(s.value)
            for s in node.body
            if isinstance(s, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in s.targets)
            and _text(s.value)
        ),
        None,
    )
    columns: list[tuple[str, int]] = []
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value, annotation = statement.targets[0], statement.value, None
        elif isinstance(statement, ast.AnnAssign):
            target, value, annotation = statement.target, statement.value, statement.annotation
        else:
            continue
        attribute = target.id if isinstance(target, ast.Name) else None
        if attribute is None or attribute.startswith("__"):
            continue
        column = _column(attribute, value, annotation)
        if column:
            columns.append((column, statement.lineno))
        if isinstance(value, ast.Call):
            for target_table, target_column in _foreign_keys(value):
                evidence.use(target_table, target_column, (path, statement.lineno))
    if table is None:
        mixins.setdefault(node.name, []).extend(columns)
        return
    evidence.use(table, None, (path, node.lineno))
    evidence.mapped.add(table)
    for column, line in columns:
        evidence.use(table, column, (path, line))
    models.append((path, table, [_name(base) for base in node.bases], node.lineno))


def sql_uses(text: str) -> list[tuple[str, str | None]]:
    """(table, column or None) a DML statement reads or writes; a column not qualified in a
    statement of one table is that table's; `*` is every column."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(_PLACEHOLDERS.sub("NULL", text)))
    except Exception:  # noqa: BLE001 — pglast's ParseError and the like: not SQL after all
        return []
    found: list[tuple[str, str | None]] = []
    for statement in tree.get("stmts", []):
        aliases: dict[str, str] = {}
        columns: list[list[str]] = []
        for node in _nodes(statement):
            if "RangeVar" in node:
                relation = node["RangeVar"]
                name = relation.get("relname")
                if name:
                    aliases[name] = name
                    alias = (relation.get("alias") or {}).get("aliasname")
                    if alias:
                        aliases[alias] = name
            for kind, targets in (("InsertStmt", "cols"), ("UpdateStmt", "targetList"), ("DeleteStmt", None)):
                if kind not in node:  # their table is a bare relation (no RangeVar key around it)
                    continue
                relation = node[kind].get("relation", {})
                name = relation.get("relname")
                if not name:
                    continue
                aliases.setdefault(name, name)
                if (relation.get("alias") or {}).get("aliasname"):
                    aliases[relation["alias"]["aliasname"]] = name
                for target in node[kind].get(targets, []) if targets else []:
                    column = target.get("ResTarget", {}).get("name")
                    if column:  # INSERT INTO t (a, b), UPDATE t SET a = …: the columns it writes
                        columns.append([name, column])
            if "ColumnRef" in node:
                fields = node["ColumnRef"].get("fields", [])
                parts = [
                    f["String"].get("sval") if "String" in f else ALL for f in fields if "String" in f or "A_Star" in f
                ]
                columns.append([p for p in parts if p])
        tables = set(aliases.values())
        found += [(table, None) for table in tables]
        for parts in columns:
            if len(parts) >= 2 and parts[-2] in aliases:
                found.append((aliases[parts[-2]], parts[-1]))
            elif len(parts) == 1 and len(tables) == 1:
                found.append((next(iter(tables)), parts[0]))
    return found


def _nodes(tree: object):
    todo = [tree]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            yield item
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
