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
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deploy-actions" / "unseen"
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


def fetch(name: str, version: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    index = f"https://pypi.org/pypi/{name}/json"
    meta = CACHE / f"{name}-{version}.wheel.json"
    if not meta.exists():
        with urllib.request.urlopen(index, timeout=60) as response:
            meta.write_text(json.dumps(json.loads(response.read())["releases"][version]))
    info = next(u for u in json.loads(meta.read_text()) if u["filename"].endswith("-py3-none-any.whl"))
    archive = CACHE / info["filename"]
    if not archive.exists():
        with urllib.request.urlopen(urllib.request.urljoin(index, info["url"]), timeout=300) as response:
            archive.write_bytes(response.read())
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != info["digests"]["sha256"]:
        raise SystemExit(f"{archive.name}: SHA-256 {digest} is not PyPI's")
    return archive


def findings(project: str, wheel: Path, folder: str, config: str | None, scratch: Path) -> list[dict]:
    root = scratch / project
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    if config is None:
        config = "alembic-benchmark.ini"
        (root / config).write_text(WRITTEN[project])
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "PYTHONPATH": str(ROOT / "python")}
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "--json", "alembic-preflight", "--config", config],
        cwd=root / folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    document = json.loads(proc.stdout)
    if "findings" not in document:
        raise SystemExit(f"{project}: {proc.stdout[-400:]}")
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
                findings(project, fetch(name, version), folder, config, Path(scratch)),
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
