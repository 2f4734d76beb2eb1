"""A generated repository of 5,000 Markdown files (50,000 links) and 200 workflows: the full
docs-drift check as a command, wall time and peak memory (target: ≤ 2 s)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS, LINKS, WORKFLOWS = 5000, 10, 200


def generate(root: Path) -> None:
    (root / "docs").mkdir()
    (root / ".github" / "workflows").mkdir(parents=True)
    rows = []
    for w in range(WORKFLOWS):
        trigger = ("on: pull_request\n", "PRs") if w % 2 else ("on:\n  push:\n    tags: ['v*']\n", "Tag push (`v*`)")
        (root / ".github" / "workflows" / f"wf{w:03d}.yml").write_text(trigger[0] + "jobs: {}\n")
        rows.append(f"| `wf{w:03d}.yml` | {trigger[1]} | workflow {w} |")
    (root / "README.md").write_text(
        "# Repo\n\n| Workflow | Trigger | Purpose |\n| --- | --- | --- |\n"
        + "\n".join(rows)
        + "\n\nSee [the docs](docs/d0000.md).\n"
    )
    for d in range(DOCS):
        links = "\n".join(f"- [page {(d + k) % DOCS}](d{(d + k) % DOCS:04d}.md#section-{k})" for k in range(1, LINKS))
        (root / "docs" / f"d{d:04d}.md").write_text(
            f"# Page {d}\n\n"
            + "".join(f"## Section {k}\n\ntext\n\n" for k in range(1, LINKS))
            + f"{links}\n- [home](../README.md)\n\nRun `docs/d{d:04d}.md`.\n"
        )


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        (root / ".docs-contract.yml").write_text('version: 1\ndocs: [README.md, "docs/**/*.md"]\n')
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
        env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "deploy_actions", "--json", "docs-drift", "--root", str(root)],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        doc = json.loads(proc.stdout)
        if proc.returncode != 0:
            raise SystemExit(json.dumps(doc["report"][:5]))
    return {
        "docs": DOCS + 1,
        "links": DOCS * LINKS + 1,
        "workflows": WORKFLOWS,
        "seconds": round(seconds, 2),
        "peak_mb": round(peak_mb),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
