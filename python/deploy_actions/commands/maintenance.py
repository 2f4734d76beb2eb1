"""maintenance: an app's names answer 503 with Retry-After (and the repository's page, if
given) on every host's shared proxy — no request reaches the app — or, `off`, reach its live
copy again. A new router, like any route change: other apps lose nothing. A deploy of the
app ends maintenance (its switch routes the names to the new copy)."""

from __future__ import annotations

from deploy_actions.compose import host_proxy, hostwise, maintenance
from deploy_actions.compose import settings as deploy
from deploy_actions.console import Reporter
from deploy_actions.results import Result


def run(spec: maintenance.Maintenance, reporter: Reporter) -> Result:
    params = deploy.remote_params(spec.reach)
    usual = params["HP_ROUTES"]
    params |= {
        "ACTION": "maintenance",
        "MAINT": "on" if spec.on else "off",
        "HP_MAINT_ROUTES": maintenance.route_lines(usual, spec.retry_after, bool(spec.page), host_proxy.APP_TOKEN),
        "HP_PAGE": spec.page,
    }
    label = f"maintenance {params['MAINT']}"
    result = hostwise.run(spec.reach, params, reporter, label, ("Maintenance", "state"), state=params["MAINT"])
    if result.ok:
        result.message = f"maintenance is {params['MAINT']} on {len(spec.reach.hosts)} host(s)"
    return result


COMMAND = hostwise.routed_command(
    "maintenance",
    "Answer an app's names with 503 and Retry-After on its hosts' shared proxy (on), or not (off).",
    __doc__ or "",
    maintenance.OPTIONS,
    maintenance.parse_inputs,
    run,
)
