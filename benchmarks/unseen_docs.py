"""docs-drift on real projects its rules were not written from: the source distributions of
ten public projects whose sdists carry their whole docs (seven MkDocs sites, and the GitHub
READMEs of all ten), pinned by version and SHA-256, fetched from PyPI once into a cache.

Two figures:
- **precision**: every drift reported was judged by hand (benchmarks/corpus/unseen-docs.json:
  real, or false with why). A drift with no verdict yet is listed as `unjudged` — judge it
  before quoting the number.
- **recall on seeded breakages**: in each project, links that resolve today are broken the
  way docs break — the page they reach deleted, the anchor mistyped, the heading renamed —
  one at a time, and docs-drift must report that link.

    python benchmarks/unseen_docs.py [--json]"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from unseen import cli, fetch

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = ROOT / "benchmarks" / "corpus" / "unseen-docs.json"
# (PyPI name, version): what was judged is exactly this text (PyPI never replaces a file;
# its SHA-256 is checked on download).
PROJECTS = [
    ("copier", "9.19.1"),
    ("dirty-equals", "0.11"),
    ("fastapi-pagination", "0.16.1"),
    ("fastapi-users", "15.0.5"),
    ("hatch", "1.18.2"),
    ("instructor", "1.17.0"),
    ("starlette", "1.10.0"),
    ("polyfactory", "3.5.0"),
    ("pydantic-extra-types", "2.11.1"),
    ("pytest-httpx", "0.36.2"),
]
SEEDS_PER_KIND = 3


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def drift(root: Path) -> list[dict]:
    return cli("docs-drift", "--root", str(root), expect="report")["report"]


def key(project: str, found: dict) -> str:
    return f"{project} {found['file']}:{found['line']} {found['says']}"


# -- seeds ----------------------------------------------------------------------------------------
_LINK = re.compile(r"\]\(([^()\s#]+\.md)(#[\w.-]+)?\)")


def resolving_links(root: Path, report: list[dict]) -> list[tuple[str, int, str, str | None]]:
    """(page, line, target path, anchor) of relative .md links that nobody reported today,
    picked evenly across the project so every part of its docs is seeded."""
    reported = {(d["file"], d["line"]) for d in report}
    found = []
    for page in sorted(root.rglob("*.md")):
        rel = page.relative_to(root).as_posix()
        if rel != "README.md" and not rel.startswith("docs/") or page.is_symlink():
            continue  # only what docs-drift checks without a contract
        for number, line in enumerate(page.read_text(errors="replace").splitlines(), 1):
            for match in _LINK.finditer(line):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), match.group(1)))
                if (rel, number) not in reported and (root / target).is_file():
                    found.append((rel, number, target, (match.group(2) or "")[1:] or None))
    return found


def pick(items: list, count: int) -> list:
    step = max(len(items) // count, 1)
    return items[::step][:count]


def seeds(root: Path, report: list[dict]) -> list[tuple[str, str, int, dict[str, str | None]]]:
    """(kind, page, line, {file: new text or None to delete}) — one breakage each."""
    links = resolving_links(root, report)
    out = []
    for page, line, target, _ in pick([item for item in links if item[3] is None], SEEDS_PER_KIND):
        out.append(("deleted page", page, line, {target: None}))
    anchored = [item for item in links if item[3]]
    for page, line, _, anchor in pick(anchored, SEEDS_PER_KIND):
        text = (root / page).read_text()
        lines = text.split("\n")
        lines[line - 1] = lines[line - 1].replace(f"#{anchor})", f"#{anchor}-typo)", 1)
        out.append(("mistyped anchor", page, line, {page: "\n".join(lines)}))
    for page, line, target, anchor in pick(anchored, SEEDS_PER_KIND * 2):
        renamed = _rename_heading(root / target, anchor)
        if renamed is not None and target != page:
            out.append(("renamed heading", page, line, {target: renamed}))
    return out


def _rename_heading(path: Path, anchor: str) -> str | None:
    """The page with the heading whose words make `anchor` renamed, or None when no ATX
    heading spells it (an attr_list id, an HTML anchor)."""
    words = anchor.replace("_", "-").split("-")
    lines = path.read_text().split("\n")
    for index, line in enumerate(lines):
        if line.startswith("#") and "{" not in line:
            spelled = re.sub(r"[^\w\s-]", "", line.lstrip("#").strip().lower()).replace(" ", "-").split("-")
            if [w for w in spelled if w] == [w for w in words if w]:
                lines[index] = line + " renamed"
                return "\n".join(lines)
    return None


def recall(project: str, root: Path, report: list[dict]) -> list[dict]:
    results = []
    for kind, page, line, changes in seeds(root, report):
        saved = {name: (root / name).read_bytes() for name in changes}
        try:
            for name, text in changes.items():
                if text is None:
                    (root / name).unlink()
                else:
                    (root / name).write_text(text)
            found = any(d["file"] == page and d["line"] == line for d in drift(root))
        finally:
            for name, data in saved.items():
                (root / name).write_bytes(data)
        results.append({"project": project, "kind": kind, "link": f"{page}:{line}", "reported": found})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    verdicts = json.loads(VERDICTS.read_text())
    judged, unjudged, seeded = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for name, version in PROJECTS:
            root = unpack(fetch(name, version), Path(scratch) / name)
            subprocess.run(["git", "init", "-q", str(root)], check=True)  # as a checkout: git check-ignore works
            report = drift(root)
            for found in report:
                verdict = verdicts.get(key(name, found))
                (judged if verdict else unjudged).append({"drift": key(name, found), **(verdict or {})})
            seeded += recall(name, root, report)
            shutil.rmtree(root)
    real = [j for j in judged if j["verdict"] == "real"]
    by_kind: dict[str, list[bool]] = {}
    for item in seeded:
        by_kind.setdefault(item["kind"], []).append(item["reported"])
    report = {
        "projects": [f"{n}=={v}" for n, v in PROJECTS],
        "reported": len(judged) + len(unjudged),
        "real": len(real),
        "precision": round(len(real) / len(judged), 3) if judged else None,
        "false": [j for j in judged if j["verdict"] != "real"],
        "unjudged": [u["drift"] for u in unjudged],
        "seeded": len(seeded),
        "recall": round(sum(i["reported"] for i in seeded) / len(seeded), 3) if seeded else None,
        "recall_by_kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_kind.items())},
        "recall_by_project": {
            name: f"{sum(i['reported'] for i in seeded if i['project'] == name)}/"
            f"{sum(1 for i in seeded if i['project'] == name)}"
            for name, _ in PROJECTS
        },
        "missed": [f"{i['project']} {i['kind']} {i['link']}" for i in seeded if not i["reported"]],
    }
    print(json.dumps(report, indent=2 if not args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
