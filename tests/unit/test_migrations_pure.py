"""Graph and risk rules on the fixture projects' files, read with ast (nothing imported)."""

import ast
from pathlib import Path

import pytest

from deploy_actions.errors import UsageError
from deploy_actions.migrations import graph, risks, scripts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alembic"


def load(name):
    return scripts.load(scripts.script_location(FIXTURES / name / "alembic.ini"))


def fake(rev, down=()):
    return scripts.Revision(rev, tuple(down), Path(f"{rev}.py"), 1, ast.parse(""))


def test_linear_chain_has_one_head_in_order():
    g = graph.build(load("linear"))
    assert g.heads == ["a3"] and g.head == "a3" and g.bases == ["a1"]
    assert g.order == ["a1", "a2", "a3"] and g.problems == []


def test_two_heads_are_reported_with_branch_point_and_merge_command():
    g = graph.build(load("two_heads"))
    assert g.heads == ["b2", "b3"] and g.head is None
    [problem] = g.problems
    assert problem.rule == "multiple-heads"
    assert "branching at b1" in problem.message and 'alembic merge -m "merge heads" b2 b3' in problem.message


def test_merge_revision_closes_the_branch():
    g = graph.build(load("merged"))
    assert g.heads == ["c4"] and not g.problems and g.order[-1] == "c4"


def test_duplicates_missing_targets_and_cycles():
    problems = graph.build([fake("x"), fake("x"), fake("y", ["nope"])]).problems
    assert {"duplicate-revision", "missing-down-revision"} <= {p.rule for p in problems}
    cyclic = graph.build([fake("base"), fake("p", ["base", "q"]), fake("q", ["p"])])
    assert "cycle" in {p.rule for p in cyclic.problems}


def test_not_valid_python_is_bad_input_with_file_and_line():
    with pytest.raises(UsageError) as err:
        load("syntax_error")
    assert err.value.line == 5 and err.value.file.endswith("001_s1.py") and "not valid Python" in str(err.value)


def test_missing_alembic_ini(tmp_path):
    with pytest.raises(UsageError, match="no alembic.ini at"):
        scripts.script_location(tmp_path / "alembic.ini")


def risky(**kwargs):
    revision = next(r for r in load("risky") if r.revision == "r2")
    return revision, risks.analyse(revision, **kwargs)


def test_every_rule_on_the_risky_revision_with_its_line():
    revision, findings = risky()
    lines = revision.source
    found = {(f.rule, f.line) for f in findings}

    def line_of(text):
        return next(n for n, line in enumerate(lines, 1) if text in line)

    assert ("drop-column", line_of('"nickname"')) in found
    assert ("alter-type", line_of("BigInteger")) in found  # inside batch_alter_table
    assert ("non-transactional", line_of("autocommit_block")) in found
    # the CONCURRENTLY index inside that block is the same operation: said once, for the block
    assert ("non-transactional", line_of("postgresql_concurrently")) not in found
    assert ("unique-constraint-locks", line_of("create_unique_constraint")) in found
    assert ("not-null-without-default", line_of('"plan"')) in found
    assert ("drop-table", line_of("DROP TABLE legacy")) in found  # raw SQL meets op.*'s rules
    assert ("backfill-with-constraint", line_of("create_unique_constraint")) in found
    bio = next(f for f in findings if f.rule == "drop-column" and "bio" in f.message)
    assert bio.accepted and bio.reason == "bio moved to profiles in r0 release v0.9"
    assert {f.rule for f in risks.blocking(findings)} == {
        "drop-column",
        "alter-type",
        "not-null-without-default",
        "drop-table",
    }


def test_severity_override_and_allow_input():
    _, findings = risky(
        severities={"drop-column": "off", "non-transactional": "error"},
        allowed={("r2", "raw-sql-destructive"): "legacy was empty since v0.5"},
    )
    assert not any(f.rule == "drop-column" for f in findings)
    assert all(f.severity == "error" for f in findings if f.rule == "non-transactional")
    raw = next(f for f in findings if f.rule == "drop-table")  # accepted under its former rule's name
    assert raw.accepted and raw.reason == "legacy was empty since v0.5"


def test_clean_migrations_have_no_findings_but_the_accepted_one():
    findings = [f for r in load("linear") for f in risks.analyse(r)]
    assert [(f.rule, f.revision, f.accepted) for f in findings] == [("index-locks-writes", "a3", True)]
    assert findings[0].reason == "users holds a few hundred rows: the lock lasts milliseconds"


def test_an_index_on_an_existing_table_without_concurrently_is_flagged():
    assert analysed('def upgrade():\n    op.create_index("ix_a", "users", ["a"])\n') == {("index-locks-writes", 5)}
    assert (
        analysed(
            "def upgrade():\n"
            '    op.create_table("things", sa.Column("id", sa.Integer))\n'
            '    op.create_index("ix_things", "things", ["id"])\n'
        )
        == set()
    )


