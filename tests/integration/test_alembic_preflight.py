"""alembic-preflight on the fixture projects against the real PostgreSQL of scripts/services,
running the projects' own alembic (from .venv) in their own folders."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import free_port, read_outputs
from deploy_actions.cli import main
from deploy_actions.migrations import database
from deploy_actions.migrations.alembic_cli import Alembic
from deploy_support import ArgvSampler

pytestmark = pytest.mark.services
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alembic"


@pytest.fixture
def pg(services):
    return services["DA_POSTGRES_URL"]


def preflight_databases(url):
    with database.connect(url, "database-url") as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'preflight_%'")}


def unmasked(out: str) -> str:
    return "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))


def run(gha_env, capsys, project, *args, url=None):
    env = {**gha_env, **({"INPUT_DATABASE_URL": url} if url else {})}
    code = main(["alembic-preflight", "--working-directory", str(FIXTURES / project), *args], env=env)
    out = capsys.readouterr().out
    outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
    Path(gha_env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
    return code, out, outputs


def test_clean_chain_passes_everything(gha_env, capsys, pg, tmp_path):
    before = preflight_databases(pg)
    sql = tmp_path / "upgrade.sql"
    password = urlsplit(pg).password
    with ArgvSampler(password, pg) as sampler:  # alembic gets the URL in its environment, never its argv
        code, out, outputs = run(
            gha_env, capsys, "linear", "--round-trip", "--check-models", "--sql-path", str(sql), url=pg
        )
    assert code == 0, out
    assert sampler.samples > 10 and sampler.found == []
    assert outputs["head"] == "a3" and outputs["heads"] == "a3" and outputs["passed"] == "true"
    findings = json.loads(outputs["findings"])  # one, accepted in place: nothing to annotate
    assert [(f["rule"], f["accepted"]) for f in findings] == [("index-locks-writes", True)]
    assert outputs["sql-path"] == str(sql) and "::warning" not in out
    text = sql.read_text()
    assert "CREATE TABLE users" in text and "CREATE INDEX ix_users_email" in text and "INFO" not in text
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    for step in ("one head, complete graph", "upgrade to head", "models match migrations", "round trip", "offline SQL"):
        assert f"| {step} | ✅ |" in summary
    assert preflight_databases(pg) == before  # every throwaway database dropped
    assert "::add-mask::" in out and urlsplit(pg).password not in unmasked(out)


def test_two_heads_fail_with_a_merge_suggestion(gha_env, capsys):
    code, out, outputs = run(gha_env, capsys, "two_heads")
    assert code == 1
    assert outputs["heads"] == "b2\nb3" and outputs["head"] == "" and outputs["passed"] == "false"
    assert "alembic-preflight%3A multiple-heads" in out and "alembic merge" in out


def test_two_heads_on_purpose_pass_and_are_upgraded_together(gha_env, capsys, pg):
    """An expand/contract layout keeps two heads: declared, they pass, and the rehearsal
    runs `upgrade heads` on the throwaway database."""
    code, out, outputs = run(gha_env, capsys, "two_heads", "--expected-heads", "2", url=pg)
    assert code == 0, out
    assert outputs["heads"] == "b2\nb3" and outputs["passed"] == "true"
    assert "::group::alembic upgrade heads" in out  # both branches applied (it fails on a broken branch)
    assert "| upgrade to heads | ✅ |" in Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_risky_migrations_are_annotated_and_accepted_ones_summarised(gha_env, capsys):
    code, out, outputs = run(gha_env, capsys, "risky")
    assert code == 1
    findings = json.loads(outputs["findings"])
    assert {f["rule"] for f in findings if f["severity"] == "error" and not f["accepted"]} == {
        "drop-column",
        "alter-type",
        "not-null-without-default",
        "drop-table",  # DROP TABLE legacy in raw SQL: the same rule as op.drop_table
    }
    annotation = next(line for line in out.splitlines() if "drop-column" in line and line.startswith("::error"))
    assert "002_r2.py,line=12::" in annotation
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "accepted: bio moved to profiles" in summary
    code, out, _ = run(
        gha_env,
        capsys,
        "risky",
        "--severity",
        "drop-column=warning\nalter-type=off\nnot-null-without-default=warning\nraw-sql-destructive=warning",
    )
    assert code == 0, out


def test_failing_migration_leaves_nothing_and_the_throwaway_database_is_gone(gha_env, capsys, pg):
    before = preflight_databases(pg)
    code, out, outputs = run(gha_env, capsys, "fails_halfway", url=pg)
    assert code == 1
    assert "failed at revision f2" in out and 'relation "no_such_table" does not exist' in out
    assert preflight_databases(pg) == before
    # The same rehearsal by hand, looking inside before the database is dropped.
    alembic = Alembic.of(
        str(Path(shutil.which("alembic"))), FIXTURES / "fails_halfway", "alembic.ini", "DATABASE_URL", 120
    )
    with database.throwaway(pg) as url:
        name = urlsplit(url).path.lstrip("/")
        assert not alembic.run("upgrade", "head", url=url).ok
        assert database.current(url) == ["f1"]  # f2 was rolled back whole
        tables = {row[1] for row in database.schema(url) if row[0] == "table"}
        assert tables == {"things"}  # nothing of f2's half_made table
    assert not database.exists(pg, name)


def test_broken_downgrade_is_caught_by_the_round_trip(gha_env, capsys, pg):
    code, out, _ = run(gha_env, capsys, "broken_downgrade", "--round-trip", url=pg)
    assert code == 1 and "revision d2: downgrade() leaves the schema different" in out


def test_models_drifting_from_migrations(gha_env, capsys, pg):
    code, out, _ = run(gha_env, capsys, "drift", "--check-models", url=pg)
    assert code == 1 and "model-drift" in out and "phone" in out


def test_from_revision_rehearses_the_real_deploy(gha_env, capsys, pg):
    code, out, _ = run(gha_env, capsys, "linear", "--from-revision", "a1", url=pg)
    assert code == 0, out
    assert "| upgrade to from-revision | ✅ |" in Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_post_deploy_checks_the_target_is_at_head(gha_env, capsys, pg):
    alembic = Alembic.of(shutil.which("alembic"), FIXTURES / "linear", "alembic.ini", "DATABASE_URL", 120)
    with database.throwaway(pg) as target:
        assert alembic.run("upgrade", "a2", url=target).ok
        code, out, outputs = run(gha_env, capsys, "linear", "--mode", "post-deploy", url=target)
        assert code == 1 and outputs["passed"] == "false"
        assert "database at a2; migrations head a3" in out
        assert alembic.run("upgrade", "head", url=target).ok
        code, out, outputs = run(gha_env, capsys, "linear", "--mode", "post-deploy", url=target)
        assert code == 0 and outputs["passed"] == "true"


def test_unreachable_database_never_shows_the_password(gha_env, capsys):
    url = f"postgresql://app:sup3r-s3cret-pw@127.0.0.1:{free_port()}/postgres"
    code, out, _ = run(gha_env, capsys, "linear", url=url)
    assert code == 1 and f"PostgreSQL at 127.0.0.1:{urlsplit(url).port} is unreachable" in out
    assert "sup3r-s3cret-pw" not in unmasked(out)


def test_user_without_createdb_is_told_what_to_grant(gha_env, capsys, pg):
    role = f"nocreate_{uuid.uuid4().hex[:6]}"
    with database.connect(pg, "x") as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}' NOCREATEDB")
    try:
        parts = urlsplit(pg)
        url = urlunsplit(parts._replace(netloc=f"{role}:pw-{role}@{parts.hostname}:{parts.port}"))
        code, out, _ = run(gha_env, capsys, "linear", url=url)
        assert code == 1 and f"user '{role}' may not create databases" in out and f"ALTER ROLE {role} CREATEDB" in out
    finally:
        with database.connect(pg, "x") as conn:
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--working-directory", "/nonexistent"], "working-directory: '/nonexistent' is not a folder"),
        (["--config", "missing.ini"], "config: no alembic.ini at"),
        (["--mode", "post-deploy"], "database-url: is required in post-deploy mode"),
        (["--round-trip"], "database-url: round-trip, check-models and from-revision need database-url"),
        (["--severity", "drop-everything=error"], "severity: line 1: expected `rule=error|warning|notice|off`"),
    ],
)
def test_bad_input(gha_env, capsys, args, expected):
    code, out, _ = run(gha_env, capsys, "linear", *args)
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert code == 2 and len(errors) == 1 and expected in errors[0], out


def test_migration_that_is_not_python_is_annotated(gha_env, capsys):
    code, out, _ = run(gha_env, capsys, "syntax_error")
    assert code == 2
    assert "001_s1.py,line=5::migrations:" in out and "not valid Python" in out


def test_changed_since_limits_the_risk_analysis(gha_env, capsys, tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "risky", project)
    git = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(git + ["add", "-A"], cwd=project, check=True)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=project, check=True)
    subprocess.run(git + ["tag", "base"], cwd=project, check=True)
    new = project / "migrations" / "versions" / "003_r3.py"
    new.write_text(
        '"""r3"""\nfrom alembic import op\n\nrevision = "r3"\ndown_revision = "r2"\n\n\n'
        'def upgrade():\n    op.drop_table("users")\n\n\ndef downgrade():\n    pass\n'
    )
    subprocess.run(git + ["add", "-A"], cwd=project, check=True)
    subprocess.run(git + ["commit", "-qm", "r3"], cwd=project, check=True)
    code = main(
        ["alembic-preflight", "--working-directory", str(project), "--changed-since", "base"],
        env={**gha_env, "PATH": os.environ["PATH"]},
    )
    out = capsys.readouterr().out
    findings = json.loads(read_outputs(Path(gha_env["GITHUB_OUTPUT"]))["findings"])
    assert code == 1 and {f["revision"] for f in findings} == {"r3"} and findings[0]["rule"] == "drop-table", out


def test_squawk_lints_the_offline_sql(gha_env, capsys, tmp_path):
    sql = tmp_path / "up.sql"
    code, out, outputs = run(
        gha_env,
        capsys,
        "risky",
        "--sql-path",
        str(sql),
        "--squawk",
        "--severity",
        "drop-column=off\nalter-type=off\nnot-null-without-default=off\nraw-sql-destructive=off",
    )
    assert code == 0, out
    squawked = [f for f in json.loads(outputs["findings"]) if f["rule"].startswith("squawk:")]
    assert any(f["rule"] == "squawk:ban-drop-column" for f in squawked)
    drop = next(f for f in squawked if f["rule"] == "squawk:ban-drop-column")
    assert "DROP COLUMN" in sql.read_text().splitlines()[drop["line"] - 1].upper()
    assert f"file={sql}," in out


@pytest.mark.parametrize("ini", ["logging only", "none"])
def test_a_project_configured_in_pyproject_toml_is_rehearsed(gha_env, capsys, pg, tmp_path, ini):
    """`alembic init --template pyproject` (alembic 1.16+): script_location lives in
    pyproject.toml's [tool.alembic]; alembic.ini keeps only logging, or is not there. Both the
    reading of the history and the real upgrade find the migrations."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "linear", project)
    text = (project / "alembic.ini").read_text()
    (project / "alembic.ini").write_text(text.replace("[alembic]\nscript_location = %(here)s/migrations\n", ""))
    if ini == "none":
        (project / "alembic.ini").unlink()
    (project / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "%(here)s/migrations"\n')
    env = {**gha_env, "INPUT_DATABASE_URL": pg}
    code = main(["alembic-preflight", "--working-directory", str(project)], env=env)
    out = capsys.readouterr().out
    assert code == 0, out
    outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
    assert outputs["head"] == "a3" and outputs["passed"] == "true"
    assert "| upgrade to head | ✅ |" in Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_a_named_ini_section_and_a_package_resource_with_several_colons(gha_env, capsys, pg, tmp_path, monkeypatch):
    """`alembic -n core` with an alembic.ini that holds several databases' sections, and a
    script_location `app:db:migrations` (alembic splits on every colon): read and run as
    alembic does, upgrade included."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "linear", project)
    (project / "app" / "db").mkdir(parents=True)
    shutil.move(project / "migrations", project / "app" / "db" / "migrations")
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "db" / "__init__.py").write_text("")
    ini = (project / "alembic.ini").read_text()
    (project / "alembic.ini").write_text(
        ini.replace("[alembic]\nscript_location = %(here)s/migrations", "[core]\nscript_location = app:db:migrations")
        + "\n[reporting]\nscript_location = nowhere\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(project))  # alembic imports the package, as in the project's CI
    env = {**gha_env, "INPUT_DATABASE_URL": pg}
    code = main(["alembic-preflight", "--working-directory", str(project), "--ini-section", "core"], env=env)
    out = capsys.readouterr().out
    assert code == 0, out
    assert read_outputs(Path(gha_env["GITHUB_OUTPUT"]))["head"] == "a3"
    code = main(["alembic-preflight", "--working-directory", str(project)], env=env)
    assert code == 2 and "has no [alembic] script_location" in capsys.readouterr().out


def test_the_rehearsal_runs_with_the_deploys_lock_timeout_and_none_flags_strong_locks(gha_env, capsys, pg, tmp_path):
    """migration-lock-timeout reaches the rehearsal's PostgreSQL sessions (PGOPTIONS), as the
    deploy's; set to 0, a revision that locks an existing table without SET lock_timeout of
    its own (or in env.py) is flagged."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "linear", project)
    (project / "migrations" / "versions" / "004_a4.py").write_text(
        'revision = "a4"\ndown_revision = "a3"\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n'
        "def upgrade():\n"
        "    op.execute(\"DO $$ BEGIN IF current_setting('lock_timeout') <> '2s' THEN \"\n"
        "               \"RAISE EXCEPTION 'lock_timeout is %', current_setting('lock_timeout'); END IF; END $$\")\n"
        '    op.add_column("users", sa.Column("nick", sa.String(), nullable=True))\n\n\n'
        "def downgrade():\n"
        '    op.drop_column("users", "nick")\n'
    )
    env = {**gha_env, "INPUT_DATABASE_URL": pg}
    argv = ["--json", "alembic-preflight", "--working-directory", str(project)]
    code = main([*argv, "--migration-lock-timeout", "2s"], env=env)
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    assert "no-lock-timeout" not in {f["rule"] for f in document["findings"]}
    code = main([*argv, "--migration-lock-timeout", "0"], env=env)
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and "lock_timeout is 0" in json.dumps(document)  # the rehearsal had none
    flagged = [(Path(f["file"]).name, f["line"]) for f in document["findings"] if f["rule"] == "no-lock-timeout"]
    assert flagged == [("002_a2.py", 12), ("003_a3.py", 12), ("004_a4.py", 11)]  # each locks users
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text() + '\n# connect_args={"options": "-c lock_timeout=5s"}\n')
    code = main([*argv, "--migration-lock-timeout", "0"], env={**gha_env})
    document = json.loads(capsys.readouterr().out)
    assert "no-lock-timeout" not in {f["rule"] for f in document["findings"]}
