"""The readiness gate's one contract, as every releasing action parses it."""

import pytest

from deploy_actions.errors import UsageError
from deploy_actions.smoke import gate


def raw(url="", timeout="60s", spec=""):
    return {"ready-url": url, "ready-timeout": timeout, "smoke-spec": spec}


@pytest.mark.parametrize(
    "url, hosts, message",
    [
        ("http://127.0.0.1:8000", False, "expected the full readiness URL such as http://127.0.0.1:8000/ready"),
        ("http://{host}:8000/", True, "(no path)"),
        ("http://{host}:8000/ready", False, "{host} is only for actions with hosts"),
        ("ftp://127.0.0.1/ready", False, "expected an http(s) URL"),
        ("http://u:p@127.0.0.1/ready", True, "without user:password@"),
        ("http://127.0.0.1/ready;rm", True, "without quotes or shell characters"),
        ("http://127.0.0.1:99999/ready", False, "expected a URL such as"),
        ("http://127.0.0.1/re ady", False, "without spaces or control characters"),
    ],
)
def test_one_contract_for_ready_url(url, hosts, message):
    with pytest.raises(UsageError) as caught:
        gate.parse_url(url, hosts=hosts)
    assert message in str(caught.value) and caught.value.input == "ready-url"


def test_a_gate_splits_its_url_and_builds_the_readiness_it_checks(tmp_path):
    spec = tmp_path / "smoke.yml"
    spec.write_text("version: 1\ncalls:\n  - name: version\n    path: /version\n")
    parsed = gate.parse(raw("https://{host}:8443/ready?deep=1", "5s", str(spec)), hosts=True, spec_needs="-")
    assert gate.split(parsed.url) == ("https://{host}:8443", "/ready?deep=1")
    readiness = gate.readiness(parsed, "http://127.0.0.1:9000", ca_bundle="/ca.pem")
    assert (readiness.url, readiness.ready_path, readiness.timeout) == ("http://127.0.0.1:9000", "/ready?deep=1", 5.0)
    assert readiness.smoke_spec == str(spec) and len(readiness.calls) == 1 and readiness.ca_bundle == "/ca.pem"
    assert gate.readiness(gate.parse(raw("http://127.0.0.1:8000/ready"), hosts=False, spec_needs="-")).url == (
        "http://127.0.0.1:8000"
    )


def test_the_same_bounds_everywhere(tmp_path):
    with pytest.raises(UsageError) as caught:
        gate.parse(raw("http://127.0.0.1/ready", "500ms"), hosts=False, spec_needs="-")
    assert caught.value.input == "ready-timeout"
    spec = tmp_path / "smoke.yml"
    spec.write_text("version: 1\ncalls:\n  - name: version\n    path: /version\n")
    with pytest.raises(UsageError) as caught:
        gate.parse(raw(spec=str(spec)), hosts=True, spec_needs="smoke calls need ready-url")
    assert str(caught.value) == "smoke-spec: smoke calls need ready-url"
    assert gate.parse(raw(), hosts=True, spec_needs="-") == gate.Gate("", 60.0, None, ())


@pytest.mark.parametrize("command", ["build-push", "ssh-compose-deploy", "swarm-deploy"])
def test_every_releasing_action_declares_the_gate_alike(command):
    from deploy_actions.commands import load

    options = {o.name: o for o in load(command).options}
    assert options["ready-timeout"].default == "60s" and options["smoke-spec"].path == "one"
    assert "ready-url" in options