def test_comment_without_reason_does_not_accept():
    source = (
        'revision = "z"\ndown_revision = None\n\n\ndef upgrade():\n'
        '    op.drop_table("t")  # preflight: allow drop-table\n'
    )
    path = Path("z.py")
    rev = scripts.Revision("z", (), path, 1, ast.parse(source), source.splitlines())
    [finding] = risks.analyse(rev)
    assert finding.rule == "drop-table" and not finding.accepted


def test_a_revision_in_another_encoding_with_a_coding_line_is_read(tmp_path):
    """PEP 263: Python reads `# -*- coding: latin-1 -*-` files; so does the preflight (it was
    an internal error). Bytes that are no text in any declared encoding are bad input."""
    from deploy_actions.errors import UsageError
    from deploy_actions.migrations import scripts

    path = tmp_path / "a1_café.py"
    path.write_bytes(
        '# -*- coding: latin-1 -*-\n"""ajoute la table café"""\nrevision = \'a1\'\ndown_revision = None\n\n'
        "def upgrade():\n    pass\n".encode("latin-1")
    )
    revision = scripts.read(path)
    assert revision.revision == "a1" and "café" in "\n".join(revision.source)
    broken = tmp_path / "b2.py"
    broken.write_bytes(b"revision = 'b2'\n# \xff\xfe not utf-8\n")
    with pytest.raises(UsageError, match=r"b2.py:2: byte 0xff is not utf-8; .*PEP 263") as raised:
        scripts.read(broken)
    assert raised.value.line == 2


def findings_of(body: str) -> list:
    """The findings of a revision whose module is `body` (with upgrade() in it)."""
    source = 'revision = "x1"\ndown_revision = None\n\n' + body
    rev = scripts.Revision("x1", (), Path("x1.py"), 1, ast.parse(source), source.splitlines())
    return risks.analyse(rev)


def analysed(body: str):
    return {(f.rule, f.line) for f in findings_of(body)}


def messages(body: str):
    return {(f.line, f.rule, f.message) for f in findings_of(body)}


def test_a_foreign_key_dropped_to_be_recreated_is_the_recreation_not_a_drop():
    found = analysed(
        "def upgrade():\n"
        '    op.drop_constraint("fk_items_user", "items", type_="foreignkey")\n'
        '    op.create_foreign_key("fk_items_user", "items", "users", ["user_id"], ["id"], ondelete="CASCADE")\n'
    )
    assert found == {("constraint-full-scan", 6)}
    assert (
        analysed(
            "def upgrade():\n"
            '    op.create_foreign_key("fk_a", "items", "users", ["u"], ["id"], postgresql_not_valid=True)\n'
        )
        == set()
    )


def test_constraints_on_tables_created_in_the_same_revision_are_fine():
    assert (
        analysed(
            "def upgrade():\n"
            '    op.create_table("things", sa.Column("id", sa.Integer))\n'
            '    op.create_unique_constraint("uq_things", "things", ["id"])\n'
            '    op.create_check_constraint("ck_things", "things", "id > 0")\n'
        )
        == set()
    )
    assert analysed('def upgrade():\n    op.create_check_constraint("ck_users", "users", "age > 0")\n') == {
        ("constraint-full-scan", 5)
    }


def test_dropping_a_temporary_table_it_created_is_not_destructive():
    assert (
        analysed(
            "def upgrade():\n"
            '    op.execute("CREATE TEMPORARY TABLE scratch AS SELECT id FROM users; '
            'UPDATE users SET x = 1; DROP TABLE scratch")\n'
        )
        == set()
    )
    assert analysed('def upgrade():\n    op.execute("CREATE TEMP TABLE s (id int); DROP TABLE s, users")\n') == {
        ("drop-table", 5)
    }


def test_operations_in_helpers_and_sql_through_a_connection_are_found():
    found = analysed(
        "def _rename(table):\n"
        '    op.alter_column(table, "name", new_column_name="title")\n\n\n'
        "def _cleanup(conn):\n"
        '    conn.execute(sa.text("DELETE FROM audit"))\n\n\n'
        "def upgrade():\n"
        '    _rename("posts")\n'
        "    conn = op.get_bind()\n"
        "    _cleanup(conn)\n"
        '    conn.execute(sa.text("DROP TABLE old_posts"))\n'
        '    op.get_bind().execute(sa.text("TRUNCATE sessions"))\n'
        '    op.execute(sa.schema.DropSequence(sa.Sequence("post_ids")))\n'
    )
    assert ("rename-column", 5) in found and ("raw-sql-destructive", 9) in found  # in helpers
    assert ("drop-table", 16) in found and ("raw-sql-destructive", 17) in found
    assert ("raw-sql-destructive", 18) in found  # DropSequence


