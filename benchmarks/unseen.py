"""What the two unseen-projects benchmarks share: a pinned release from PyPI, fetched once
into a cache and checked against PyPI's SHA-256 (PyPI never replaces a file), and the CLI
run as a user runs it, its --json document back."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "deploy-actions" / "unseen"


def fetch(name: str, version: str, wheel: bool = False) -> Path:
    """The release's sdist (or its pure-Python wheel)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    index = f"https://pypi.org/pypi/{name}/json"
    meta = CACHE / f"{name}-{version}.files.json"
    if not meta.exists():
        with urllib.request.urlopen(index, timeout=60) as response:
            meta.write_text(json.dumps(json.loads(response.read())["releases"][version]))
    files = json.loads(meta.read_text())
    info = next(
        u for u in files if (u["filename"].endswith("-py3-none-any.whl") if wheel else u["packagetype"] == "sdist")
    )
    archive = CACHE / info["filename"]
    if not archive.exists():
        with urllib.request.urlopen(urllib.request.urljoin(index, info["url"]), timeout=300) as response:
            archive.write_bytes(response.read())
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != info["digests"]["sha256"]:
        raise SystemExit(f"{archive.name}: SHA-256 {digest} is not PyPI's")
    return archive


def cli(*argv: str, cwd: Path | None = None, expect: str) -> dict:
    """`deploy-actions --json …`; its document, which must hold `expect`."""
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "PYTHONPATH": str(ROOT / "python")}
    proc = subprocess.run(
        [sys.executable, "-m", "deploy_actions", "--json", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    document = json.loads(proc.stdout)
    if expect not in document:
        raise SystemExit(f"{' '.join(argv)}: {proc.stdout[-400:]}")
    return document
