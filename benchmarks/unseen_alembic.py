"""alembic-preflight on real migration histories its rules were not written from: four
public projects that ship their alembic revisions inside their wheels (a hyperparameter
optimiser, an ML tracking server, a data orchestrator, an MLOps framework; 460+ revisions
in all), pinned by version and checked against PyPI's SHA-256, fetched once into a cache.

Nothing needs a database: the graph and the risk rules read the files. Every project's
findings are counted by rule, and a fixed random sample of them (12 per project, the same
sample for the same findings) is judged by hand in benchmarks/corpus/unseen-alembic.json:
real — the operation has on PostgreSQL the risk the rule names — or false, with why.
Precision is over the judged sample; a sampled finding with no verdict yet is listed as
`unjudged` and must be judged before the number is quoted.

    python benchmarks/unseen_alembic.py [--json]"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import zipfile
from pathlib import Path

from unseen import cli, fetch

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = ROOT / "benchmarks" / "corpus" / "unseen-alembic.json"
SAMPLE = 12
# (project, PyPI name, version, folder alembic runs in, its config; None: written here)
PROJECTS = [
    ("optuna", "optuna", "5.1.0", "optuna/storages/_rdb", "alembic.ini"),
    ("mlflow", "mlflow-skinny", "3.18.0", ".", "mlflow/store/db_migrations/alembic.ini"),
    ("dagster", "dagster", "1.13.29", ".", "dagster/_core/storage/runs/sqlite/alembic/alembic.ini"),
    ("zenml", "zenml", "0.98.0", ".", None),  # its env.py sets script_location in code
]
WRITTEN = {"zenml": "[alembic]\nscript_location = zenml/zen_stores/migrations\n"}


def findings(project: str, wheel: Path, folder: str, config: str | None, scratch: Path) -> list[dict]:
    root = scratch / project
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    if config is None:
        config = "alembic-benchmark.ini"
        (root / config).write_text(WRITTEN[project])
    document = cli("alembic-preflight", "--config", config, cwd=root / folder, expect="findings")
    return [f for f in document["findings"] if not f["accepted"]]


def key(project: str, found: dict) -> str:
    return f"{project} {found['file']}:{found['line']} {found['rule']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    verdicts = json.loads(VERDICTS.read_text())
    judged, unjudged, counts, revisions = [], [], {}, 0
    with tempfile.TemporaryDirectory() as scratch:
        for project, name, version, folder, config in PROJECTS:
            found = sorted(
                findings(project, fetch(name, version, wheel=True), folder, config, Path(scratch)),
                key=lambda f: (f["file"], f["line"], f["rule"]),
            )
            revisions += len({f["revision"] for f in found})
            counts[project] = dict(collections.Counter(f["rule"] for f in found).most_common())
            for sampled in random.Random(2026).sample(found, min(SAMPLE, len(found))):
                verdict = verdicts.get(key(project, sampled))
                item = {"finding": key(project, sampled), "severity": sampled["severity"], **(verdict or {})}
                (judged if verdict else unjudged).append(item)
    real = [j for j in judged if j["verdict"] == "real"]
    errors = [j for j in judged if j["severity"] == "error"]
    report = {
        "projects": [f"{n}=={v}" for _, n, v, _, _ in PROJECTS],
        "findings_by_rule": counts,
        "judged": len(judged),
        "precision": round(len(real) / len(judged), 3) if judged else None,
        "errors_judged": len(errors),
        "errors_precision": round(sum(j["verdict"] == "real" for j in errors) / len(errors), 3) if errors else None,
        "false": [j for j in judged if j["verdict"] != "real"],
        "unjudged": [u["finding"] for u in unjudged],
    }
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
