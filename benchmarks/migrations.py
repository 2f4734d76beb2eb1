"""A generated chain of 500 revisions: alembic-preflight's graph + risk analysis (target
≤ 1 s), its full check with an upgrade on a throwaway database, and pytest-alembic's
single-head and upgrade tests on the same chain, side by side. Needs scripts/services up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from deploy_actions.migrations import database, graph, risks, scripts  # noqa: E402

STATE = Path(os.environ.get("DA_STATE", "/var/lib/deploy-actions-dev"))
COUNT = 500
THEIRS = """
import os
import sqlalchemy
from pytest_alembic import Config, runner
from pytest_alembic.tests import test_single_head_revision, test_upgrade

engine = sqlalchemy.create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
with runner(config=Config(), engine=engine) as alembic_runner:
    test_single_head_revision(alembic_runner)
    test_upgrade(alembic_runner)
"""


def generate(folder: Path) -> None:
    template = ROOT / "tests" / "fixtures" / "alembic" / "linear"
    shutil.copy(template / "alembic.ini", folder / "alembic.ini")
    (folder / "migrations" / "versions").mkdir(parents=True)
    shutil.copy(template / "migrations" / "env.py", folder / "migrations" / "env.py")
    (folder / "models.py").write_text("import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n")
    for i in range(1, COUNT + 1):
        down = f'"r{i - 1:04d}"' if i > 1 else "None"
        body = (
            f'    op.create_table("t{i:04d}", sa.Column("id", sa.Integer, primary_key=True))\n'
            if i % 10 == 1
            else f'    op.add_column("t{(i - 1) // 10 * 10 + 1:04d}", sa.Column("c{i:04d}", sa.String(20)))\n'
        )
        undo = (
            f'    op.drop_table("t{i:04d}")\n'
            if i % 10 == 1
            else f'    op.drop_column("t{(i - 1) // 10 * 10 + 1:04d}", "c{i:04d}")\n'
        )
        (folder / "migrations" / "versions" / f"{i:04d}_r{i:04d}.py").write_text(
            f'"""revision {i}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\nrevision = "r{i:04d}"\n'
            f"down_revision = {down}\n\n\ndef upgrade():\n{body}\n\ndef downgrade():\n{undo}"
        )


def main() -> dict:
    env_file = dict(line.split("=", 1) for line in (STATE / "env").read_text().splitlines() if "=" in line)
    server = env_file["DA_POSTGRES_URL"]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT / "python")}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        generate(project)
        started = time.perf_counter()
        revisions = scripts.load(scripts.script_location(project / "alembic.ini"))
        g = graph.build(revisions)
        findings = [f for r in revisions for f in risks.analyse(r)]
        analysis = time.perf_counter() - started
        assert g.head == f"r{COUNT:04d}" and len(findings) == 0
        started = time.perf_counter()
        ours = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy_actions",
                "alembic-preflight",
                "--working-directory",
                str(project),
                "--database-url",
                server,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        ours_s = time.perf_counter() - started
        if ours.returncode != 0:
            raise SystemExit(ours.stdout[-2000:])
        with database.throwaway(server) as url:
            # pytest-alembic's own single-head and upgrade tests, through its runner API (its
            # pytest plugin does not load under the pytest 9 used here).
            started = time.perf_counter()
            theirs = subprocess.run(
                [sys.executable, "-c", THEIRS],
                cwd=project,
                env={**env, "DATABASE_URL": url},
                capture_output=True,
                text=True,
            )
            theirs_s = time.perf_counter() - started
        if theirs.returncode != 0:
            raise SystemExit(theirs.stdout[-2000:] + theirs.stderr[-2000:])
    return {
        "revisions": COUNT,
        "graph_and_risks_s": round(analysis, 3),
        "preflight_full_s": round(ours_s, 2),
        "pytest_alembic_s": round(theirs_s, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
