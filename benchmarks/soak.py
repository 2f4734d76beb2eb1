"""docs-drift over every Markdown tree on this machine that nobody wrote for it: each package
under /usr/share/doc, node's global modules and the Python environments' site-packages,
checked whole (`docs: ["**/*.md"]`). What it measures is robustness, not precision: no run
may end in an internal error or outlive its time limit, and the exit codes are counted.

    python benchmarks/soak.py [--limit N] [--json]

Nothing is written into the trees: the contract lives in a temporary folder."""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASES = [
    Path("/usr/share/doc"),
    Path("/usr/lib/node_modules"),
    Path("/usr/local/lib/node_modules"),
    *Path(sys.prefix).glob("lib/python3*/site-packages"),
    *Path(sys.base_prefix).glob("lib/python3*/site-packages"),
]
LIMIT_SECONDS = 60


def trees(limit: int) -> list[tuple[Path, int]]:
    """(folder, Markdown files in it) for each package folder that holds Markdown."""
    found = []
    bases = [*BASES, *(m for b in BASES if b.name == "node_modules" for m in b.glob("*/node_modules"))]
    for base in bases:
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
            if folder.name == "node_modules":
                continue  # its packages are trees of their own
            count = sum(1 for _ in folder.rglob("*.md"))
            if count:
                found.append((folder, count))
    return found[:limit] if limit else found


def check(folder: Path, contract: Path) -> dict:
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python"), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    argv = [sys.executable, "-m", "deploy_actions", "--json", "docs-drift", "--root", str(folder)]
    try:
        proc = subprocess.run(
            [*argv, "--contract", str(contract)], capture_output=True, text=True, timeout=LIMIT_SECONDS, env=env
        )
    except subprocess.TimeoutExpired:
        return {"tree": str(folder), "outcome": "timeout", "seconds": LIMIT_SECONDS}
    try:
        document = json.loads(proc.stdout)
    except ValueError:
        document = {"kind": "no-json", "error": proc.stderr[-300:]}
    outcome = {0: "clean", 1: "drift", 2: "usage"}.get(proc.returncode, f"exit {proc.returncode}")
    if document.get("kind") == "internal" or "Traceback" in proc.stderr:
        outcome = "internal"
    return {
        "tree": str(folder),
        "outcome": outcome,
        "drifts": int(document.get("drift_count", 0) or 0),
        "error": document.get("error", "") if outcome in ("usage", "internal") else "",
        "seconds": round(time.monotonic() - started, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="check at most N trees")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        contract = Path(scratch) / "contract.yml"
        contract.write_text('version: 1\ndocs: ["**/*.md"]\n')
        found = trees(args.limit)
        results = [check(folder, contract) | {"files": count} for folder, count in found]
    outcomes = collections.Counter(r["outcome"] for r in results)
    report = {
        "trees": len(results),
        "markdown_files": sum(r["files"] for r in results),
        "outcomes": dict(outcomes),
        "drifts": sum(r.get("drifts", 0) for r in results),
        "slowest_seconds": max((r["seconds"] for r in results), default=0),
        "failures": [r for r in results if r["outcome"] in ("internal", "timeout")],
        "usage": [f"{r['tree']}: {r['error']}" for r in results if r["outcome"] == "usage"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
