"""Raw SQL of a revision (`op.execute`, `conn.execute(text(…))`), read by PostgreSQL's own
parser (pglast, on libpg_query): each statement resolved to what it does and to which
table, so raw SQL meets the same rules as alembic's `op.*` calls. A regex sees `DROP
COLUMN` in a comment and misses `ALTER TABLE … RENAME`, a `CREATE INDEX` without
CONCURRENTLY or a `DELETE` inside a `WITH`; the parser does neither."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# An f-string's placeholders (`{…}` in risks._string) stand in as an identifier, so a
# statement whose table or value is filled in at run time still parses.
_PLACEHOLDER = re.compile(r"\{…\}")
UNKNOWN = "__unknown__"
# Defaults PostgreSQL computes row by row, so ADD COLUMN rewrites the table.
_VOLATILE = {"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v4", "clock_timestamp", "timeofday"}
_VOLATILE |= {"nextval", "txid_current"}
_SERIAL = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}


@dataclass(frozen=True)
class Statement:
    """One thing a statement does: `kind` is the alembic operation it amounts to (drop_table,
    drop_column, alter_type, rename_column, rename_table, drop_index, drop_constraint,
    create_index, add_constraint, add_column, set_not_null, delete, update, insert,
    truncate, drop_other, add_enum_value, vacuum, create_table)."""

    kind: str
    table: str | None = None
    column: str | None = None
    text: str = ""  # the statement, for a message
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def repeatable(self) -> bool:
        """Safe to run again after a half-done run: IF [NOT] EXISTS, or harmless by nature."""
        return bool(self.facts.get("guarded"))


def _name(range_var: Any) -> str | None:
    """A table's name; None where a placeholder fills it in (`{TABLE}_old`)."""
    name = getattr(range_var, "relname", None)
    return None if name is None or UNKNOWN in name else name


def _walk(node: Any) -> Iterator[Any]:
    """Every pglast node below `node`, itself included (CTEs, subqueries, expressions)."""
    from pglast import ast

    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple | list):
            todo.extend(item)
        elif isinstance(item, ast.Node):
            yield item
            todo.extend(getattr(item, slot) for slot in item.__slots__ if getattr(item, slot, None) is not None)


def _calls(node: Any) -> set[str]:
    from pglast import ast

    return {
        str(call.funcname[-1].sval).lower()
        for call in _walk(node)
        if isinstance(call, ast.FuncCall) and call.funcname and hasattr(call.funcname[-1], "sval")
    }


def parse(sql: str) -> list[Statement] | None:
    """The statements' effects; None when PostgreSQL's parser rejects the text (a template
    alembic fills in, another dialect): the caller falls back to reading it as text."""
    try:
        from pglast import parse_sql
        from pglast.parser import ParseError
    except ImportError:  # pragma: no cover - a runtime without the parser
        return None
    text = _PLACEHOLDER.sub(UNKNOWN, sql)
    try:
        raw = parse_sql(text)
    except (ParseError, RecursionError, ValueError):
        return None
    found: list[Statement] = []
    for item in raw:
        start = item.stmt_location or 0
        shown = " ".join(text[start : start + (item.stmt_len or len(text))].split()).replace(UNKNOWN, "{…}")[:80]
        found += list(_effects(item.stmt, shown))
    return found


