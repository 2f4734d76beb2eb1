"""Risk analysis of migration scripts, from their syntax tree: what can break the running
version or destroy data (the seed's policy: expand/contract, NOT NULL in two steps, beware
non-transactional DDL). Each finding has a rule id, a line and a fix; a finding is accepted
in place with `# preflight: allow <rule> – <reason>` on its line or the line above."""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass

from deploy_actions.migrations import sql as sql_parser
from deploy_actions.migrations.scripts import Revision

ERROR, WARNING, NOTICE, OFF = "error", "warning", "notice", "off"
RULES: dict[str, tuple[str, str]] = {  # rule -> (default severity, how to fix)
    "drop-table": (ERROR, "expand/contract: stop using the table in one release, drop it in a later one"),
    "drop-column": (ERROR, "expand/contract: stop reading and writing the column in one release, drop it later"),
    "alter-type": (ERROR, "add a column of the new type, backfill, switch the code, drop the old column later"),
    "rename-column": (
        ERROR,
        "the running version still uses the old name: add the new column, copy, switch, drop later",
    ),
    "rename-table": (ERROR, "the running version still uses the old name: create, copy, switch, drop later"),
    "raw-sql-destructive": (
        ERROR,
        "destructive SQL cannot be undone by a rollback of the app; split it into expand/contract steps",
    ),
    "delete-rows": (
        WARNING,
        "deleted rows do not come back with a rollback: copy them aside (or make sure nothing needs them) first",
    ),
    "not-null-without-default": (
        ERROR,
        "add the column nullable (or with server_default), backfill, then set NOT NULL in a later revision",
    ),
    "not-null-existing": (WARNING, "fails if any row is NULL: backfill in an earlier revision first"),
    "non-transactional": (
        WARNING,
        "cannot roll back if it fails half-way: keep it alone in its own revision and "
        "make it idempotent (IF NOT EXISTS)",
    ),
    "backfill-with-constraint": (WARNING, "backfill in one revision and add the constraint in the next"),
    "drop-index": (WARNING, "make sure no query of the running version depends on it"),
    "drop-constraint": (WARNING, "make sure the running version does not rely on it"),
    "constraint-full-scan": (
        WARNING,
        "validates every row under a lock that blocks writes: add it NOT VALID (postgresql_not_valid=True), "
        "then VALIDATE CONSTRAINT in a later revision",
    ),
    "index-locks-writes": (
        WARNING,
        "CREATE INDEX blocks writes to the table while it builds: create it CONCURRENTLY "
        "(postgresql_concurrently=True inside op.get_context().autocommit_block()), alone in its revision",
    ),
    "volatile-default": (
        WARNING,
        "PostgreSQL rewrites the whole table under an exclusive lock to fill a volatile default: add the column "
        "without it, backfill in batches, then set the default",
    ),
    "unique-constraint-locks": (
        WARNING,
        "fails on duplicates and builds its index under a lock: CREATE UNIQUE INDEX CONCURRENTLY first, then "
        "ADD CONSTRAINT … USING INDEX",
    ),
    # Judged against the live release's code (migrations/live.py), where a live ref is known.
    "live-release-uses": (ERROR, "expand/contract: release the code that stops using it first, then migrate"),
    "live-release-inserts": (
        ERROR,
        "add the column nullable or with a server_default, or release the code that writes it first",
    ),
    "contract-step": (NOTICE, "nothing to do: the contract step of expand/contract"),
    "no-lock-timeout": (
        WARNING,
        "set migration-lock-timeout on the deploy (and here), or `SET lock_timeout` in the revision or env.py, "
        "so a lock it waits for stops it instead of every query queued behind it",
    ),
}
# Rules about what a running version or existing rows suffer: moot on a table the revision
# itself created earlier (it is new, empty and unused).
_EXISTING_ONLY = {
    "drop-table",
    "drop-column",
    "alter-type",
    "rename-column",
    "rename-table",
    "not-null-without-default",
    "not-null-existing",
    "drop-index",
    "drop-constraint",
    "volatile-default",
    "constraint-full-scan",
    "index-locks-writes",
    "unique-constraint-locks",
}
_ALLOW = re.compile(r"#\s*preflight:\s*allow\s+([\w-]+(?:\s*,\s*[\w-]+)*)\s*(?:[-–—:]+\s*(\S.*))?$")
_DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN|SCHEMA|DATABASE|VIEW|TYPE)|TRUNCATE|ALTER\s+(TABLE\s+\S+\s+)?"
    r"ALTER\s+(COLUMN\s+)?\S+\s+(SET\s+DATA\s+)?TYPE|DELETE\s+FROM(?![^;]*\bWHERE\b))",
    re.I,
)
_CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b|\bVACUUM\b|\bALTER\s+TYPE\s+\S+\s+ADD\s+VALUE\b", re.I)
_DATA_SQL = re.compile(r"^\s*(UPDATE|INSERT)\b", re.I)
_DATA_TABLE = re.compile(r"^\s*(?:UPDATE\s+(?:ONLY\s+)?|INSERT\s+INTO\s+)([\w.\"]+)", re.I)
_DELETE_WHERE = re.compile(r"\bDELETE\s+FROM\b[^;]*\bWHERE\b", re.I)
_TEMP_TABLE = re.compile(
    r"\bCREATE\s+(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)", re.I
)
_DROP_TABLE = re.compile(r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w.\"]+(?:\s*,\s*[\w.\"]+)*)", re.I)
# Destructive schema objects built with SQLAlchemy and run through op.execute(…).
_DROP_CONSTRUCTS = {"DropSequence": "a sequence", "DropTable": "a table", "DropSchema": "a schema"}
# Defaults PostgreSQL must compute row by row (so ADD COLUMN rewrites the table); now() and
# constants are stored once since PostgreSQL 11 and cost nothing.
_VOLATILE = re.compile(
    r"\b(random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|nextval|txid_current)\s*\(", re.I
)
_CONSTRAINTS = {"create_foreign_key", "create_check_constraint", "create_unique_constraint", "create_primary_key"}


