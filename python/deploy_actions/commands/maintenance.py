"""maintenance: an app's names answer 503 with Retry-After (and the repository's page, if
given) on every host's shared proxy — no request reaches the app — or, `off`, reach its live
copy again. A new router, like any route change: other apps lose nothing. A deploy of the
app ends maintenance (its switch routes the names to the new copy)."""

from __future__ import annotations

from deploy_actions import gha
from deploy_actions.compose import host_proxy, maintenance
from deploy_actions.compose import settings as deploy
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.results import Result


def run(spec: maintenance.Maintenance, reporter: Reporter) -> Result:
    from deploy_actions.compose.execute import on_every_host

    params = deploy.remote_params(spec.reach)
    usual = params["HP_ROUTES"]
    params |= {
        "ACTION": "maintenance",
        "MAINT": "on" if spec.on else "off",
        "HP_MAINT_ROUTES": maintenance.route_lines(usual, spec.retry_after, bool(spec.page), host_proxy.APP_TOKEN),
        "HP_PAGE": spec.page,
    }
    wanted = params["MAINT"]
    rows = [
        [str(a.host), a.fields.get("state", "—"), "ok" if a.ok else a.problem()]
        for a in on_every_host(spec.reach, params, reporter, f"maintenance {wanted}")
    ]
    result = Result(all(r[2] == "ok" for r in rows), document={"state": wanted, "hosts": rows})
    for host, _, problem in rows:
        if problem != "ok":
            result.error(f"{host}: {problem}", title="maintenance")
    result.summary = f"### maintenance {wanted}\n\n" + gha.md_table(["Host", "Maintenance", "Result"], rows)
    if result.ok:
        result.message = f"maintenance is {wanted} on {len(rows)} host(s)"
    return result


COMMAND = Command(
    name="maintenance",
    summary="Answer an app's names with 503 and Retry-After on its hosts' shared proxy (on), or not (off).",
    description=__doc__ or "",
    options=maintenance.OPTIONS,
    outputs={},
    parse=maintenance.parse_inputs,
    run=run,
    secrets=lambda spec: deploy.secrets(spec.reach),
    action=False,
)
