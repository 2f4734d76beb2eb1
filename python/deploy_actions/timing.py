"""The library's own share of a run, as opposed to the work it drives (Docker, alembic,
the service starting): interpreter and bootstrap start-up, SSH connection set-up, and
readiness-polling slack. Recorded always (a few additions), printed only when
DEPLOY_ACTIONS_TIMING is set — benchmarks/pipeline.py reads it from act's log."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Mapping
from typing import IO

PREFIX = "deploy-actions timing "
_totals: dict[str, float] = {}


def add(kind: str, seconds: float) -> None:
    if seconds > 0:
        _totals[kind] = _totals.get(kind, 0.0) + seconds


def started(env: Mapping[str, str], now: float | None = None) -> None:
    """Start-up: from the action's shell step (it exports DEPLOY_ACTIONS_STARTED, bash's
    $EPOCHREALTIME) to the command about to run — interpreter, bootstrap, imports."""
    mark = env.get("DEPLOY_ACTIONS_STARTED", "").replace(",", ".")
    with contextlib.suppress(ValueError):
        add("startup", (time.time() if now is None else now) - float(mark))


def report(env: Mapping[str, str], stream: IO[str] | None = None) -> None:
    if env.get("DEPLOY_ACTIONS_TIMING") and _totals:
        print(
            PREFIX + json.dumps({k: round(v, 4) for k, v in sorted(_totals.items())}),
            file=stream or sys.stderr,
            flush=True,
        )
