"""The readiness gate the releasing actions share (build-push's boot check, ssh-compose-deploy,
swarm-deploy): where the release answers (`ready-url`), how long it may take
(`ready-timeout`) and the smoke calls once it does (`smoke-spec`). One declaration of the
inputs, one parser with one contract for `ready-url`, one builder of the `Readiness` that
smoke/verify.py checks — so the gate means the same wherever a release passes it.

The `ready-url` contract: the full http(s) URL of the readiness endpoint, path included
(`http://127.0.0.1:8000/ready`), without credentials, spaces or shell characters; where the
action has hosts, `{host}` in it stands for each host's address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploy_actions.errors import UsageError
from deploy_actions.options import Option
from deploy_actions.values import parse_duration, parse_http_url, refuse_unsafe_url, split_url

MIN_TIMEOUT = 1.0  # seconds: a shorter deadline is a unit mistake (ms for s), not a gate
EXAMPLE = "http://127.0.0.1:8000/ready"
HOST = "{host}"


@dataclass(frozen=True)
class Gate:
    url: str  # "" when the action checks nothing; may hold {host}
    timeout: float
    smoke_spec: str | None
    calls: tuple


def options(*, url: str, timeout: str, spec: str, default_timeout: str = "60s") -> tuple[Option, Option, Option]:
    """ready-url, ready-timeout and smoke-spec, described for the action that declares them."""
    return (
        Option("ready-url", url),
        Option("ready-timeout", timeout, default=default_timeout),
        Option("smoke-spec", spec, path="one"),
    )


def parse_url(raw: str, *, hosts: bool, name: str = "ready-url") -> str:
    """A ready-url by the contract above ("" when empty)."""
    url = raw.strip()
    if not url:
        return ""
    if HOST in url and not hosts:
        raise UsageError(f"expected a URL such as {EXAMPLE}; {HOST} is only for actions with hosts", input=name)
    probe = url.replace(HOST, "127.0.0.1")
    refuse_unsafe_url(probe, name)
    if any(c in url for c in "'\"`$;\\"):
        raise UsageError(f"expected a URL such as {EXAMPLE}, without quotes or shell characters", input=name)
    parts = split_url(probe, name)
    parse_http_url(f"{parts.scheme}://{parts.netloc}", name)
    if not parts.path.strip("/"):
        raise UsageError(f"expected the full readiness URL such as {EXAMPLE}, got {url!r} (no path)", input=name)
    return url


def split(url: str) -> tuple[str, str]:
    """(base URL, path with query) of a parsed ready-url."""
    scheme, rest = url.split("://", 1)
    netloc, slash, tail = rest.partition("/")
    return f"{scheme}://{netloc}", slash + tail.split("#", 1)[0]


def parse(raw: Mapping[str, str], *, hosts: bool, spec_needs: str) -> Gate:
    """The gate's three inputs; `spec_needs`: what to say when a smoke spec has no ready-url."""
    url = parse_url(raw["ready-url"], hosts=hosts)
    spec, calls = smoke_spec(raw)
    if spec and not url:
        raise UsageError(spec_needs, input="smoke-spec")
    timeout = parse_duration(raw["ready-timeout"], "ready-timeout", minimum=MIN_TIMEOUT)
    return Gate(url, timeout, spec, calls)


def smoke_spec(raw: Mapping[str, str]) -> tuple[str | None, tuple]:
    """smoke-spec: (its path or None, its calls), the file read and checked once."""
    path = raw["smoke-spec"].strip() or None
    if not path:
        return None, ()
    from deploy_actions.smoke import spec as spec_file

    return path, tuple(spec_file.load(path))


def readiness(gate: Gate, base: str | None = None, **extra: Any):
    """The Readiness that smoke/verify.py checks for this gate, at `base` (default: the URL's
    own), with anything else the caller sets (connect_to, ca_bundle, health_path)."""
    from deploy_actions.smoke.verify import Readiness

    own_base, path = split(gate.url)
    return Readiness(
        url=base or own_base,
        ready_path=path,
        timeout=gate.timeout,
        calls=gate.calls,
        smoke_spec=gate.smoke_spec,
        **extra,
    )
