"""The canary's pure rules: its inputs, the weighted route, the verdict on a step; and its
order in the rollout, on a fake SSH runner."""

import json

import pytest

from deploy_actions.compose import canary, host_proxy
from deploy_actions.compose.rollout import Plan, Rollout
from deploy_actions.errors import UsageError
from deploy_actions.remote.hosts import Host
from deploy_actions.remote.ssh import Answer

DEFAULTS = {o.name: o.default for o in canary.OPTIONS}


def rules(**changed):
    return canary.parse({**DEFAULTS, **{k.replace("_", "-"): v for k, v in changed.items()}})


def test_defaults_and_percent_forms():
    got = rules(canary_steps="5%, 25 ,50%", canary_interval="2m", canary_max_error_rate="0.5%")
    assert got.steps == (5, 25, 50) and got.interval == 120 and got.max_error_points == 0.5
    assert got.max_latency_ratio == 2 and got.min_requests == 50


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("canary-steps", "25%,5%", "expected increasing steps"),
        ("canary-steps", "10%,10%", "expected increasing steps"),
        ("canary-steps", "50%,100%", "from 1% to 99%"),
        ("canary-steps", "0%", "from 1% to 99%"),
        ("canary-steps", "12.5%", "whole percentages"),
        ("canary-steps", "ten", "from 1% to 99%"),
        ("canary-steps", "", "one or more steps"),
        ("canary-interval", "5s", "10s or more"),
        ("canary-max-error-rate", "101%", "from 0% to 100%"),
        ("canary-max-error-rate", "-1", "from 0% to 100%"),
        ("canary-max-error-rate", "nan", "from 0% to 100%"),
        ("canary-max-latency-ratio", "0.5", "from 1 to 100"),
        ("canary-max-latency-ratio", "inf", "from 1 to 100"),
        ("canary-min-requests", "0", "canary-min-requests"),
    ],
)
def test_bad_inputs_name_the_input(name, value, said):
    with pytest.raises(UsageError) as raised:
        canary.parse({**DEFAULTS, name: value})
    assert raised.value.input == name and said in str(raised.value)


def test_the_step_route_keeps_the_matches_and_weighs_two_copies():
    proxy = host_proxy.HostProxy(
        names=host_proxy.parse_names("a.example.com, example.com/api"),
        tls="internal",
        acme_ca="",
        acme_email="",
        tls_listen=":443",
    )
    usual = host_proxy.route_lines(proxy)
    weighted = canary.route_lines(usual, host_proxy.APP_TOKEN)
    for before, after in zip(usual.splitlines(), weighted.splitlines(), strict=True):
        order, _, text = after.partition("\t")
        assert order == before.partition("\t")[0]
        filled = text.replace("%WSTABLE%", "90").replace("%WCANARY%", "10")
        route = json.loads(filled)
        assert route["match"] == json.loads(before.partition("\t")[2])["match"]
        proxy_handler = route["handle"][1]
        assert [u["dial"] for u in proxy_handler["upstreams"]] == ["%STABLE%", "%CANARY%"]
        policy = proxy_handler["load_balancing"]["selection_policy"]
        assert policy["policy"] == "cookie" and policy["fallback"]["weights"] == [90, 10]
        assert route["handle"][0] == {
            "handler": "log_append",
            "key": "copy",
            "value": "{http.reverse_proxy.upstream.port}",
        }


def sample(requests, errors, p95, low=None):
    """What the host reports; the bound as tight as p95 unless given."""
    return canary.Sample(requests, errors, p95, p95 if low is None else low)


def test_a_healthy_copy_passes_and_the_verdict_says_what_was_measured():
    verdict = canary.judge(sample(900, 1, 20), sample(100, 0, 22), rules())
    assert verdict.ok and "new copy 100 requests, 0.0% failed, p95 22 ms" in verdict.reason


def test_errors_above_the_live_copy_by_more_than_allowed_fail():
    verdict = canary.judge(sample(900, 0, 20), sample(100, 5, 20), rules())
    assert not verdict.ok and "failed 5.0% of its requests against 0.0%" in verdict.reason
    # the same rate on both copies (the database is down for everyone) is not the release's fault
    assert canary.judge(sample(900, 45, 20), sample(100, 5, 20), rules()).ok


def test_a_slow_copy_fails_but_small_differences_never_do():
    assert not canary.judge(sample(900, 0, 20), sample(100, 0, 61), rules()).ok
    assert canary.judge(sample(900, 0, 2), sample(100, 0, 9), rules()).ok  # 4.5x, but 7 ms
    assert canary.judge(sample(900, 0, 20), sample(100, 0, 39), rules()).ok


def test_latency_fails_a_step_only_when_the_sample_proves_it():
    """The flaky step of CI: 172 requests whose p95 a few slow ones had lifted to 74 ms."""
    live = sample(1505, 0, 31)
    noisy = canary.judge(live, sample(172, 0, 74, low=33), rules())
    assert noisy.ok, noisy.reason
    slow = canary.judge(live, sample(172, 0, 74, low=68), rules())
    assert not slow.ok and "p95 was 74 ms (at least 68 ms with 99% confidence) against 31 ms" in slow.reason
    assert canary.judge(live, sample(172, 0, 74, low=62), rules()).ok  # the limit itself: 2 x 31