def test_a_concurrent_index_block_is_one_finding_and_none_when_it_follows_the_advice():
    """The rule's advice: alone in its revision, safe to run again. A block that does that
    is no finding; one that does not is one finding, for the block."""
    unguarded = analysed(
        "def upgrade():\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_a", "users", ["a"], postgresql_concurrently=True)\n'
    )
    assert unguarded == {("non-transactional", 5)}
    assert (
        analysed(
            "def upgrade():\n"
            "    with op.get_context().autocommit_block():\n"
            '        op.create_index("ix_a", "users", ["a"], postgresql_concurrently=True, if_not_exists=True)\n'
            '        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_b ON users (b)")\n'
            "        op.execute(\"ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived'\")\n"
        )
        == set()
    )
    not_alone = analysed(
        "def upgrade():\n"
        '    op.add_column("users", sa.Column("c", sa.Integer()))\n'
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_b ON users (b)")\n'
    )
    assert not_alone == {("non-transactional", 6)}


def labelled(rev, down=(), labels=()):
    return scripts.Revision(rev, tuple(down), Path(f"{rev}.py"), 1, ast.parse(""), branch_labels=tuple(labels))


def test_expected_heads_by_number_and_by_branch_label():
    """Expand/contract layouts keep two heads on purpose; the graph check takes that."""
    history = [
        labelled("base"),
        labelled("e1", ["base"], ["expand"]),
        labelled("e2", ["e1"]),
        labelled("c1", ["base"], ["contract"]),
    ]
    assert graph.build(history, 2).problems == []
    assert graph.build(history, ("expand", "contract")).problems == []
    [one] = graph.build(history).problems
    assert one.rule == "multiple-heads" and "alembic merge" in one.message
    [three] = graph.build(history, 3).problems
    assert "2 head(s) (c1, e2), expected 3" in three.message
    [labels] = graph.build(history, ("expand", "hotfix")).problems
    assert "c1: no expected label" in labels.message and "e2: expand" in labels.message
    assert graph.build(history[:2], ("expand",)).problems == []


def test_revision_ids_given_by_module_constants_are_resolved(tmp_path):
    path = tmp_path / "c3.py"
    path.write_text('REV = "c3"\nPARENTS = ("c1", C2)\nC2 = "c2"\nrevision = REV\ndown_revision = PARENTS\n')
    rev = scripts.read(path)
    assert rev.revision == "c3" and rev.down == ("c1", "c2") and rev.line == 4
    path.write_text("revision = make_id()\n")
    with pytest.raises(UsageError, match=r"c3.py:1: `revision` cannot be resolved without running the file"):
        scripts.read(path)


@pytest.mark.parametrize(
    "separator,value",
    [
        ("version_path_separator = os", "%(here)s/a:%(here)s/b"),
        ("path_separator = os", "%(here)s/a:%(here)s/b"),
        ("version_path_separator = ;", "%(here)s/a;%(here)s/b"),
        ("version_path_separator = space", "%(here)s/a %(here)s/b"),
        ("", "%(here)s/a, %(here)s/b"),
    ],
)
def test_several_version_locations_split_as_alembic_splits_them(tmp_path, separator, value):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = migrations\nversion_locations = {value}\n{separator}\n"
    )
    folders = scripts.script_location(tmp_path / "alembic.ini")
    assert [f.name for f in folders] == ["a", "b"]


@pytest.mark.parametrize("recursive", ["", "recursive_version_locations = true\n"])
def test_a_folder_and_its_subfolder_as_locations_are_read_once(tmp_path, recursive):
    """alembic reads only each location's own files unless recursive_version_locations is on;
    a subfolder listed beside its parent is no duplicate revision either way."""
    (tmp_path / "migrations" / "versions" / "sub" / "deeper").mkdir(parents=True)
    versions = tmp_path / "migrations" / "versions"
    (versions / "a1.py").write_text('revision = "a1"\ndown_revision = None\n')
    (versions / "sub" / "b1.py").write_text('revision = "b1"\ndown_revision = "a1"\n')
    (versions / "sub" / "deeper" / "c1.py").write_text('revision = "c1"\ndown_revision = "b1"\n')
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n"
        "version_locations = %(here)s/migrations/versions %(here)s/migrations/versions/sub\n" + recursive
    )
    config = tmp_path / "alembic.ini"
    found = scripts.load_project(config)
    expected = ["a1", "b1", "c1"] if recursive else ["a1", "b1"]
    assert sorted(r.revision for r in found) == expected