@dataclass
class Finding:
    rule: str
    severity: str
    file: str
    line: int
    revision: str
    message: str
    hint: str
    accepted: bool = False
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


_WRAPS = ("text", "f", "conv")  # sa.text("…"), op.f("ix_…"), conv("…"): the string inside counts


def _string(node: ast.expr | None, values: dict[str, ast.expr] | None = None) -> str | None:
    """A SQL string or a name: a literal, an f-string, or one wrapped in sa.text / op.f / conv;
    with `values` (a function's simple assignments), a variable that holds one."""
    if isinstance(node, ast.Name) and values and node.id in values:
        return _string(values[node.id])
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"UPDATE {table} …": what is filled in is unknown, not absent
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{…}" for v in node.values
        )
    if isinstance(node, ast.Call) and node.args and getattr(node.func, "attr", getattr(node.func, "id", "")) in _WRAPS:
        return _string(node.args[0], values)
    return None


# alembic's positional parameters, for op.* and for batch_op.* (where the table is the batch's).
_SIGNATURES = {
    "create_table": (("table_name",), ()),
    "alter_column": (("table_name", "column_name"), ("column_name",)),
    "drop_column": (("table_name", "column_name"), ("column_name",)),
    "add_column": (("table_name", "column"), ("column",)),
    "drop_table": (("table_name",), ()),
    "rename_table": (("old_table_name", "new_table_name"), ()),
    "drop_index": (("index_name", "table_name"), ("index_name",)),
    "drop_constraint": (("constraint_name", "table_name"), ("constraint_name",)),
    "create_index": (("index_name", "table_name", "columns"), ("index_name", "columns")),
    "create_foreign_key": (
        ("constraint_name", "source_table", "referent_table"),
        ("constraint_name", "referent_table"),
    ),
    "create_unique_constraint": (("constraint_name", "table_name", "columns"), ("constraint_name", "columns")),
    "create_check_constraint": (("constraint_name", "table_name", "condition"), ("constraint_name", "condition")),
    "create_primary_key": (("constraint_name", "table_name", "columns"), ("constraint_name", "columns")),
}


def _table_key(node: ast.expr | None, constants: dict[str, str] | None = None) -> str | None:
    """A table as the source names it: a literal, a module constant holding one
    (`TABLE_NAME`), or — when only running the code would tell (`SqlSpan.__tablename__`,
    a call) — the expression itself, so two operations naming it alike are on one table."""
    if isinstance(node, ast.Name) and constants and node.id in constants:
        return constants[node.id]
    text = _string(node)
    if text is not None or node is None:
        return text
    return ast.unparse(node)