def _effects(stmt: Any, shown: str) -> Iterator[Statement]:  # noqa: C901 - one branch per statement kind
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType, ObjectType

    if isinstance(stmt, ast.DropStmt):
        kinds = {ObjectType.OBJECT_TABLE: "drop_table", ObjectType.OBJECT_INDEX: "drop_index"}
        kind = kinds.get(stmt.removeType, "drop_other")
        for obj in stmt.objects or ():
            names = [getattr(part, "sval", None) for part in (obj if isinstance(obj, tuple) else (obj,))]
            name = names[-1] if names and UNKNOWN not in str(names[-1]) else None
            facts = {"name": name, "concurrently": bool(stmt.concurrent), "object": stmt.removeType.name[7:]}
            facts["guarded"] = bool(stmt.missing_ok)
            yield Statement(kind, table=name if kind == "drop_table" else None, text=shown, facts=facts)
    elif isinstance(stmt, ast.TruncateStmt):
        for relation in stmt.relations or ():
            yield Statement("truncate", table=_name(relation), text=shown)
    elif isinstance(stmt, ast.AlterTableStmt):
        table = _name(stmt.relation)
        for cmd in stmt.cmds or ():
            subtype = cmd.subtype
            if subtype == AlterTableType.AT_DropColumn:
                yield Statement("drop_column", table, cmd.name, shown)
            elif subtype == AlterTableType.AT_AlterColumnType:
                yield Statement("alter_type", table, cmd.name, shown)
            elif subtype == AlterTableType.AT_DropConstraint:
                yield Statement("drop_constraint", table, None, shown, {"name": cmd.name})
            elif subtype == AlterTableType.AT_SetNotNull:
                yield Statement("set_not_null", table, cmd.name, shown)
            elif subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                kinds = {
                    ConstrType.CONSTR_FOREIGN: "foreignkey",
                    ConstrType.CONSTR_CHECK: "check",
                    ConstrType.CONSTR_UNIQUE: "unique",
                    ConstrType.CONSTR_PRIMARY: "primary",
                }
                kind = kinds.get(cmd.def_.contype)
                if kind:
                    facts = {"kind": kind, "not_valid": bool(cmd.def_.skip_validation)}
                    facts["using_index"] = bool(cmd.def_.indexname)
                    yield Statement("add_constraint", table, None, shown, facts)
            elif subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                yield _added_column(table, cmd.def_, shown)
    elif isinstance(stmt, ast.RenameStmt):
        if stmt.renameType == ObjectType.OBJECT_TABLE:
            yield Statement("rename_table", _name(stmt.relation), None, shown, {"new": stmt.newname})
        elif stmt.renameType == ObjectType.OBJECT_COLUMN:
            yield Statement("rename_column", _name(stmt.relation), stmt.subname, shown, {"new": stmt.newname})
    elif isinstance(stmt, ast.IndexStmt):
        facts = {"name": stmt.idxname, "concurrently": bool(stmt.concurrent), "unique": bool(stmt.unique)}
        facts["guarded"] = bool(stmt.if_not_exists)
        yield Statement("create_index", _name(stmt.relation), None, shown, facts)
    elif isinstance(stmt, ast.AlterEnumStmt) and stmt.newVal is not None:
        yield Statement("add_enum_value", text=shown, facts={"guarded": bool(stmt.skipIfNewValExists)})
    elif isinstance(stmt, ast.VacuumStmt):
        yield Statement("vacuum", text=shown, facts={"guarded": True})  # running it again does no harm
    elif isinstance(stmt, ast.CreateStmt | ast.CreateTableAsStmt):
        relation = stmt.relation if isinstance(stmt, ast.CreateStmt) else getattr(stmt.into, "rel", None)
        facts = {"temporary": getattr(relation, "relpersistence", "p") == "t"}
        yield Statement("create_table", _name(relation), None, shown, facts)
    # Data: wherever it sits (a CTE, a subquery), each write is one statement's effect.
    for node in _walk(stmt):
        if isinstance(node, ast.DeleteStmt):
            yield Statement("delete", _name(node.relation), None, shown, {"where": node.whereClause is not None})
        elif isinstance(node, ast.UpdateStmt):
            yield Statement("update", _name(node.relation), None, shown)
        elif isinstance(node, ast.InsertStmt):
            yield Statement("insert", _name(node.relation), None, shown)


def _added_column(table: str | None, column: Any, shown: str) -> Statement:
    from pglast.enums import ConstrType

    type_name = str(getattr(column.typeName.names[-1], "sval", "")).lower() if column.typeName else ""
    constraints = column.constraints or ()
    not_null = bool(column.is_not_null) or any(c.contype == ConstrType.CONSTR_NOTNULL for c in constraints)
    defaults = [c.raw_expr for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT]
    volatile = type_name in _SERIAL or any(_calls(d) & _VOLATILE for d in defaults)
    identity = any(c.contype == ConstrType.CONSTR_IDENTITY for c in constraints)
    facts = {
        "not_null": not_null,
        "default": bool(defaults) or identity or type_name in _SERIAL,
        "volatile": volatile or identity,
        "type": type_name,
    }
    return Statement("add_column", table, column.colname, shown, facts)