def test_messages_name_the_table_and_column_however_they_are_given():
    """Keyword arguments and batch operations name the column right (issue 13: "makes an
    existing column of NOT NULL" and "a column of 'byte_count'" were wrong)."""
    source = (
        'revision = "x1"\ndown_revision = None\n\n'
        "def upgrade():\n"
        '    op.alter_column("events", column_name="byte_count", nullable=False)\n'
        '    op.alter_column(table_name="events", column_name="size", new_column_name="size_bytes")\n'
        '    with op.batch_alter_table("events") as batch_op:\n'
        '        batch_op.alter_column("kind", nullable=False, type_=sa.Text())\n'
        '        batch_op.add_column(sa.Column("flags", sa.Integer(), nullable=False))\n'
        '        batch_op.drop_column("legacy")\n'
        '        batch_op.create_index("ix_events_kind", ["kind"])\n'
        '    op.drop_column(table_name="events", column_name="old")\n'
        '    op.rename_table("events", "event_log")\n'
    )
    rev = scripts.Revision("x1", (), Path("x1.py"), 1, ast.parse(source), source.splitlines())
    messages = {(f.line, f.message) for f in risks.analyse(rev)}
    assert messages == {
        (5, "makes existing column 'events.byte_count' NOT NULL"),
        (6, "renames column 'events.size' to 'size_bytes'"),
        (8, "changes the type of column 'events.kind'"),
        (8, "makes existing column 'events.kind' NOT NULL"),
        (9, "adds NOT NULL column 'events.flags' without server_default (fails on a non-empty table)"),
        (10, "drops column 'events.legacy'"),
        (11, "creates an index on existing table 'events' without CONCURRENTLY"),
        (12, "drops column 'events.old'"),
        (13, "renames table 'events' to 'event_log'"),
    }


def test_volatile_defaults_rewrite_existing_tables_only():
    found = analysed(
        "def upgrade():\n"
        '    op.add_column("users", sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))\n'
        '    op.add_column("users", sa.Column("seen_at", sa.DateTime(), server_default=sa.text("now()")))\n'
        '    op.add_column("users", sa.Column("salt", sa.Float(), server_default=sa.func.random()))\n'
        '    op.create_table("keys", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    op.add_column("keys", sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))\n'
    )
    assert found == {("volatile-default", 5), ("volatile-default", 7)}  # now() is stored once; keys is new


def test_changes_to_a_table_created_earlier_in_the_revision_are_fine():
    """A table the revision creates is new, empty and unused: dropping, renaming or retyping it
    later in the same revision breaks no running version and loses no row."""
    assert (
        analysed(
            "def upgrade():\n"
            '    op.create_table("staging", sa.Column("id", sa.Integer))\n'
            '    op.add_column("staging", sa.Column("n", sa.Integer(), nullable=False))\n'
            '    op.alter_column("staging", "n", type_=sa.BigInteger())\n'
            '    op.rename_table("staging", "imports")\n'
            '    op.drop_column("imports", "n")\n'
            '    op.drop_table("imports")\n'
        )
        == set()
    )
    # the same operations before the table is created, or on another table, are flagged
    found = analysed(
        "def upgrade():\n"
        '    op.drop_table("staging")\n'
        '    op.create_table("staging", sa.Column("id", sa.Integer))\n'
        '    op.drop_column("users", "n")\n'
    )
    assert found == {("drop-table", 5), ("drop-column", 7)}


@pytest.mark.parametrize(
    "existing,new,flagged",
    [
        ("sa.String(length=255)", "sa.String(length=320)", False),
        ("sa.VARCHAR(255)", "sa.Text()", False),
        ("sa.String(50)", "sa.String()", False),
        ("postgresql.VARCHAR(length=20)", "sa.Unicode(20)", False),
        ("sa.Numeric(10, 2)", "sa.Numeric(12, 2)", False),
        ("sa.Numeric(precision=10, scale=2)", "sa.Numeric()", False),
        ("sa.String(10)", "sa.String(5)", True),  # shorter: every row checked, may fail
        ("sa.Text()", "sa.String(100)", True),
        ("sa.Numeric(10, 2)", "sa.Numeric(12, 4)", True),  # another scale: rewrite
        ("sa.Integer()", "sa.BigInteger()", True),  # rewrite
        (None, "sa.String(320)", True),  # the old type unknown: cannot tell
    ],
)
def test_widening_a_varchar_or_numeric_is_not_a_type_change(existing, new, flagged):
    old = f", existing_type={existing}" if existing else ""
    found = analysed(f'def upgrade():\n    op.alter_column("users", "email"{old}, type_={new})\n')
    assert (("alter-type", 5) in found) is flagged


def test_upgrades_dispatched_by_engine_name_are_read():
    """alembic's multidb template: upgrade(engine_name) calls upgrade_<engine>() by name."""
    found = analysed(
        "def upgrade(engine_name):\n"
        '    globals()["upgrade_%s" % engine_name]()\n\n\n'
        "def upgrade_engine1():\n"
        '    op.drop_column("users", "bio")\n\n\n'
        "def downgrade_engine1():\n"
        '    op.drop_table("users")\n'
    )
    assert found == {("drop-column", 9)}


