"""How many reported findings are real, on a corpus written to look like real projects:
`benchmarks/corpus/alembic` (24 revisions of a shop's history: safe patterns done right —
concurrent indexes in autocommit blocks, NOT VALID then VALIDATE, backfills with WHERE,
temporary tables, batch operations, helpers, an accepted drop — and the risks that
real histories contain) and `benchmarks/corpus/docs` (an MkDocs site with content tabs,
admonitions, footnotes, mkdocstrings and a generated page, beside a GitHub README).

Every real problem is marked where it is (`# expect: rule`, `<!-- expect: rule -->`).
Precision is the share of reported findings that are marked; recall is the share of
marks that are reported. Accepted findings (`# preflight: allow …`) are not reported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
EXPECT = re.compile(r"(?:#|<!--)\s*expect:\s*([\w-]+)")


def expected(folder: Path, pattern: str) -> set[tuple[str, int, str]]:
    marks = set()
    for path in folder.rglob(pattern):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in EXPECT.finditer(line):
                marks.add((path.relative_to(folder).as_posix(), number, match.group(1)))
    return marks


def run(folder: Path, *argv: str) -> dict:
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "PYTHONPATH": str(ROOT / "python")}
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "--json", *argv], cwd=folder, capture_output=True, text=True, env=env
    )
    return json.loads(proc.stdout)


def score(reported: set, marks: set) -> dict:
    real = reported & marks
    return {
        "reported": len(reported),
        "real": len(real),
        "expected": len(marks),
        "precision": round(len(real) / len(reported), 3) if reported else 1.0,
        "recall": round(len(real) / len(marks), 3) if marks else 1.0,
        "false": sorted(f"{f}:{n} {r}" for f, n, r in reported - marks),
        "missed": sorted(f"{f}:{n} {r}" for f, n, r in marks - reported),
    }


def main() -> dict:
    alembic = CORPUS / "alembic"
    found = run(alembic, "alembic-preflight")["findings"]
    reported = {(f["file"], f["line"], f["rule"]) for f in found if not f["accepted"]}
    accepted = sum(1 for f in found if f["accepted"])
    docs = CORPUS / "docs"
    drifts = run(docs, "docs-drift")["report"]
    return {
        "alembic": {**score(reported, expected(alembic, "*.py")), "accepted": accepted},
        "docs": score({(d["file"], d["line"], d["rule"]) for d in drifts}, expected(docs, "*.md")),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