def test_too_few_requests_fail_the_step():
    verdict = canary.judge(sample(900, 0, 20), sample(12, 0, 20), rules())
    assert not verdict.ok and "fewer than canary-min-requests (50)" in verdict.reason


def test_samples_from_the_host():
    assert canary.parse_sample("120,3,45.5,30.1") == sample(120, 3, 45.5, low=30.1)
    assert canary.parse_sample("") == sample(0, 0, 0) == canary.parse_sample("garbage")
    assert canary.parse_sample("120,3,45.5") == sample(0, 0, 0)  # not this release's host script


# -- in the rollout -------------------------------------------------------------------------
H1, H2 = Host("d", "10.0.0.1"), Host("d", "10.0.0.2")


class FakeProxyHosts:
    """Hosts whose proxy reports `new` for the new copy at each step (by weight)."""

    def __init__(self, new=None, routed="true"):
        self.calls, self.new, self.routed = [], new or {}, routed

    def __call__(self, host, params, timeout):
        action = params["ACTION"]
        self.calls.append((str(host.host), action, params.get("WEIGHT", "")))
        fields = {"ok": "true", "previous": "v1.0.0"}
        if action == "stage":
            fields |= {"colour": "green", "port": "8002", "routed": self.routed}
        if action == "weigh":
            fields["since"] = "1000"
        if action == "observe":
            weight = next(w for h, a, w in reversed(self.calls) if a == "weigh" and h == str(host.host))
            fields |= {"live": "900,0,20,19", "new": self.new.get(weight, "100,0,21,20")}
        return Answer(host, 0, "", "", 0.1, fields)


def canary_plan(*hosts, steps="10%,50%"):
    return Plan(
        hosts=list(hosts),
        tag="v2.0.0",
        params={},
        blue_green=True,
        canary=rules(canary_steps=steps, canary_interval="10s"),
    )


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr("deploy_actions.compose.rollout.time.sleep", lambda seconds: None)


def test_every_host_takes_each_step_then_all_switch_and_the_old_copies_are_kept():
    fake = FakeProxyHosts()
    outcome = Rollout(canary_plan(H1, H2), fake, check=lambda h: (True, ""), gate=lambda h, p: (True, "")).run()
    assert outcome.failure is None and [s.state for s in outcome.hosts] == ["deployed", "deployed"]
    per_host = [(a, w) for h, a, w in fake.calls if h == "10.0.0.1"]
    assert [a for a, _ in per_host] == ["prepare", "stage", "weigh", "observe", "weigh", "observe", "switch", "finish"]
    assert [w for a, w in per_host if a == "weigh"] == ["10", "50"]
    assert [step["weight"] for step in outcome.steps] == [10, 50]
    assert outcome.steps[0]["hosts"]["d@10.0.0.2"]["new"] == {
        "requests": 100,
        "errors": 0,
        "p95_ms": 21.0,
        "p95_low_ms": 20.0,
    }


def test_a_failing_step_sends_everyone_back_and_removes_the_new_copies():
    fake = FakeProxyHosts(new={"10": "100,5,21,20"})
    outcome = Rollout(canary_plan(H1, H2), fake, check=lambda h: (True, ""), gate=lambda h, p: (True, "")).run()
    assert outcome.rolled_back and "failed at canary" in outcome.failure and "5.0%" in outcome.failure
    actions = [a for _, a, _ in fake.calls]
    assert "switch" not in actions and "finish" not in actions
    assert [w for _, a, w in fake.calls if a == "weigh"][-2:] == ["0", "0"]
    assert actions[-2:] == ["discard", "discard"]
    assert len(outcome.steps) == 1 and not outcome.steps[0]["hosts"]["d@10.0.0.1"]["ok"]


def test_no_live_copy_behind_the_shared_proxy_switches_at_once():
    fake = FakeProxyHosts(routed="false")
    said = []
    outcome = Rollout(canary_plan(H1), fake, say=said.append, check=lambda h: (True, "")).run()
    assert outcome.failure is None and "weigh" not in [a for _, a, _ in fake.calls]
    assert any("no live copy behind the shared proxy" in line for line in said)


def test_a_host_whose_proxy_cannot_be_set_back_keeps_its_new_copy():
    class ResetFails(FakeProxyHosts):
        def __call__(self, host, params, timeout):
            answer = super().__call__(host, params, timeout)
            if host == H2 and params["ACTION"] == "weigh" and params["WEIGHT"] == "0":
                return Answer(host, 8, "", "proxy busy", 0.1, {"ok": "false", "step": "proxy"})
            return answer

    fake = ResetFails(new={"10": "100,5,21,20"})
    outcome = Rollout(canary_plan(H1, H2), fake, check=lambda h: (True, ""), gate=lambda h, p: (True, "")).run()
    assert [s.state for s in outcome.hosts] == ["rolled-back", "rollback-failed"]
    assert [h for h, a, _ in fake.calls if a == "discard"] == ["10.0.0.1"]
    assert "could not be set back" in outcome.hosts[1].message