def test_deleting_rows_is_a_warning_and_deleting_every_row_an_error():
    found = analysed(
        "def upgrade():\n"
        "    conn = op.get_bind()\n"
        "    conn.execute(sa.text(\"DELETE FROM sessions WHERE created_at < now() - interval '30 days'\"))\n"
        "    op.execute(sessions.delete().where(sessions.c.user_id.is_(None)))\n"
        "    op.execute(sa.delete(tokens).where(tokens.c.expired))\n"
        "    op.execute(tokens.delete(tokens.c.expired))\n"
        "    op.execute(sa.delete(tokens))\n"
        '    op.execute("UPDATE users SET active = true WHERE active IS NULL")\n'
    )
    assert found == {("delete-rows", 6), ("delete-rows", 7), ("delete-rows", 8), ("delete-rows", 9)} | {
        ("raw-sql-destructive", 10)
    }


def test_a_primary_key_on_an_existing_table_builds_its_index_under_a_lock():
    found = analysed('def upgrade():\n    op.create_primary_key("pk_events", "events", ["id"])\n')
    assert found == {("unique-constraint-locks", 5)}


def test_a_backfill_counts_with_a_constraint_on_the_table_it_fills():
    """Rows written and a constraint added in one transaction hold the table's lock for the
    whole backfill; rows written to another table do not."""
    same = analysed(
        "def upgrade():\n"
        "    op.execute(\"UPDATE public.users SET plan = 'free' WHERE plan IS NULL\")\n"
        '    op.alter_column("users", "plan", nullable=False)\n'
    )
    assert ("backfill-with-constraint", 6) in same
    other = analysed(
        'audit = sa.table("audit", sa.column("id"))\n\n\n'
        "def upgrade():\n"
        '    op.bulk_insert(audit, [{"id": 1}])\n'
        "    op.execute(\"INSERT INTO audit_log (note) VALUES ('plan added')\")\n"
        '    op.alter_column("users", "plan", nullable=False)\n'
    )
    assert ("backfill-with-constraint", 10) not in other and ("not-null-existing", 10) in other
    unknown = analysed(
        'def upgrade():\n    op.bulk_insert(make_table(), [])\n    op.alter_column("users", "plan", nullable=False)\n'
    )
    assert ("backfill-with-constraint", 6) in unknown  # the filled table cannot be told: assume it is this one


