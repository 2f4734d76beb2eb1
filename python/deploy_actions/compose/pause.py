"""A pause on the host's shared proxy, pure: its inputs. While an app is paused, requests to
its names wait at the proxy — none reaches the app, none fails — and go on to the live copy
when the pause ends: at `off`, or by itself after `pause-timeout` (the host ends it; the
proxy stops holding new requests at that deadline even if the host could not). For a short
outage behind the app, such as a database fail-over. The routes that hold requests are in
compose/host_proxy.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.compose import held, host_proxy
from deploy_actions.compose import settings as deploy
from deploy_actions.errors import UsageError
from deploy_actions.options import Option

OWN = (
    Option(
        "state",
        "`on`: requests to the app's names wait at the proxy (none reaches the app) until `off` or "
        "`pause-timeout`; `off`: they go on to the live copy now.",
        required=True,
    ),
    host_proxy.PAUSE_TIMEOUT,
)
OPTIONS = (*OWN, *held.OPTIONS)


@dataclass(frozen=True)
class Pause:
    reach: deploy.Inputs
    seconds: int  # 0: end the pause now


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Pause:
    state = raw["state"].strip()
    if state not in ("on", "off"):
        raise UsageError(f"expected on or off, got {state!r}", input="state")
    seconds = host_proxy.parse_pause_timeout(raw)
    return Pause(held.parse_routed(raw, OWN, env, "a pause"), seconds if state == "on" else 0)
