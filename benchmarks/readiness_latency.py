"""Readiness detection latency, side by side with a peer: the example service flips to ready
at a random moment; how long from the flip until the waiter exits with success, and how
hard it polled meanwhile (peak requests in any one-second window). Each latency is split at
the server's log: from the flip to the first poll that arrived after it (the wait for the
next poll, which no poller at 10 requests a second can bring under 50 ms at the median:
with polls at least 100 ms apart, a flip at a random moment comes within 50 ms before the
next poll at most half the time), and from that poll to the exit. The waiters are
`deploy-actions smoke-ready` (defaults) and, when it is installed, wait-on (`-i 100`, the
peer a workflow would otherwise use), taking turns on the same flip server in one run.

    python benchmarks/readiness_latency.py [RUNS]

wait-on is looked up on PATH, then in ~/.cache/deploy-actions/tools (`npm install --prefix
~/.cache/deploy-actions/tools wait-on`), outside the repository."""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "hello"))

from app import App  # noqa: E402


def peak_rate(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def waiters() -> dict[str, list[str]]:
    """name → argv before the URL."""
    found = {"smoke-ready": [sys.executable, "-m", "deploy_actions", "smoke-ready", "--timeout", "60s", "--url"]}
    tools = Path.home() / ".cache" / "deploy-actions" / "tools" / "node_modules" / ".bin"
    peer = shutil.which("wait-on") or shutil.which("wait-on", path=str(tools))
    if peer:
        found["wait-on -i 100"] = [peer, "-i", "100", "-t", "60000"]
    return found


def one_run(rng: random.Random, argv: list[str], ready_path: bool) -> tuple[float, float, int]:
    """(flip → exit, flip → the first poll after it, peak requests per second)."""
    app = App(ready_after=None).start()
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
        env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        url = app.url.replace("http://", "http-get://") + "/ready" if ready_path else app.url
        proc = subprocess.Popen([*argv, url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 3.0))
        flipped = time.monotonic()
        app.set_ready()
        # A blocking wait: wait(timeout=…) polls with sleeps of up to 50 ms, which would be measured.
        code = proc.wait()  # bounded by the command's own --timeout
        done = time.monotonic()
        if code != 0:
            raise SystemExit(f"{argv[0]} failed with exit {code}")
        polls = [t for t, _, path in app.requests if path == "/ready"]
        seen = min(t for t in polls if t >= flipped)
        return done - flipped, seen - flipped, peak_rate(polls)
    finally:
        app.stop()


def main(runs: int = 30, seed: int = 7) -> dict:
    rng = random.Random(seed)
    found = waiters()
    latencies: dict[str, list[float]] = {name: [] for name in found}
    waits: dict[str, list[float]] = {name: [] for name in found}
    peaks: dict[str, list[int]] = {name: [] for name in found}
    for i in range(runs):
        for name, argv in found.items():  # taking turns: the machine's load falls on both alike
            latency, wait, peak = one_run(rng, argv, ready_path=name != "smoke-ready")
            latencies[name].append(latency)
            waits[name].append(wait)
            peaks[name].append(peak)
            print(
                f"  run {i + 1:2}/{runs} {name}: {latency * 1000:6.1f} ms after the flip "
                f"(next poll {wait * 1000:5.1f} ms), peak {peak} req/s",
                file=sys.stderr,
            )
    report = {}
    for name, values in latencies.items():
        after_poll = [t - w for t, w in zip(values, waits[name], strict=True)]  # paired, before sorting
        values = sorted(values)
        report[name] = {
            "runs": runs,
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p90_ms": round(values[int(0.9 * (runs - 1))] * 1000, 1),
            "max_ms": round(values[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1),
            "next_poll_median_ms": round(statistics.median(waits[name]) * 1000, 1),
            "poll_to_exit_median_ms": round(statistics.median(after_poll) * 1000, 1),
            "peak_requests_per_second": max(peaks[name]),
            # the server's clock: delivery jitter can bring a 1st and 11th poll within 1 s
            "runs_peaking_above_10": sum(p > 10 for p in peaks[name]),
        }
    return report


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)))