def test_alembic_settings_from_pyproject_toml(tmp_path):
    """alembic 1.16+ reads [tool.alembic] in pyproject.toml where alembic.ini does not set
    an option (`alembic init --template pyproject`); version_locations is a list there."""
    for folder in ("migrations/versions", "extra"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "migrations" / "versions" / "a1.py").write_text('revision = "a1"\ndown_revision = None\n')
    (tmp_path / "extra" / "b1.py").write_text('revision = "b1"\ndown_revision = "a1"\n')
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.alembic]\nscript_location = "%(here)s/migrations"\n'
        'version_locations = ["%(here)s/migrations/versions", "%(here)s/extra"]\n'
    )
    # alembic.ini with only the URL and logging, as the pyproject template writes it
    (tmp_path / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = postgresql://u:p%40ss@127.0.0.1/db\n")
    found = scripts.load_project(tmp_path / "alembic.ini")
    assert sorted(r.revision for r in found) == ["a1", "b1"]
    (tmp_path / "alembic.ini").unlink()  # no ini at all
    assert len(scripts.load_project(tmp_path / "alembic.ini")) == 2
    assert len(scripts.load_project(tmp_path / "pyproject.toml")) == 2
    # option by option, the ini wins where both set it
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    assert len(scripts.load_project(tmp_path / "alembic.ini")) == 2  # version_locations still from the toml
    (tmp_path / "alembic.ini").write_text("[alembic]\nversion_locations = %(here)s/migrations/versions\n")
    assert [r.revision for r in scripts.load_project(tmp_path / "alembic.ini")] == ["a1"]


def test_pyproject_toml_that_is_not_toml_is_bad_input(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.alembic\n")
    with pytest.raises(UsageError, match=r"pyproject.toml is not valid TOML"):
        scripts.load_project(tmp_path / "alembic.ini")
    (tmp_path / "pyproject.toml").write_text("[tool.alembic]\nsourceless = false\n")
    (tmp_path / "alembic.ini").write_text("[loggers]\nkeys = root\n")
    expected = r"has no \[alembic\] script_location, nor .*pyproject.toml a \[tool.alembic\] one"
    with pytest.raises(UsageError, match=expected):
        scripts.load_project(tmp_path / "alembic.ini")


def test_an_f_string_table_is_unknown_not_the_next_word():
    found = analysed(
        'TABLE = "users"\n\n\n'
        "def upgrade():\n"
        "    op.execute(f\"UPDATE {TABLE} SET plan = 'free' WHERE plan IS NULL\")\n"
        '    op.alter_column(TABLE, "plan", nullable=False)\n'
        '    op.execute(f"DROP TABLE {TABLE}_old")\n'
    )
    assert ("backfill-with-constraint", 9) in found and ("drop-table", 10) in found


def test_a_package_resource_script_location_is_found_in_the_source_tree(tmp_path):
    """`script_location = myapp.db:migrations` names a folder inside an installed package:
    found in the checkout (beside alembic.ini or under src/), never by importing it."""
    versions = tmp_path / "src" / "myapp" / "db" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a1.py").write_text('revision = "a1"\ndown_revision = None\n')
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = myapp.db:migrations\n")
    assert [r.revision for r in scripts.load_project(tmp_path / "alembic.ini")] == ["a1"]
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = otherapp:migrations\n")
    with pytest.raises(UsageError, match=r"'otherapp:migrations' is a package resource and no folder .*otherapp"):
        scripts.load_project(tmp_path / "alembic.ini")


def test_names_wrapped_in_op_f_are_read_and_unnamed_ones_never_match():
    """`op.f("ix_…")` is autogenerate's spelling of a name; two unnamed constraints are not
    "the same constraint dropped and re-created"."""
    assert messages(
        "def upgrade():\n"
        '    op.drop_index(op.f("ix_users_email"), table_name="users")\n'
        '    op.drop_constraint(op.f("fk_a_b"), "a", type_="foreignkey")\n'
        '    op.create_index(op.f("ix_a_c"), "a", ["c"])\n'
        '    op.drop_constraint(None, "a")\n'
    ) == {
        (5, "drop-index", "drops index 'ix_users_email' of 'users'"),
        (6, "drop-constraint", "drops constraint 'fk_a_b' of 'a'"),
        (7, "index-locks-writes", "creates an index on existing table 'a' without CONCURRENTLY"),
        (8, "drop-constraint", "drops constraint of 'a'"),
    }


def test_adding_an_enum_value_says_what_the_postgresql_version_changes():
    found = analysed("def upgrade():\n    op.execute(\"ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived'\")\n")
    assert found == {("non-transactional", 5)}
    source = "def upgrade():\n    op.execute(\"ALTER TYPE status ADD VALUE 'archived'\")\n"
    rev = scripts.Revision("x1", (), Path("x1.py"), 1, ast.parse(source), source.splitlines())
    [finding] = risks.analyse(rev)
    assert finding.rule == "non-transactional" and "PostgreSQL < 12 cannot in a transaction" in finding.message


def test_each_batch_block_keeps_its_own_table():
    """Two `with … as batch_op` blocks: each operation belongs to its own block's table. The
    second block's drop_column on an existing table was attributed to the first block's
    new table, and so skipped."""
    assert messages(
        "def upgrade():\n"
        '    op.create_table("fresh", sa.Column("id", sa.Integer()))\n'
        '    with op.batch_alter_table("fresh") as batch_op:\n'
        '        batch_op.add_column(sa.Column("a", sa.Integer(), nullable=False))\n'
        '    with op.batch_alter_table("orders") as batch_op:\n'
        '        batch_op.drop_column("legacy")\n'
        '        batch_op.alter_column("total", nullable=False)\n'
    ) == {
        (9, "drop-column", "drops column 'orders.legacy'"),
        (10, "not-null-existing", "makes existing column 'orders.total' NOT NULL"),
    }


@pytest.mark.parametrize(
    "body, expected",
    [
        (  # autogenerate's spelling of "change this foreign key": both unnamed
            '    op.drop_constraint(None, "items", type_="foreignkey")\n'
            '    op.create_foreign_key(None, "items", "users", ["user_id"], ["id"], ondelete="CASCADE")\n',
            {"constraint-full-scan"},
        ),
        (  # re-created under another name
            '    op.drop_constraint("uq_items_old", "items", type_="unique")\n'
            '    op.create_unique_constraint("uq_items_sku", "items", ["sku"])\n',
            {"unique-constraint-locks"},
        ),
        (
            '    op.drop_index("ix_items_old", table_name="items")\n'
            '    op.create_index("ix_items_sku", "items", ["sku"])\n',
            {"index-locks-writes"},
        ),
        (  # the constraint goes with its column: the column's drop is the finding
            '    op.drop_constraint("fk_items_user_id_users", "items", type_="foreignkey")\n'
            '    op.drop_column("items", "user_id")\n',
            {"drop-column"},
        ),
        (
            '    op.drop_index("ix_items_sku", table_name="items")\n    op.drop_table("items")\n',
            {"drop-table"},
        ),
        (  # another kind on the same table replaces nothing
            '    op.drop_constraint("fk_items_user", "items", type_="foreignkey")\n'
            '    op.create_unique_constraint("uq_items_sku", "items", ["sku"])\n',
            {"drop-constraint", "unique-constraint-locks"},
        ),
        (  # the same kind on another table replaces nothing
            '    op.drop_index("ix_items_sku", table_name="items")\n'
            '    op.create_index("ix_orders_sku", "orders", ["sku"])\n',
            {"drop-index", "index-locks-writes"},
        ),
    ],
)
def test_a_drop_paired_with_its_replacement_or_its_column_is_no_finding_of_its_own(body, expected):
    assert {rule for rule, _ in analysed("def upgrade():\n" + body)} == expected


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("ALTER TABLE users RENAME COLUMN name TO full_name", {"rename-column"}),
        ("ALTER TABLE users RENAME TO members", {"rename-table"}),
        ("CREATE INDEX ix_users_a ON users (a)", {"index-locks-writes"}),
        ("ALTER TABLE orders ADD COLUMN id2 BIGSERIAL", {"volatile-default"}),
        ("ALTER TABLE orders ADD COLUMN n integer NOT NULL", {"not-null-without-default"}),
        ("ALTER TABLE orders ADD COLUMN n integer NOT NULL DEFAULT 0", set()),
        ("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2)", {"alter-type"}),
        ("ALTER TABLE orders ALTER COLUMN total SET NOT NULL", {"not-null-existing"}),
        ("ALTER TABLE orders DROP CONSTRAINT fk_orders_user", {"drop-constraint"}),
        ("ALTER TABLE orders ADD CONSTRAINT fk_u FOREIGN KEY (u) REFERENCES users (id)", {"constraint-full-scan"}),
        ("ALTER TABLE orders ADD CONSTRAINT fk_u FOREIGN KEY (u) REFERENCES users (id) NOT VALID", set()),
        ("ALTER TABLE orders ADD CONSTRAINT uq UNIQUE USING INDEX ix_orders_sku", set()),
        ("WITH gone AS (DELETE FROM sessions RETURNING id) SELECT count(*) FROM gone", {"raw-sql-destructive"}),
        ("WITH gone AS (DELETE FROM sessions WHERE expired RETURNING id) SELECT 1", {"delete-rows"}),
        ("-- DROP COLUMN legacy comes in the next release\nUPDATE users SET plan = 'free' WHERE plan IS NULL", set()),
        ("CREATE TABLE things (id int); CREATE INDEX ix_things ON things (id)", set()),
        ("DROP SCHEMA reporting CASCADE", {"raw-sql-destructive"}),
        ("DROP INDEX CONCURRENTLY ix_users_a", {"drop-index", "non-transactional"}),
    ],
)
def test_raw_sql_is_read_by_postgresqls_parser_and_meets_the_same_rules(sql, expected):
    found = analysed(f"def upgrade():\n    op.execute({sql!r})\n")
    assert {rule for rule, _ in found} == expected


