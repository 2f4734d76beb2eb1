"""The pause's inputs (the routes that hold requests are checked with the router's config)."""

import pytest

from deploy_actions.compose import host_proxy, pause
from deploy_actions.errors import UsageError

BASE = {o.name: o.default for o in pause.OPTIONS} | {
    "hosts": "deploy@127.0.0.2:2222",
    "deploy-path": "/srv/app",
    "known-hosts": "x",
    "hostname": "a.example.com",
    "state": "on",
}


def test_inputs():
    assert pause.parse_inputs(BASE, {}).seconds == 10
    assert pause.parse_inputs({**BASE, "pause-timeout": "1m"}, {}).seconds == host_proxy.PAUSE_LIMIT == 60
    assert pause.parse_inputs({**BASE, "pause-timeout": "2"}, {}).seconds == 2
    assert pause.parse_inputs({**BASE, "state": "off"}, {}).seconds == 0  # off: the pause ends now


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"state": "hold"}, "state: expected on or off"),
        ({"pause-timeout": "61s"}, "pause-timeout: expected whole seconds from 1s to 60s"),
        ({"pause-timeout": "1.5s"}, "pause-timeout: expected whole seconds"),
        ({"pause-timeout": "500ms"}, "pause-timeout: expected a duration of at least 1s"),
        ({"pause-timeout": "soon"}, "pause-timeout: expected a duration such as"),
        ({"hostname": ""}, "hostname: a pause is set on the host's shared proxy"),
    ],
)
def test_bad_inputs(change, said):
    with pytest.raises(UsageError) as raised:
        pause.parse_inputs({**BASE, **change}, {})
    assert said in f"{raised.value.input}: {raised.value}"
