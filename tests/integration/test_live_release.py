"""alembic-preflight against the release that is live: a service whose git history has real
releases (tags), its models and SQL read at the tag, its pending revisions judged by what
that code still uses. Real git, no mocks; no database needed for this part."""

import json
import subprocess
from pathlib import Path

import pytest

from deploy_actions.cli import main

INI = "[alembic]\nscript_location = %(here)s/migrations\n"
HEAD = 'revision = "{rev}"\ndown_revision = {down}\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
MODELS_V1 = (
    "import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n"
    "class User(Base):\n"
    '    __tablename__ = "users"\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    '    display = sa.Column("legacy", sa.String)  # the attribute is not the column\'s name\n'
    "    email: Mapped[str]\n"
)
REPORT_V1 = "REPORT = \"SELECT a.kind, a.at FROM audit a WHERE a.at > now() - interval '1 day'\"\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def revision(root: Path, name: str, rev: str, down: str | None, body: str) -> None:
    text = HEAD.format(rev=rev, down=repr(down)) + "def upgrade():\n" + body + "\n\ndef downgrade():\n    pass\n"
    (root / "migrations" / "versions" / f"{name}.py").write_text(text)


def release(root: Path, tag: str | None = None) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", tag or "work")
    if tag:
        git(root, "tag", tag)


@pytest.fixture
def service(tmp_path):
    """v1.0.0: users(id, legacy, email) and audit, read by the models and a SQL report."""
    root = tmp_path / "service"
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "alembic.ini").write_text(INI)
    (root / "migrations" / "env.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS_V1)
    (root / "app" / "reports.py").write_text(REPORT_V1)
    revision(root, "0001_users", "0001", None, '    op.create_table("users", sa.Column("id", sa.Integer))')
    git(root, "init", "-q")
    release(root, "v1.0.0")
    return root


def preflight(root: Path, gha_env, capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["--json", "alembic-preflight", "--working-directory", str(root), *args], env=gha_env)
    out = capsys.readouterr().out
    document = json.loads(out)
    return code, document.get("findings", []), out


def rules(findings: list[dict]) -> list[tuple[str, str, int]]:
    return sorted((f["rule"], Path(f["file"]).name, f["line"]) for f in findings)


def test_a_drop_the_live_release_still_reads_is_an_error_naming_both_places(service, gha_env, capsys):
    revision(service, "0002_drop", "0002", "0001", '    op.drop_column("users", "legacy")')
    release(service)
    code, findings, _ = preflight(service, gha_env, capsys)
    assert code == 1
    assert rules(findings) == [("live-release-uses", "0002_drop.py", 8)]
    message = findings[0]["message"]
    assert "`users.legacy` is dropped in 0002_drop.py:8, but v1.0.0 still uses it (app/models.py:10)" in message
    # the live release stops reading it in v2.0.0; v3's drop is then the contract step: a notice
    (service / "migrations" / "versions" / "0002_drop.py").unlink()
    (service / "app" / "models.py").write_text(MODELS_V1.replace('    display = sa.Column("legacy", sa.String)', "#"))
    release(service, "v2.0.0")
    revision(service, "0002_drop", "0002", "0001", '    op.drop_column("users", "legacy")')
    release(service)
    code, findings, _ = preflight(service, gha_env, capsys)
    assert code == 0 and rules(findings) == [("contract-step", "0002_drop.py", 8)]
    assert findings[0]["severity"] == "notice"
    code, findings, _ = preflight(service, gha_env, capsys, "--live-ref", "v1.0.0")  # named: the older release
    assert code == 1 and rules(findings) == [("live-release-uses", "0002_drop.py", 8)]
    code, findings, _ = preflight(service, gha_env, capsys, "--live-ref", "none")  # without: the usual rule
    assert rules(findings) == [("drop-column", "0002_drop.py", 8)]


def test_renames_raw_sql_tables_and_a_not_null_column_the_live_release_does_not_write(service, gha_env, capsys):
    revision(
        service,
        "0002_changes",
        "0002",
        "0001",
        '    op.alter_column("users", "email", new_column_name="mail")\n'
        '    op.execute("ALTER TABLE audit RENAME COLUMN at TO happened_at")\n'
        '    op.drop_table("audit")\n'
        '    op.add_column("users", sa.Column("tenant", sa.Integer, nullable=False))\n'
        '    op.drop_column("users", "unused_flag")\n',
    )
    release(service)
    code, findings, out = preflight(service, gha_env, capsys)
    assert code == 1
    assert rules(findings) == [
        ("contract-step", "0002_changes.py", 12),
        ("live-release-inserts", "0002_changes.py", 11),
        ("live-release-uses", "0002_changes.py", 8),
        ("live-release-uses", "0002_changes.py", 9),
        ("live-release-uses", "0002_changes.py", 10),
    ]
    said = {f["line"]: f["message"] for f in findings}
    assert "(app/reports.py:1)" in said[9] and "`audit.at` is renamed" in said[9]
    assert "`users.tenant` is added NOT NULL without a default" in said[11]


def test_a_live_ref_that_is_not_there_is_bad_input_saying_how_to_fetch_it(service, gha_env, capsys):
    code, _, out = preflight(service, gha_env, capsys, "--live-ref", "v9.9.9")
    assert code == 2 and "'v9.9.9' is not a tag or commit of this repository; fetch it (git fetch --tags)" in out
    revision(service, "0002_drop", "0002", "0001", '    op.drop_column("users", "legacy")')
    release(service)
    shallow = service.parent / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{service}", str(shallow)], check=True, capture_output=True
    )
    code, _, out = preflight(shallow, gha_env, capsys, "--live-ref", "v1.0.0")
    assert code == 2 and "shallow clone" in out and "fetch-depth: 0" in out
    code, _, out = preflight(service, gha_env, capsys, "--live-ref=--output=/tmp/x")
    assert code == 2 and "live-ref: expected a tag or commit" in out