def test_sql_held_in_a_variable_and_a_backfill_inside_a_with():
    found = analysed(
        "def upgrade():\n"
        '    q = "ALTER TABLE users DROP COLUMN legacy"\n'
        "    op.execute(q)\n"
        '    fill = sa.text("WITH f AS (SELECT id FROM users) UPDATE users SET plan = 1 FROM f WHERE id = f.id")\n'
        "    op.get_bind().execute(fill)\n"
        '    op.alter_column("users", "plan", nullable=False)\n'
    )
    assert ("drop-column", 6) in found and ("backfill-with-constraint", 9) in found


def test_sql_postgresql_cannot_parse_is_still_read_as_text():
    found = analysed('def upgrade():\n    op.execute("ALTER TABLE t DROP COLUMN c, ALGORITHM=INPLACE")\n')
    assert found == {("raw-sql-destructive", 5)}


@pytest.mark.parametrize(
    "backfill",
    [
        '    op.execute(sa.update(coupons).where(coupons.c.plan.is_(None)).values(plan="free"))\n',
        '    op.execute(coupons.update().values(plan="free"))\n',
        '    op.get_bind().execute(sa.insert(sa.table("coupons", sa.column("plan"))).values(plan="x"))\n',
        "    session = Session(bind=op.get_bind())\n    session.query(Coupon).update({Coupon.plan: 'free'})\n",
        "    with orm.Session(bind=op.get_bind()) as session:\n        session.add_all(rows)\n",
    ],
    ids=["sa.update(t)", "t.update()", "sa.insert(sa.table(…))", "session.query().update()", "session.add_all"],
)
def test_a_backfill_through_core_or_the_orm_then_a_constraint_is_found(backfill):
    found = analysed(
        'coupons = sa.table("coupons", sa.column("plan"))\n\n\n'
        "def upgrade():\n" + backfill + '    op.alter_column("coupons", "plan", nullable=False)\n'
    )
    assert "backfill-with-constraint" in {rule for rule, _ in found}


def test_an_orm_delete_deletes_rows():
    found = analysed(
        "def upgrade():\n    session = Session(bind=op.get_bind())\n"
        "    session.query(Token).filter(Token.expired).delete()\n"
    )
    assert found == {("delete-rows", 6)}


def test_a_severity_for_raw_sql_destructive_still_applies_to_raw_drops():
    _, findings = risky(severities={"raw-sql-destructive": "off"})
    assert not any(f.rule == "drop-table" and "SQL" in f.message for f in findings)
    _, findings = risky()
    assert any(f.rule == "drop-table" and "SQL" in f.message for f in findings)


