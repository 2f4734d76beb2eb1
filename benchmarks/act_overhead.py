"""Action overhead under act: wall time of a `smoke-ready` step against an already-ready
server, cold (empty tool cache: the first action in the job creates the virtualenv) and
warm (the second action in the same job), with uv on PATH and with pip only."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "hello"))

from app import App  # noqa: E402

from deploy_actions.commands.local_run import export_tracked  # noqa: E402

STEP = re.compile(r"Success - Main org/deploy-actions/smoke-ready@v1 \[([\d.]+)(ms|s)\]")
TOOL_CACHE = Path.home() / ".cache" / "act" / "tool_cache" / "deploy-actions"


def consumer(dest: Path, url: str) -> None:
    (dest / ".github/workflows").mkdir(parents=True)
    step = f"      - uses: org/deploy-actions/smoke-ready@v1\n        with: {{url: '{url}'}}\n"
    (dest / ".github/workflows/bench.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  bench:\n    runs-on: ubuntu-latest\n    steps:\n" + step + step)
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.email=b@example.test", "-c", "user.name=b",
                                                   "commit", "-qm", "bench"]):
        subprocess.run(["git", *argv], cwd=dest, check=True)


def run(repo: Path, lib: Path, use_uv: bool) -> tuple[float, float]:
    shutil.rmtree(TOOL_CACHE, ignore_errors=True)
    path = os.environ["PATH"]
    if not use_uv:  # hide uv so the bootstrap falls back to pip
        path = os.pathsep.join(p for p in path.split(os.pathsep) if not (Path(p) / "uv").exists())
    env = {**os.environ, "PATH": path, "ACT_DISABLE_VERSION_CHECK": "1"}  # no notices fetch: loopback only
    proc = subprocess.run([shutil.which("act") or "act", "push", "-P", "ubuntu-latest=-self-hosted",
                           "--no-cache-server", "--local-repository", f"org/deploy-actions@v1={lib}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    times = [float(n) / (1000 if unit == "ms" else 1) for n, unit in STEP.findall(proc.stdout)]
    if proc.returncode != 0 or len(times) != 2:
        raise SystemExit(f"act run failed:\n{proc.stdout[-3000:]}")
    return times[0], times[1]


def main(repeats: int = 3) -> dict:
    app = App(ready_after=0).start()
    results: dict = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lib, repo = Path(tmp) / "lib", Path(tmp) / "consumer"
            export_tracked(ROOT, lib)
            consumer(repo, app.url)
            for installer, use_uv in (("uv", True), ("pip", False)):
                runs = [run(repo, lib, use_uv) for _ in range(repeats)]
                cold = statistics.median(r[0] for r in runs)
                warm = statistics.median(r[1] for r in runs)
                print(f"  {installer}: cold {cold:.2f}s, warm {warm:.2f}s", file=sys.stderr)
                results[installer] = {"cold_s": round(cold, 2), "warm_s": round(warm, 2)}
    finally:
        app.stop()
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
