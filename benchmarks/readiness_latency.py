"""Readiness detection latency: the example service flips to ready at a random moment;
how long from the flip until `deploy-actions smoke-ready` (defaults) exits with success,
and how hard it polled meanwhile (peak requests in any one-second window)."""

from __future__ import annotations

import json
import os
import random
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


def one_run(rng: random.Random) -> tuple[float, int]:
    app = App(ready_after=None).start()
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
        env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "deploy_actions", "smoke-ready", "--url", app.url, "--timeout", "60s"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 5.0))
        flipped = time.monotonic()
        app.set_ready()
        # A blocking wait: wait(timeout=…) polls with sleeps of up to 50 ms, which would be measured.
        code = proc.wait()  # bounded by the command's own --timeout
        done = time.monotonic()
        if code != 0:
            raise SystemExit(f"smoke-ready failed with exit {code}")
        polls = [t for t, _, path in app.requests if path == "/ready"]
        return done - flipped, peak_rate(polls)
    finally:
        app.stop()


def main(runs: int = 30, seed: int = 7) -> dict:
    rng = random.Random(seed)
    latencies, peaks = [], []
    for i in range(runs):
        latency, peak = one_run(rng)
        latencies.append(latency)
        peaks.append(peak)
        print(f"  run {i + 1:2}/{runs}: {latency * 1000:6.1f} ms after the flip, peak {peak} req/s", file=sys.stderr)
    latencies.sort()
    return {
        "runs": runs,
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p90_ms": round(latencies[int(0.9 * (runs - 1))] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "peak_requests_per_second": max(peaks),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)))