def test_real_histories_classes_renames_dialect_branches_downgrade_types_and_named_tables():
    """Classes met in public histories the rules were not written from (benchmarks/unseen_alembic.py)."""
    # foreign keys dropped, the table renamed, the keys re-created on the new name: the re-creation counts
    renamed = analysed(
        "def upgrade():\n"
        '    with op.batch_alter_table("pipeline_deployment") as batch_op:\n'
        '        batch_op.drop_constraint("fk_pipeline_deployment_user_id_user", type_="foreignkey")\n'
        '    op.rename_table("pipeline_deployment", "pipeline_snapshot")\n'
        '    with op.batch_alter_table("pipeline_snapshot") as batch_op:\n'
        '        batch_op.create_foreign_key("fk_pipeline_snapshot_user_id_user", "user", ["user_id"], ["id"])\n'
    )
    assert {rule for rule, _ in renamed} == {"rename-table", "constraint-full-scan"}
    # a branch that runs only on another database is not the revision's on PostgreSQL
    guarded = analysed(
        "def upgrade():\n"
        '    if op.get_bind().dialect.name == "sqlite":\n'
        '        op.drop_column("spans", "a")\n'
        "    else:\n"
        '        op.drop_column("spans", "b")\n'
        '    if "postgresql" in inspector.dialect.dialect_description:\n'
        '        op.drop_column("spans", "c")\n'
    )
    assert guarded == {("drop-column", 8), ("drop-column", 10)}
    early = analysed(
        "def upgrade():\n"
        '    if "mysql" not in op.get_bind().dialect.name:\n'
        "        return\n"
        '    op.alter_column("bulk_actions", "body", type_=sa.Text())\n'
    )
    assert early == set()
    # the type downgrade() gives back is what upgrade() changed: varchar to text widens;
    # FLOAT to FLOAT(53) is double precision both ways on PostgreSQL; real to double is not
    widened = analysed(
        "PRECISION = 53\n\n"
        "def upgrade():\n"
        '    op.alter_column("attrs", "value_json", type_=sa.TEXT)\n'
        '    op.alter_column("values", "value", type_=Float(precision=PRECISION))\n'
        '    op.alter_column("values", "small", type_=sa.Float(precision=53))\n\n'
        "def downgrade():\n"
        '    op.alter_column("attrs", "value_json", type_=sa.String(2048))\n'
        '    op.alter_column("values", "value", type_=Float)\n'
        '    op.alter_column("values", "small", type_=sa.REAL)\n'
    )
    assert widened == {("alter-type", 9)}
    # a table named by an expression (a model's __tablename__, a constant) is one table throughout
    named = analysed(
        'TABLE_NAME = "checks"\n\n'
        "def upgrade():\n"
        "    op.create_table(SqlSpan.__tablename__, sa.Column('id', sa.Integer))\n"
        "    with op.batch_alter_table(SqlSpan.__tablename__) as batch_op:\n"
        '        batch_op.create_index("ix_spans_a", ["a"])\n'
        "    op.create_table(TABLE_NAME, sa.Column('id', sa.Integer))\n"
        '    op.create_index("ix_checks_a", TABLE_NAME, ["a"])\n'
        '    op.create_index("ix_other_a", OTHER.__tablename__, ["a"])\n'
    )
    assert named == {("index-locks-writes", 12)}
    assert (
        "existing table 'OTHER.__tablename__'"
        in {
            m for _, _, m in messages('def upgrade():\n    op.create_index("ix_other_a", OTHER.__tablename__, ["a"])\n')
        }.pop()
    )


@pytest.mark.parametrize(
    ("output", "tables"),
    [
        (
            "(psycopg.errors.LockNotAvailable) canceling statement due to lock timeout\n"
            "[SQL: ALTER TABLE users ADD note TEXT]",
            ["users"],
        ),
        ('[SQL: ALTER TABLE public."Orders" DROP COLUMN legacy]', ["Orders"]),
        ("[SQL: CREATE INDEX ix_email ON accounts (email)]", ["accounts"]),
        ("[SQL: UPDATE accounts SET x = 1 WHERE id IN (SELECT id FROM other)]", ["accounts"]),
        # the deploy script's message, the statement cut at 160 characters: read by its keywords
        (
            "migration stopped waiting for a lock on: ALTER TABLE ONLY billing.invoices ADD COLUMN n TEXT "
            "DEFAULT 'cut her after 2 tries: x",
            ["billing.invoices"],
        ),
        ("ERROR:  canceling statement due to lock timeout", []),  # psql names no statement
    ],
)
def test_a_lock_timeout_names_the_table_it_waited_for(output, tables):
    from deploy_actions.migrations.timeouts import explain, locked_tables

    assert locked_tables(output) == tables
    said = explain("the migration stopped waiting for a lock", output)
    assert "pg_blocking_pids" in said and all(t in said for t in tables)
    assert explain("the migration exited 1", "ModuleNotFoundError: alembic") == "the migration exited 1"
