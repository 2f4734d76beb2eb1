"""Action overhead under act: wall time of a `smoke-ready` step against an already-ready
server, cold (empty tool cache and empty pip/uv download caches, as on a fresh hosted
runner: the first action in the job creates the virtualenv) and warm (the second action
in the same job, started directly in the job's environment): with uv on PATH, without uv
(the interpreter's pip installs the locked uv), and pip only. Outside act: the warm start
of the CLI against a bare `python -c pass`, the target's baseline."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
        "on: push\npermissions: {}\njobs:\n  bench:\n    runs-on: ubuntu-latest\n    steps:\n" + step + step
    )
    for argv in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=b@example.test", "-c", "user.name=b", "commit", "-qm", "bench"],
    ):
        subprocess.run(["git", *argv], cwd=dest, check=True)


def run(repo: Path, lib: Path, installer: str) -> tuple[float, float]:
    shutil.rmtree(TOOL_CACHE, ignore_errors=True)
    path = os.environ["PATH"]
    if installer != "uv":  # hide uv: a hosted runner has none
        path = os.pathsep.join(p for p in path.split(os.pathsep) if not (Path(p) / "uv").exists())
    fresh = tempfile.mkdtemp(prefix="bench-caches-")
    env = {
        **os.environ,
        "PATH": path,
        "ACT_DISABLE_VERSION_CHECK": "1",  # no notices fetch: loopback only
        "PIP_NO_CACHE_DIR": "1",
        "UV_CACHE_DIR": fresh,
    }
    if installer == "pip":
        env["DEPLOY_ACTIONS_NO_UV"] = "1"
    proc = subprocess.run(
        [
            shutil.which("act") or "act",
            "push",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--no-cache-server",
            "--local-repository",
            f"org/deploy-actions@v1={lib}",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    times = [float(n) / (1000 if unit == "ms" else 1) for n, unit in STEP.findall(proc.stdout)]
    shutil.rmtree(fresh, ignore_errors=True)
    if proc.returncode != 0 or len(times) != 2:
        raise SystemExit(f"act run failed:\n{proc.stdout[-3000:]}")
    return times[0], times[1]


def warm_start(url: str, repeats: int = 20) -> dict:
    """The CLI started in the job's environment (what a warm step runs) vs a bare interpreter."""
    [python] = map(str, TOOL_CACHE.glob("venv-*/bin/python"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update(PYTHONPATH=str(ROOT / "python"), PYTHONUTF8="1", PYTHONNOUSERSITE="1")

    def median(argv: list[str]) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=False)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    bare = median([python, "-c", "pass"])
    cli = median([python, "-m", "deploy_actions", "smoke-ready", "--url", url, "--health-path", "none"])
    return {"bare_ms": round(bare * 1000), "cli_ms": round(cli * 1000), "over_bare_ms": round((cli - bare) * 1000)}


def main(repeats: int = 3) -> dict:
    app = App(ready_after=0).start()
    results: dict = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lib, repo = Path(tmp) / "lib", Path(tmp) / "consumer"
            export_tracked(ROOT, lib)
            consumer(repo, app.url)
            for installer in ("uv", "no-uv", "pip"):
                runs = [run(repo, lib, installer) for _ in range(repeats)]
                cold = statistics.median(r[0] for r in runs)
                warm = statistics.median(r[1] for r in runs)
                print(f"  {installer}: cold {cold:.2f}s, warm {warm:.2f}s", file=sys.stderr)
                results[installer] = {"cold_s": round(cold, 2), "warm_s": round(warm, 2)}
            results["warm_start"] = warm_start(app.url)
    finally:
        app.stop()
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
