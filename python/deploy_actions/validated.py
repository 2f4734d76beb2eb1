"""Documents that passed schema validation, remembered beside the virtualenv: the second
step of a job that loads the same smoke spec skips `jsonschema` (its import alone is about
0.15 s). Only a success is remembered, keyed by the schema, the document and this version;
outside a virtualenv (a developer's interpreter) nothing is remembered."""

from __future__ import annotations

import hashlib
import os
import sys
from importlib import resources
from pathlib import Path

from deploy_actions import __version__


def _marker(schema_name: str, text: str) -> Path | None:
    if sys.prefix == sys.base_prefix or os.environ.get("DEPLOY_ACTIONS_NO_VALIDATION_CACHE"):
        return None
    schema = resources.files("deploy_actions").joinpath(f"schemas/{schema_name}").read_bytes()
    digest = hashlib.sha256(b"\0".join([__version__.encode(), schema, text.encode("utf-8")])).hexdigest()
    return Path(sys.prefix) / "validated" / digest


def seen(schema_name: str, text: str) -> bool:
    marker = _marker(schema_name, text)
    return marker is not None and marker.exists()


def remember(schema_name: str, text: str) -> None:
    marker = _marker(schema_name, text)
    if marker is None:
        return
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
    except OSError:  # a read-only environment: validate every time
        pass
