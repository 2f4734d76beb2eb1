"""alembic-preflight's cross-check against the live release, at scale: a git repository
with 500 SQLAlchemy models (in 50 files, with SQL strings beside them) released as v1.0.0,
then 500 revisions, 50 of them dropping columns (half still used by v1.0.0). Wall time of
the whole check with `live-ref: auto` against `live-ref: none` (target: the cross-check
≤ 2 s), and whether exactly the used columns are reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS, FILES, REVISIONS, DROPS = 500, 50, 500, 50


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def generate(root: Path) -> None:
    (root / "app").mkdir()
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("")
    per_file = MODELS // FILES
    for f in range(FILES):
        parts = ["import sqlalchemy as sa\nfrom sqlalchemy.orm import Mapped, mapped_column\nfrom .base import Base\n"]
        for m in range(f * per_file, (f + 1) * per_file):
            parts.append(
                f"\nclass Model{m}(Base):\n    __tablename__ = 't{m}'\n"
                "    id: Mapped[int] = mapped_column(primary_key=True)\n"
                f"    name: Mapped[str]\n    kept = sa.Column('used_{m}', sa.String)\n"
                f"    owner_id = mapped_column(sa.ForeignKey('t{(m + 1) % MODELS}.id'))\n"
                f'\nQ{m} = "SELECT x.name, x.used_{m} FROM t{m} x WHERE x.id = 1"\n'
            )
        (root / "app" / f"models_{f}.py").write_text("".join(parts))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    git(root, "tag", "v1.0.0")
    down = None
    for r in range(REVISIONS):
        m = r % MODELS
        if r < DROPS:  # the first half drop what v1.0.0 uses, the rest what it does not
            body = (
                f'    op.drop_column("t{m}", "used_{m}")' if r % 2 == 0 else f'    op.drop_column("t{m}", "gone_{m}")'
            )
        else:
            body = f'    op.add_column("t{m}", sa.Column("c{r}", sa.Integer))'
        (root / "migrations" / "versions" / f"{r:04d}.py").write_text(
            f'revision = "r{r:04d}"\ndown_revision = {down!r}\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
            f"def upgrade():\n{body}\n"
        )
        down = f"r{r:04d}"
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v2")


def check(root: Path, live_ref: str) -> tuple[float, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "--json", "alembic-preflight", "--live-ref", live_ref],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - started
    return seconds, json.loads(proc.stdout)["findings"]


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        best = {}
        for ref in ("none", "auto"):
            runs = [check(root, ref) for _ in range(3)]
            best[ref] = min(seconds for seconds, _ in runs)
            findings = runs[0][1]
        uses = [f for f in findings if f["rule"] == "live-release-uses"]
        contract = [f for f in findings if f["rule"] == "contract-step"]
    return {
        "models": MODELS,
        "revisions": REVISIONS,
        "check_without_s": round(best["none"], 2),
        "check_with_live_ref_s": round(best["auto"], 2),
        "cross_check_s": round(best["auto"] - best["none"], 2),
        "live_release_uses": len(uses),
        "contract_steps": len(contract),
        "expected_each": DROPS // 2,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
