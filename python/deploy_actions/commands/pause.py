"""pause: requests to an app's names wait at every host's shared proxy — none reaches the
app, none fails — then go on to the live copy at `--state off`, or by themselves after
`pause-timeout`. For a short outage behind the app (a database fail-over): clients see a
slow answer instead of an error. No new router: a pause is two files renamed on the proxy.
Refused while the app is in maintenance or a canary; a deploy's switch ends a pause."""

from __future__ import annotations

from deploy_actions.compose import hostwise, pause
from deploy_actions.compose import settings as deploy
from deploy_actions.console import Reporter
from deploy_actions.results import Result


def run(spec: pause.Pause, reporter: Reporter) -> Result:
    params = {**deploy.remote_params(spec.reach), "ACTION": "pause", "PAUSE": str(spec.seconds)}
    state = "on" if spec.seconds else "off"
    result = hostwise.run(spec.reach, params, reporter, f"pause {state}", ("Pause", "state"), ("until",), state=state)
    if result.ok:
        result.message = (
            f"requests wait at the proxy of {len(spec.reach.hosts)} host(s) for {spec.seconds}s at most"
            if spec.seconds
            else f"the pause is over on {len(spec.reach.hosts)} host(s): requests go on to the live copy"
        )
    return result


COMMAND = hostwise.routed_command(
    "pause",
    "Hold requests to an app's names at its hosts' shared proxy for a few seconds at most (on), or not (off).",
    __doc__ or "",
    pause.OPTIONS,
    pause.parse_inputs,
    run,
)
