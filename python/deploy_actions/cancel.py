"""Cancellation, process-wide. A cancelled job gets SIGINT/SIGTERM in the main thread while
the work may sit in worker threads (an SSH session in a rollout); whatever runs long
registers here how to stop, so the unwind that removes secrets is not left waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable

_hooks: list[Callable[[], None]] = []
cancelled = threading.Event()


def on_cancel(hook: Callable[[], None]) -> None:
    _hooks.append(hook)


def cancel() -> None:
    cancelled.set()
    for hook in list(_hooks):
        hook()
