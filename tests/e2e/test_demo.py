"""The README's first command, scripts/demo, can always run again: here a second time after
the build cache is gone (the suite's BuildKit tests prune it; a fresh runner has none), which
rebuilds nothing, moves no tag and ends with both hosts on the digest the first run pushed."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.act, pytest.mark.services]

SAME = re.compile(r"the same image on stage and production: (sha256:[0-9a-f]{64})")


def demo() -> str:
    proc = subprocess.run(["scripts/demo"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


def test_the_demo_runs_again_after_the_build_cache_is_pruned(services):
    first = demo()
    released = SAME.search(first)
    assert released, first[-3000:]
    subprocess.run(["docker", "builder", "prune", "-af"], check=True, capture_output=True, timeout=300)
    again = demo()
    assert "↺ reused: " in again  # the release job verified the pushed image instead of rebuilding it
    assert SAME.search(again) and SAME.search(again).group(1) == released.group(1)
