"""The machine's view (`--json`): one JSON document on stdout for every outcome, written
once at the end with `ok` first and always matching the exit code; the words go to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


class JsonDocument:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    def set(self, document: dict[str, Any]) -> None:
        self.document = dict(document)

    def write(self, ok: bool, redact: Callable[[Any], Any]) -> None:
        document = {"ok": ok, **{k: v for k, v in self.document.items() if k != "ok"}}
        sys.stdout.write(json.dumps(redact(document), indent=2) + "\n")
        sys.stdout.flush()