def _constants(module: ast.Module | None) -> dict[str, str]:
    """Module-level `NAME = "text"`."""
    return {
        target.id: node.value.value
        for node in (module.body if module else [])
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


@dataclass(frozen=True)
class Operation:
    name: str  # alter_column, execute, autocommit_block…
    call: ast.Call
    batch_table: str | None = None  # the table of the batch_alter_table it runs in
    sql: str | None = None  # for execute: the SQL text, also when a variable holds it
    table_name: str | None = None  # outside a batch: the table it names, resolved by _table_key

    def arg(self, parameter: str) -> ast.expr | None:
        """A parameter by alembic's name, given by position or keyword; `table_name` (and
        `source_table`) in a batch is the batch's table."""
        ops, batch = _SIGNATURES.get(self.name, ((), ()))
        names = batch if self.batch_table is not None else ops
        if parameter in names and names.index(parameter) < len(self.call.args):
            return self.call.args[names.index(parameter)]
        return _kw(self.call, parameter)

    def table(self) -> str | None:
        if self.batch_table is not None:
            return self.batch_table
        if self.table_name is not None:
            return self.table_name
        for parameter in ("table_name", "source_table", "old_table_name"):
            value = _string(self.arg(parameter))
            if value:
                return value
        return None

    def column(self) -> str | None:
        return _string(self.arg("column_name"))

    def where(self) -> str:
        """`'events.byte_count'`, `'events'` or "" for a message."""
        table, column = self.table(), self.column()
        if table and column:
            return f" '{table}.{column}'"
        return f" {table or column!r}" if (table or column) else ""


def _bodies(upgrade: ast.FunctionDef, module: ast.Module | None) -> list[ast.AST]:
    """upgrade() and the module's own functions it calls, directly or through each other:
    operations in a helper are operations of the revision."""
    functions = {n.name: n for n in (module.body if module else []) if isinstance(n, ast.FunctionDef)}
    seen, todo = {upgrade.name}, [upgrade]
    bodies: list[ast.AST] = []
    while todo:
        body = todo.pop()
        bodies.append(body)
        for node in ast.walk(body):
            called: list[str] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called = [node.func.id]
            elif _dispatches(node):  # the multidb template: globals()["upgrade_%s" % engine_name]()
                called = [name for name in functions if name.startswith(f"{upgrade.name}_")]
            for name in called:
                helper = functions.get(name)
                if helper is not None and helper.name not in seen:
                    seen.add(helper.name)
                    todo.append(helper)
    return bodies


def _dispatches(node: ast.AST) -> bool:
    """`globals()[…]()` or `getattr(sys.modules[__name__], …)()`: a call of a module function
    chosen by name at run time."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Subscript):
        return isinstance(func.value, ast.Call) and getattr(func.value.func, "id", "") == "globals"
    return isinstance(func, ast.Call) and getattr(func.func, "id", "") == "getattr"


def _operations(upgrade: ast.FunctionDef, module: ast.Module | None = None) -> list[Operation]:
    """(operation name, call) for op.* and batch_op.* calls — and SQL run through a connection
    (op.get_bind(), connection.execute) as `execute` — in source order, helpers included."""
    bodies = _bodies(upgrade, module)
    constants = _constants(module)
    found = []
    for body in bodies:
        found += _operations_in(body, constants)
    return sorted(found, key=lambda item: (item.call.lineno, item.call.col_offset))


def _operations_in(upgrade: ast.AST, constants: dict[str, str] | None = None) -> list[Operation]:
    aliases: dict[str, str | None] = {"op": None}  # name → its batch's table (None: op itself)
    binds = {"conn", "connection", "bind"}  # the usual names of a connection passed to a helper
    sessions: set[str] = set()
    for node in ast.walk(upgrade):
        # conn = op.get_bind() / bind = op.get_context().bind: SQL run through it is SQL of the revision;
        # session = Session(bind=…) / with Session(bind) as session: so are its writes.
        pairs: list[tuple[ast.expr, ast.expr | None]] = []
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs = [(node.value, node.targets[0])]
        elif isinstance(node, ast.With):
            pairs = [(item.context_expr, item.optional_vars) for item in node.items]
        for value, target in pairs:
            if not isinstance(target, ast.Name):
                continue
            if (isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "get_bind") or (
                isinstance(value, ast.Attribute) and value.attr in ("bind", "connection")
            ):
                binds.add(target.id)
            elif isinstance(value, ast.Call) and _called(value) in ("Session", "session"):
                sessions.add(target.id)
    binds |= sessions
    collector = _Collector(aliases, binds, sessions, constants)
    collector.visit(upgrade)
    return collector.found


# What an ORM session writes rows with (a backfill, as an UPDATE or INSERT is).
_ORM_WRITES = {"add", "add_all", "merge", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"}


def _called(call: ast.Call) -> str:
    """`sa.orm.Session(…)` → Session; `Session(…)` → Session."""
    return getattr(call.func, "attr", getattr(call.func, "id", ""))


class _Collector(ast.NodeVisitor):
    """The operations of a body, each with the batch table of the `with … as batch_op` it
    sits in lexically: two blocks that both say `as batch_op` keep their own tables (one
    name for the whole function put 71 of 740 messages on the wrong table)."""

    def __init__(
        self,
        aliases: dict[str, str | None],
        binds: set[str],
        sessions: set[str] = frozenset(),
        constants: dict[str, str] | None = None,
    ):
        self.aliases, self.binds, self.sessions = aliases, binds, sessions
        self.constants = constants or {}
        self.found: list[Operation] = []
        self.values: dict[str, ast.expr] = {}  # q = "UPDATE …": SQL held in a variable, then op.execute(q)
        self.ended = False  # an `if <not PostgreSQL>: return` at the top of the function ran

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for statement in node.body:
            if self.ended:
                return
            self.visit(statement)
            if isinstance(statement, ast.If) and _on_postgresql(statement.test) is True and _returns(statement.body):
                self.ended = True  # `if dialect != "mysql": return`: nothing after it runs on PostgreSQL

    def visit_If(self, node: ast.If) -> None:
        """A branch that runs only on another database (`if bind.dialect.name == "sqlite":`)
        is not the revision's on PostgreSQL, the database this check rehearses on."""
        runs = _on_postgresql(node.test)
        self.visit(node.test)
        for statement in node.body if runs is not False else []:
            self.visit(statement)
        for statement in node.orelse if runs is not True else []:
            self.visit(statement)

    def visit_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.values[node.targets[0].id] = node.value
        self.generic_visit(node)

    def _operation(self, name: str, node: ast.Call, batch_table: str | None = None) -> Operation:
        sql = _string(node.args[0], self.values) if name == "execute" and node.args else None
        operation = Operation(name, node, batch_table, sql)
        if batch_table is None:
            for parameter in ("table_name", "source_table", "old_table_name"):
                table = _table_key(operation.arg(parameter), self.constants)
                if table:
                    return Operation(name, node, batch_table, sql, table)
        return operation

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        outer = dict(self.aliases)
        for item in node.items:
            self.visit(item.context_expr)
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and getattr(call.func, "attr", "") == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                table = _table_key(call.args[0] if call.args else _kw(call, "table_name"), self.constants)
                self.aliases[item.optional_vars.id] = table or ""
        for statement in node.body:
            self.visit(statement)
        self.aliases = outer

    visit_AsyncWith = visit_With

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in self.aliases:
                self.found.append(self._operation(node.func.attr, node, self.aliases[owner.id]))
            elif node.func.attr == "autocommit_block":
                self.found.append(self._operation("autocommit_block", node))
            elif node.func.attr == "execute" and (
                (isinstance(owner, ast.Name) and owner.id in self.binds)
                or (isinstance(owner, ast.Call) and getattr(owner.func, "attr", "") == "get_bind")
            ):
                self.found.append(self._operation("execute", node))
            elif isinstance(owner, ast.Name) and owner.id in self.sessions and node.func.attr in _ORM_WRITES:
                self.found.append(self._operation("orm_write", node))
            elif node.func.attr in ("update", "delete") and self._queried(owner):
                self.found.append(self._operation(f"orm_{node.func.attr}", node))
        self.generic_visit(node)

    def _queried(self, node: ast.expr) -> bool:
        """`session.query(Model)…`: a query of one of the revision's ORM sessions."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "query":
                return isinstance(node.func.value, ast.Name) and node.func.value.id in self.sessions
            node = node.func.value
        return False


_DIALECTS = {"postgresql", "postgres", "sqlite", "mysql", "mariadb", "mssql", "oracle"}


def _on_postgresql(test: ast.expr) -> bool | None:
    """Whether a test of the database's dialect holds on PostgreSQL: `bind.dialect.name ==
    "sqlite"` is False, `"postgresql" in inspector.dialect.dialect_description` True,
    `dialect in ("mysql", "sqlite")` False; anything else None (not known)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _on_postgresql(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        parts = [_on_postgresql(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in parts else (True if all(p is True for p in parts) else None)
        return True if True in parts else (False if all(p is False for p in parts) else None)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    names = [side for side in (left, right) if isinstance(side, ast.Constant) and side.value in _DIALECTS]
    if isinstance(right, ast.Tuple | ast.List | ast.Set) and isinstance(op, ast.In | ast.NotIn):
        listed = [e.value for e in right.elts if isinstance(e, ast.Constant)]
        if listed and all(v in _DIALECTS for v in listed) and "dialect" in ast.unparse(left):
            inside = bool({"postgresql", "postgres"} & set(listed))
            return inside if isinstance(op, ast.In) else not inside
        return None
    other = right if names and names[0] is left else left
    if len(names) != 1 or not re.search(r"dialect|engine\.name|driver", ast.unparse(other)):
        return None
    postgres = names[0].value in ("postgresql", "postgres")
    if isinstance(op, ast.Eq | ast.In):
        return postgres
    if isinstance(op, ast.NotEq | ast.NotIn):
        return not postgres
    return None


def _returns(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return)


def _check_call(
    op: Operation,
    before: dict[tuple[str | None, str | None], ast.expr] | None = None,
    numbers: dict[str, int] | None = None,
) -> list[tuple[str, str]]:
    """(rule, message) for one operation; `before`, the type each (table, column) has before
    the revision where the source says so only in downgrade()."""
    name, call = op.name, op.call
    if name == "drop_table":
        return [("drop-table", f"drops table{op.where()}")]
    if name == "drop_column":
        return [("drop-column", f"drops column{op.where()}" if op.column() else "drops a column")]
    if name == "drop_constraint":
        return [("drop-constraint", _named("drops constraint", _string(op.arg("constraint_name")), op.table()))]
    if name == "drop_index":
        return [("drop-index", _named("drops index", _string(op.arg("index_name")), op.table()))]
    if name == "rename_table":
        new_name = _string(op.arg("new_table_name"))
        return [("rename-table", f"renames table{op.where()}" + (f" to {new_name!r}" if new_name else ""))]
    found = []
    if name == "alter_column":
        column = f"column{op.where()}" if op.column() else f"a column of{op.where()}"
        if retypes(op, before, numbers):
            found.append(("alter-type", f"changes the type of {column}"))
        new_name = _string(_kw(call, "new_column_name"))
        if _kw(call, "new_column_name") is not None:
            found.append(("rename-column", f"renames {column}" + (f" to {new_name!r}" if new_name else "")))
        if _is_false(_kw(call, "nullable")):
            found.append(("not-null-existing", f"makes existing {column} NOT NULL"))
    if name == "add_column":
        column = op.arg("column")
        if (
            isinstance(column, ast.Call)
            and getattr(column.func, "attr", getattr(column.func, "id", "")) == "Column"
            and _is_false(_kw(column, "nullable"))
            and _kw(column, "server_default") is None
        ):
            col = _string(column.args[0]) if column.args else _string(_kw(column, "name"))
            table = op.table()
            named = f"'{table}.{col}'" if table and col else repr(col)
            message = f"adds NOT NULL column {named} without server_default (fails on a non-empty table)"
            found.append(("not-null-without-default", message))
    if name == "add_column":
        column = op.arg("column")
        default = _kw(column, "server_default") if isinstance(column, ast.Call) else None
        text = _string(default) or (ast.unparse(default) if isinstance(default, ast.Call) else "")
        volatile = _VOLATILE.search(text) or (
            isinstance(default, ast.Call) and getattr(default.func, "attr", "") in ("random", "gen_random_uuid")
        )
        if volatile:
            col = _string(column.args[0]) if column.args else None
            table = op.table()
            named = f"'{table}.{col}'" if table and col else repr(col)
            found.append(
                ("volatile-default", f"adds column {named} with a volatile default ({' '.join(text.split())})")
            )
    if name == "create_index" and _is_true(_kw(call, "postgresql_concurrently")):
        found.append(("non-transactional", "CREATE INDEX CONCURRENTLY cannot run in a transaction"))
    if name == "autocommit_block":
        found.append(("non-transactional", "autocommit_block runs its statements outside the transaction"))
    if name == "orm_delete":
        return [("delete-rows", "deletes rows through the ORM (session.query(…).delete())")]
    if name == "execute":
        sql = op.sql
        if sql and _DESTRUCTIVE_SQL.search(_without_temporary_drops(sql)):
            found.append(("raw-sql-destructive", f"raw SQL: {' '.join(sql.split())[:80]}"))
        elif sql and _DELETE_WHERE.search(sql):
            found.append(("delete-rows", f"deletes rows: {' '.join(sql.split())[:80]}"))
        construct = call.args[0] if call.args else None
        methods = _chain(construct)
        if "delete" in methods:  # sa.delete(table).where(…), table.delete()
            if "where" in methods or _delete_has_where(construct):
                found.append(("delete-rows", "deletes rows (a delete() construct with a where clause)"))
            else:
                found.append(("raw-sql-destructive", "deletes every row of a table (delete() without where)"))
        kind = (
            getattr(construct.func, "attr", getattr(construct.func, "id", ""))
            if isinstance(construct, ast.Call)
            else ""
        )
        if kind in _DROP_CONSTRUCTS:
            found.append(("raw-sql-destructive", f"drops {_DROP_CONSTRUCTS[kind]} ({kind})"))
        if sql and _CONCURRENTLY.search(sql):
            shown = " ".join(sql.split())[:80]
            if re.search(r"\bADD\s+VALUE\b", sql, re.I) and not re.search(r"\bCONCURRENTLY\b|\bVACUUM\b", sql, re.I):
                message = (
                    "adds an enum value (PostgreSQL < 12 cannot in a transaction; 12+ cannot use it in the same "
                    f"transaction): {shown}"
                )
            else:
                message = f"raw SQL that cannot run in a transaction: {shown}"
            found.append(("non-transactional", message))
    return found


# What each create_* call makes, as drop_constraint's `type_` names it.
_KIND_OF = {
    "create_foreign_key": "foreignkey",
    "create_unique_constraint": "unique",
    "create_check_constraint": "check",
    "create_primary_key": "primary",
    "create_index": "index",
}


class _Replacements:
    """What makes a dropped constraint or index no risk of its own, within one revision:
    it is re-created on the same table as the same kind of thing — under its name, another
    or none, as autogenerate writes `None`, also after the table is renamed in between — so
    the re-creation is what to check; or the table it belongs to is dropped, or a column of
    that table which its name spells out (`fk_items_user_id_users` with `user_id`), and that
    drop is the finding."""

    def __init__(self, operations: list[Operation], statements: dict[int, list | None] | None = None):
        self.made: set[tuple[str | None, str]] = set()  # (table, kind)
        self.names: set[str] = set()
        self.tables: set[str | None] = set()
        self.columns: set[tuple[str | None, str]] = set()
        self.renamed: dict[str, str] = {}  # old table name → new, within the revision
        for o in operations:
            old, new = (o.table(), _string(o.arg("new_table_name"))) if o.name == "rename_table" else (None, None)
            if old and new:
                self.renamed[old] = new
        for parsed in (statements or {}).values():
            for s in parsed or ():
                if s.kind == "rename_table" and s.table and s.facts.get("new"):
                    self.renamed[s.table] = s.facts["new"]
        for parsed in (statements or {}).values():
            for s in parsed or ():
                if s.kind in ("create_index", "add_constraint"):
                    self.made.add((self.final(s.table), s.facts.get("kind", "index")))
                    if s.facts.get("name"):
                        self.names.add(s.facts["name"])
                elif s.kind == "drop_table":
                    self.tables.add(self.final(s.table))
                elif s.kind == "drop_column" and s.column:
                    self.columns.add((self.final(s.table), s.column))
        for o in operations:
            kind = _KIND_OF.get(o.name)
            if kind:
                self.made.add((self.final(o.table()), kind))
                name = _string(o.arg("constraint_name")) or _string(o.arg("index_name"))
                if name:
                    self.names.add(name)
            elif o.name == "drop_table":
                self.tables.add(self.final(o.table()))
            elif o.name == "drop_column" and o.column():
                self.columns.add((self.final(o.table()), o.column()))

    def final(self, table: str | None) -> str | None:
        """The name a table has at the end of the revision (renames followed, loops ended)."""
        seen = set()
        while table in self.renamed and table not in seen:
            seen.add(table)
            table = self.renamed[table]
        return table

    def covers(self, drop: Operation) -> bool:
        is_index = drop.name == "drop_index"
        name = _string(drop.arg("index_name" if is_index else "constraint_name"))
        kind = "index" if is_index else _string(_kw(drop.call, "type_"))
        return self.replaces(drop.table(), name, kind)

    def replaces(self, table: str | None, name: str | None, kind: str | None) -> bool:
        table = self.final(table)
        if table is not None and table in self.tables:
            return True
        if name and any(t == table and f"_{c}_" in f"_{name}_" for t, c in self.columns):
            return True
        if name and name in self.names:
            return True
        if kind:
            return (table, kind) in self.made
        return any(t == table and k != "index" for t, k in self.made)  # a constraint of unknown kind


def _sql_findings(statements: list, replaced: _Replacements) -> list[tuple[str, str, str | None]]:
    """(rule, message, table) for raw SQL as PostgreSQL parsed it: the same rules as op.*."""
    temporary = {s.table for s in statements if s.kind == "create_table" and s.facts["temporary"]}
    found: list[tuple[str, str, str | None]] = []
    for s in statements:
        table, where = s.table, f" {s.table!r}" if s.table else ""
        column = f"'{table}.{s.column}'" if table and s.column else repr(s.column)
        said = f" (SQL: {s.text})"
        kind = s.kind
        if kind == "drop_table" and table not in temporary:
            found.append(("drop-table", f"drops table{where}{said}", table))
        elif kind == "drop_column":
            found.append(("drop-column", f"drops column {column}{said}", table))
        elif kind == "alter_type":
            found.append(("alter-type", f"changes the type of column {column}{said}", table))
        elif kind == "rename_column":
            found.append(("rename-column", f"renames column {column} to {s.facts['new']!r}{said}", table))
        elif kind == "rename_table":
            found.append(("rename-table", f"renames table{where} to {s.facts['new']!r}{said}", table))
        elif kind == "set_not_null":
            found.append(("not-null-existing", f"makes existing column {column} NOT NULL{said}", table))
        elif kind == "drop_index":
            if not replaced.replaces(None, s.facts["name"], "index"):
                found.append(("drop-index", _named("drops index", s.facts["name"], None) + said, None))
            if s.facts["concurrently"]:
                found.append(("non-transactional", f"DROP INDEX CONCURRENTLY cannot run in a transaction{said}", None))
        elif kind == "drop_constraint" and not replaced.replaces(table, s.facts["name"], None):
            found.append(("drop-constraint", _named("drops constraint", s.facts["name"], table) + said, table))
        elif kind == "add_constraint" and s.facts["kind"] in ("foreignkey", "check") and not s.facts["not_valid"]:
            what = "foreign key" if s.facts["kind"] == "foreignkey" else "check constraint"
            found.append(("constraint-full-scan", f"adds a {what} to existing table{where}{said}", table))
        elif kind == "add_constraint" and s.facts["kind"] in ("unique", "primary") and not s.facts["using_index"]:
            what = "unique constraint" if s.facts["kind"] == "unique" else "primary key"
            found.append(("unique-constraint-locks", f"adds a {what} to existing table{where}{said}", table))
        elif kind == "create_index" and s.facts["concurrently"]:
            found.append(("non-transactional", f"CREATE INDEX CONCURRENTLY cannot run in a transaction{said}", None))
        elif kind == "create_index":
            message = f"creates an index on existing table{where} without CONCURRENTLY{said}"
            found.append(("index-locks-writes", message, table))
        elif kind == "add_column" and s.facts["not_null"] and not s.facts["default"]:
            message = f"adds NOT NULL column {column} without a default (fails on a non-empty table){said}"
            found.append(("not-null-without-default", message, table))
        elif kind == "add_column" and s.facts["volatile"]:
            found.append(("volatile-default", f"adds column {column} with a volatile default{said}", table))
        elif kind == "delete" and s.facts["where"]:
            found.append(("delete-rows", f"deletes rows of{where}{said}", table))
        elif kind == "delete":
            found.append(("raw-sql-destructive", f"deletes every row of{where}{said}", table))
        elif kind == "truncate":
            found.append(("raw-sql-destructive", f"empties table{where}{said}", table))
        elif kind == "drop_other" and s.facts["object"] in _DESTRUCTIVE_OBJECTS:
            found.append(("raw-sql-destructive", f"drops a {s.facts['object'].lower()}{said}", None))
        elif kind == "add_enum_value":
            message = (
                "adds an enum value (PostgreSQL < 12 cannot in a transaction; 12+ cannot use it in the same "
                f"transaction){said}"
            )
            found.append(("non-transactional", message, None))
        elif kind == "vacuum":
            found.append(("non-transactional", f"VACUUM cannot run in a transaction{said}", None))
    return found


# What a DROP of raw SQL destroys beyond tables and indexes (which have rules of their own).
_DESTRUCTIVE_OBJECTS = {"SCHEMA", "DATABASE", "VIEW", "MATVIEW", "TYPE", "SEQUENCE", "DOMAIN"}


def _named(what: str, name: str | None, table: str | None) -> str:
    """`drops index 'ix_a' of 'users'`, or without the parts the source does not spell out."""
    return what + (f" {name!r}" if name else "") + (f" of {table!r}" if table else "")


def _chain(node: ast.expr | None) -> list[str]:
    """The names called along `sa.delete(t).where(…).returning(…)`: returning, where, delete."""
    names = []
    while isinstance(node, ast.Call):
        func = node.func
        names.append(getattr(func, "attr", getattr(func, "id", "")))
        node = func.value if isinstance(func, ast.Attribute) else None
    return names


def _delete_has_where(node: ast.expr | None) -> bool:
    """The old spellings: table.delete(whereclause), sa.delete(table, whereclause)."""
    while isinstance(node, ast.Call):
        func = node.func
        if getattr(func, "attr", getattr(func, "id", "")) == "delete":
            owner = getattr(func, "value", None)
            function = not isinstance(func, ast.Attribute) or getattr(owner, "id", "") in ("sa", "sqlalchemy")
            return len(node.args) >= (2 if function else 1) or _kw(node, "whereclause") is not None
        node = func.value if isinstance(func, ast.Attribute) else None
    return False


# Type changes PostgreSQL makes without rewriting the table or checking rows (binary-coercible).
_VARCHAR = {"String", "VARCHAR", "Unicode", "NVARCHAR"}
_TEXT = {"Text", "TEXT", "UnicodeText"}
_NUMERIC = {"Numeric", "NUMERIC", "DECIMAL"}
# Floating point as PostgreSQL stores it: FLOAT(p) is real up to p = 24, double precision above;
# SQLAlchemy's Float() without a precision is FLOAT, which is double precision.
_FLOAT = {"Float", "FLOAT"}
_REAL = {"REAL", "Real"}
_DOUBLE = {"Double", "DOUBLE", "DOUBLE_PRECISION"}


def _type_spec(node: ast.expr | None, numbers: dict[str, int] | None = None) -> tuple[str, tuple] | None:
    """("varchar", (length or None,)), ("numeric", (precision, scale)) or ("float", (24 or 53,))
    for a type expression; `numbers`, the module's integer constants (`FLOAT_PRECISION = 53`)."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call else node
    name = getattr(target, "attr", getattr(target, "id", ""))

    def number(position: int, keyword: str) -> int | None:
        value = call.args[position] if call and len(call.args) > position else (_kw(call, keyword) if call else None)
        if isinstance(value, ast.Name) and numbers and value.id in numbers:
            return numbers[value.id]
        return value.value if isinstance(value, ast.Constant) and isinstance(value.value, int) else None

    if name in _FLOAT:
        precision = number(0, "precision")
        return ("float", (24 if precision is not None and precision <= 24 else 53,))
    if name in _REAL or name in _DOUBLE:
        return ("float", (24 if name in _REAL else 53,))

    if name in _TEXT:
        return ("varchar", (None,))
    if name in _VARCHAR:
        return ("varchar", (number(0, "length"),))
    if name in _NUMERIC:
        return ("numeric", (number(0, "precision"), number(1, "scale")))
    return None


def _widens(existing: ast.expr | None, new: ast.expr | None, numbers: dict[str, int] | None = None) -> bool:
    """varchar(n) → varchar(m ≥ n), varchar or text; numeric(p, s) → numeric(q ≥ p, s) or numeric;
    a float type PostgreSQL stores the same (FLOAT → FLOAT(53)): only the catalog changes, so
    the running version and the rows are untouched."""
    old, wanted = _type_spec(existing, numbers), _type_spec(new, numbers)
    if old is None or wanted is None or old[0] != wanted[0]:
        return False
    if old[0] == "float":
        return old == wanted
    if old[0] == "varchar":
        (before,), (after,) = old[1], wanted[1]
        return after is None or (before is not None and after >= before)
    (precision, scale), (new_precision, new_scale) = old[1], wanted[1]
    if new_precision is None and new_scale is None:
        return True
    return precision is not None and new_precision is not None and new_precision >= precision and new_scale == scale


def _without_temporary_drops(sql: str) -> str:
    """The SQL less the DROP TABLEs of temporary tables it creates itself (scratch, not data)."""
    temporary = {name.strip('"').lower() for name in _TEMP_TABLE.findall(sql)}
    if not temporary:
        return sql

    def keep(match: re.Match[str]) -> str:
        names = {n.strip().strip('"').lower() for n in match.group(1).split(",")}
        return "" if names <= temporary else match.group(0)

    return _DROP_TABLE.sub(keep, sql)


_NOT_OPERATIONS = {"get_context", "get_bind", "f", "inline_literal"}  # op.* helpers that change nothing


def _follows_advice(
    block: ast.Call, operations: list[Operation], statements: dict[int, list | None], withs: list[ast.With]
) -> bool:
    """An autocommit block as the non-transactional rule advises: the revision does nothing
    else, and each statement in it can run again after a failure half-way (CREATE INDEX
    CONCURRENTLY IF NOT EXISTS, DROP INDEX … IF EXISTS, ADD VALUE IF NOT EXISTS, VACUUM)."""
    inside = [o for o in operations if o.call is not block and o.name not in _NOT_OPERATIONS]
    if not inside or not all(_inside(o.call, block, withs) for o in inside):
        return False
    for o in inside:
        if o.name == "execute":
            parsed = statements.get(id(o))
            if not parsed or not all(s.repeatable for s in parsed):
                return False
        elif o.name == "create_index":
            if not _is_true(_kw(o.call, "if_not_exists")):
                return False
        elif o.name == "drop_index":
            if not _is_true(_kw(o.call, "if_exists")):
                return False
        else:
            return False
    return True


def _inside(call: ast.Call, block: ast.Call, upgrade_nodes: list[ast.With]) -> bool:
    """Whether `call` sits in the `with` whose context expression is `block`."""
    for node in upgrade_nodes:
        if any(item.context_expr is block for item in node.items):
            return any(inner is call for inner in ast.walk(node))
    return False


# Raw SQL that drops or retypes used to be `raw-sql-destructive`; since PostgreSQL's parser
# reads it, it is the rule of the operation it is. An acceptance or a severity written for
# the old name still applies to it.
_FORMERLY_RAW = {"drop-table", "drop-column", "alter-type"}


def _accepted(
    rev: Revision, line: int, rule: str, allowed: dict[tuple[str, str], str], *, from_sql: bool = False
) -> str | None:
    """The reason a finding is accepted: a comment on its line or the one above, or the allow input."""
    rules = {rule} | ({"raw-sql-destructive"} if from_sql and rule in _FORMERLY_RAW else set())
    for number in (line, line - 1):
        if 1 <= number <= len(rev.source):
            match = _ALLOW.search(rev.source[number - 1])
            if match and rules & {r.strip() for r in match.group(1).split(",")} and match.group(2):
                return match.group(2).strip()
    for name in rules:
        for key in ((rev.revision, name), (rev.path.name, name), (str(rev.path), name)):
            if key in allowed:
                return allowed[key]
    return None


def analyse(
    rev: Revision, *, severities: dict[str, str] | None = None, allowed: dict[tuple[str, str], str] | None = None
) -> list[Finding]:
    upgrade = rev.function("upgrade")
    if upgrade is None:
        return []
    severities, allowed = severities or {}, allowed or {}
    operations = _operations(upgrade, rev.tree)
    statements = {id(o): sql_parser.parse(o.sql) for o in operations if o.name == "execute" and o.sql}
    withs = [n for body in _bodies(upgrade, rev.tree) for n in ast.walk(body) if isinstance(n, ast.With)]
    blocks = [o.call for o in operations if o.name == "autocommit_block"]
    created = set()  # tables this revision creates: new, empty, nothing runs on them yet
    dropped_constraints = {_string(o.arg("constraint_name")) for o in operations if o.name == "drop_constraint"}
    dropped_constraints.discard(None)  # an unnamed constraint is no match for another unnamed one
    replaced = _Replacements(operations, statements)
    before, numbers = type_context(rev)
    raw: list[tuple[str, int, str, bool]] = []  # rule, line, message, from raw SQL
    for op in operations:
        name, call = op.name, op.call
        if name == "create_table" and op.table():
            created.add(op.table())
        if name == "rename_table" and op.table() in created and _string(op.arg("new_table_name")):
            created.add(_string(op.arg("new_table_name")))
        parsed = statements.get(id(op))
        if parsed is not None:  # raw SQL PostgreSQL's parser read: each statement on its own table
            created |= {s.table for s in parsed if s.kind == "create_table" and not s.facts["temporary"]}
            findings = _sql_findings(parsed, replaced)
        else:
            findings = [(rule, message, op.table()) for rule, message in _check_call(op, before, numbers)]
        if name in ("drop_constraint", "drop_index") and replaced.covers(op):
            findings = []  # re-created (the re-creation is the risk), or gone with its column or table
        if name == "autocommit_block" and _follows_advice(call, operations, statements, withs):
            findings = []  # alone in its revision and safe to run again: what the rule asks for
        in_block = name != "autocommit_block" and any(_inside(call, block, withs) for block in blocks)
        if in_block:  # the block was said once already: its statements are the same operation
            findings = [f for f in findings if f[0] != "non-transactional"]
        # A table this revision created is new and empty: no one uses it yet.
        findings = [(rule, message) for rule, message, t in findings if t not in created or rule not in _EXISTING_ONLY]
        table = op.table()
        existing = table is None or table not in created
        not_valid = _is_true(_kw(call, "postgresql_not_valid"))
        if name in ("create_foreign_key", "create_check_constraint") and existing and not not_valid:
            what = "foreign key" if name == "create_foreign_key" else "check constraint"
            again = " (re-created)" if _string(op.arg("constraint_name")) in dropped_constraints else ""
            findings.append(("constraint-full-scan", f"adds a {what}{again} to existing table {table!r}"))
        concurrently = _is_true(_kw(call, "postgresql_concurrently"))
        if name == "create_index" and existing and not concurrently:
            findings.append(
                ("index-locks-writes", f"creates an index on existing table {table!r} without CONCURRENTLY")
            )
        if name in ("create_unique_constraint", "create_primary_key") and existing:
            what = "unique constraint" if name == "create_unique_constraint" else "primary key"
            findings.append(("unique-constraint-locks", f"adds a {what} to existing table {table!r}"))
        raw += [(rule, call.lineno, message, parsed is not None) for rule, message in findings]
    filled = _filled_tables(operations, rev.tree, statements)
    if filled:
        for o in operations:
            constrains = o.name in _CONSTRAINTS or (o.name == "alter_column" and _is_false(_kw(o.call, "nullable")))
            table = o.table()
            if constrains and table not in created and (table in filled or None in filled):
                raw.append(
                    (
                        "backfill-with-constraint",
                        o.call.lineno,
                        "backfills data and adds a constraint in the same revision",
                        False,
                    )
                )
    findings = []
    for rule, line, message, from_sql in raw:
        former = severities.get("raw-sql-destructive") if from_sql and rule in _FORMERLY_RAW else None
        severity = severities.get(rule) or former or RULES[rule][0]
        if severity == OFF:
            continue
        reason = _accepted(rev, line, rule, allowed, from_sql=from_sql)
        findings.append(
            Finding(
                rule,
                severity,
                str(rev.path),
                line,
                rev.revision,
                message,
                RULES[rule][1],
                accepted=reason is not None,
                reason=reason or "",
            )
        )
    return findings


def retypes(
    op: Operation,
    before: dict[tuple[str | None, str | None], ast.expr] | None = None,
    numbers: dict[str, int] | None = None,
) -> bool:
    """An alter_column that changes a type in a way PostgreSQL rewrites or checks rows for
    (not a widening); `before` and `numbers` from type_context."""
    existing = _kw(op.call, "existing_type") or (before or {}).get((op.table(), op.column()))
    return _kw(op.call, "type_") is not None and not _widens(existing, _kw(op.call, "type_"), numbers)


def type_context(rev: Revision) -> tuple[dict[tuple[str | None, str | None], ast.expr], dict[str, int]]:
    """What judging a revision's type changes needs: the types downgrade() gives back, and
    the module's integer constants (`FLOAT_PRECISION = 53`)."""
    numbers = {
        target.id: node.value.value
        for node in rev.tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and type(node.value.value) is int
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return _types_before(rev), numbers


def _types_before(rev: Revision) -> dict[tuple[str | None, str | None], ast.expr]:
    """The type downgrade() gives each column back: what it was before upgrade() changed it,
    where upgrade() does not say (`alter_column("value_json", type_=sa.TEXT)`)."""
    downgrade = rev.function("downgrade")
    if downgrade is None:
        return {}
    return {
        (o.table(), o.column()): _kw(o.call, "type_")
        for o in _operations(downgrade, rev.tree)
        if o.name == "alter_column" and _kw(o.call, "type_") is not None
    }


def _filled_tables(
    operations: list[Operation], module: ast.Module | None, statements: dict[int, list | None]
) -> set[str | None]:
    """The tables the revision writes rows into (UPDATE, INSERT, bulk_insert); None for a
    write whose table cannot be read from the source."""
    filled: set[str | None] = set()
    named: dict[str, str | None] | None = None  # coupons = sa.table("coupons", …), read once if needed
    for o in operations:
        parsed = statements.get(id(o))
        if parsed is not None:
            filled |= {s.table for s in parsed if s.kind in ("update", "insert")}
        elif o.name == "bulk_insert" and o.call.args:
            target = o.call.args[0]
            if named is None:
                named = _table_names(module)
            filled.add(named.get(target.id) if isinstance(target, ast.Name) else None)
        elif o.name in ("orm_write", "orm_update"):
            filled.add(None)  # the model's table is not spelled out here
        elif o.name == "execute" and o.call.args and {"update", "insert"} & set(_chain(o.call.args[0])):
            # sa.update(coupons).values(…), coupons.insert(): a backfill through a Core construct
            if named is None:
                named = _table_names(module)
            filled.add(_construct_table(o.call.args[0], named))
        elif o.name == "execute" and o.call.args:
            sql = o.sql or ""
            for statement in sql.split(";"):
                match = _DATA_SQL.search(statement)
                if match:
                    table = _DATA_TABLE.search(statement)
                    filled.add(table.group(1).split(".")[-1].strip('"') if table else None)
    return filled


def _construct_table(node: ast.expr, named: dict[str, str | None]) -> str | None:
    """The table of `sa.update(t)…` or `t.update()…`, through `t = sa.table("name", …)`."""
    while isinstance(node, ast.Call):
        func = node.func
        if _called(node) in ("update", "insert"):
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") not in ("sa", "sqlalchemy"):
                target: ast.expr | None = func.value  # t.update()
            else:
                target = node.args[0] if node.args else None  # sa.update(t), update(t)
            if isinstance(target, ast.Call) and _called(target) in ("table", "Table"):
                return _string(target.args[0]) if target.args else None
            return named.get(target.id) if isinstance(target, ast.Name) else None
        node = func.value if isinstance(func, ast.Attribute) else None
    return None


def _table_names(module: ast.Module | None) -> dict[str, str | None]:
    return {
        node.targets[0].id: _string(node.value.args[0])
        for node in ast.walk(module or ast.Module(body=[], type_ignores=[]))
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) in ("table", "Table")
        and node.value.args
    }


# Operations that take a lock on an existing table strong enough to queue every query behind it.
_STRONG = {
    "add_column",
    "alter_column",
    "drop_column",
    "create_index",
    "drop_index",
    "create_foreign_key",
    "create_unique_constraint",
    "create_check_constraint",
    "create_primary_key",
    "drop_constraint",
    "rename_table",
    "drop_table",
}
_STRONG_SQL = {
    "drop_table",
    "drop_column",
    "alter_type",
    "rename_column",
    "rename_table",
    "drop_index",
    "drop_constraint",
    "create_index",
    "add_constraint",
    "add_column",
    "set_not_null",
    "truncate",
}


# `SET lock_timeout`, `SET LOCAL lock_timeout`, set_config('lock_timeout', …), `-c lock_timeout=5s`.
SETS_LOCK_TIMEOUT = re.compile(
    r"\bset\s+(?:local\s+|session\s+)?lock_timeout\b|set_config\(\s*['\"]lock_timeout|lock_timeout\s*[=:]", re.I
)


def strong_lock(rev: Revision) -> tuple[int, str | None] | None:
    """(line, table) of the revision's first operation that locks an existing table hard
    (ALTER TABLE, CREATE INDEX without CONCURRENTLY…), unless the revision sets its own
    lock_timeout; None when there is none."""
    upgrade = rev.function("upgrade")
    if upgrade is None or any(SETS_LOCK_TIMEOUT.search(line) for line in rev.source):
        return None
    created: set[str | None] = set()
    for op in _operations(upgrade, rev.tree):
        if op.name == "create_table":
            created.add(op.table())
        elif op.name in _STRONG and op.table() not in created:
            if op.name == "create_index" and _is_true(_kw(op.call, "postgresql_concurrently")):
                continue
            return op.call.lineno, op.table()
        elif op.name == "execute" and op.sql:
            for s in sql_parser.parse(op.sql) or ():
                if s.kind == "create_table":
                    created.add(s.table)
                elif s.kind in _STRONG_SQL and s.table not in created and not s.facts.get("concurrently"):
                    return op.call.lineno, s.table
    return None


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR and not f.accepted]
