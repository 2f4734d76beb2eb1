"""Maintenance mode's pure parts: its inputs and the routes that answer for the app."""

import json

import pytest

from deploy_actions.compose import host_proxy, maintenance
from deploy_actions.errors import UsageError

BASE = {o.name: o.default for o in maintenance.OPTIONS} | {
    "hosts": "deploy@127.0.0.2:2222",
    "deploy-path": "/srv/app",
    "known-hosts": "x",
    "hostname": "a.example.com, example.com/api",
    "state": "on",
}
USUAL = host_proxy.route_lines(
    host_proxy.HostProxy(host_proxy.parse_names("a.example.com, example.com/api"), "internal", "", "", ":443")
)


def test_the_routes_keep_the_matches_and_answer_503_with_retry_after():
    for before, after in zip(
        USUAL.splitlines(), maintenance.route_lines(USUAL, 120, False, "%APP%").splitlines(), strict=True
    ):
        route, usual = json.loads(after.partition("\t")[2]), json.loads(before.partition("\t")[2])
        assert route["match"] == usual["match"] and after.partition("\t")[0] == before.partition("\t")[0]
        [answer] = route["handle"]
        assert answer["status_code"] == 503 and answer["headers"]["Retry-After"] == ["120"]
    paged = json.loads(maintenance.route_lines(USUAL, 60, True, "%APP%").splitlines()[0].partition("\t")[2])
    assert [h["handler"] for h in paged["handle"]] == ["headers", "rewrite", "file_server"]
    assert paged["handle"][2] == {"handler": "file_server", "root": "/config/apps/%APP%", "status_code": 503}


def test_inputs(tmp_path):
    page = tmp_path / "down.html"
    page.write_text("<h1>back soon</h1>\n")
    spec = maintenance.parse_inputs({**BASE, "maintenance-page": str(page), "retry-after": "90"}, {})
    assert spec.on and spec.retry_after == 90 and "back soon" in spec.page
    assert not maintenance.parse_inputs({**BASE, "state": "off"}, {}).on


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"state": "maybe"}, "state: expected on or off"),
        ({"retry-after": "0"}, "retry-after"),
        ({"hostname": ""}, "hostname: maintenance mode is set on the host's shared proxy"),
        ({"maintenance-page": "/nonexistent/page.html"}, "maintenance-page: cannot read the page"),
    ],
)
def test_bad_inputs(change, said):
    with pytest.raises(UsageError) as raised:
        maintenance.parse_inputs({**BASE, **change}, {})
    assert said in f"{raised.value.input}: {raised.value}"
