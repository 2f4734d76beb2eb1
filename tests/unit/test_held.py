"""hold, promote and abort on a fake SSH runner: what is called on each host, in which order,
and what is refused."""

import pytest

from deploy_actions.compose import canary
from deploy_actions.compose.rollout import Plan, Rollout
from deploy_actions.remote.hosts import Host
from deploy_actions.remote.ssh import Answer

H1, H2 = Host("d", "10.0.0.1"), Host("d", "10.0.0.2")
CANARY = canary.parse({**{o.name: o.default for o in canary.OPTIONS}, "canary-interval": "10s"})


class Hosts:
    def __init__(self, held=None):
        self.calls, self.held = [], held or {}

    def __call__(self, host, params, timeout):
        action = params["ACTION"]
        self.calls.append((str(host.host), action, params.get("TAG"), params.get("WEIGHT")))
        fields = {"ok": "true", "previous": "v1.0.0"}
        if action == "stage":
            fields |= {"colour": "green", "port": "8002", "routed": "true"}
        if action == "weigh":
            fields["since"] = "1"
        if action == "observe":
            fields |= {"live": "900,0,20,19", "new": "100,0,20,19"}
        if action == "pending":
            fields |= {"tag": self.held.get(host, ""), "colour": "green", "port": "8002"}
        return Answer(host, 0, "", "", 0.1, fields)

    def actions(self, host):
        return [a for h, a, _, _ in self.calls if h == host.host]


def plan(*hosts, tag="v2.0.0", **kw):
    return Plan(hosts=list(hosts), tag=tag, params={"HP_NAMES": "a.example.com"}, blue_green=True, **kw)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr("deploy_actions.compose.rollout.time.sleep", lambda seconds: None)


def test_hold_stages_gates_and_keeps_without_switching_or_finishing():
    fake, gated = Hosts(), []
    outcome = Rollout(plan(H1, H2, hold=True), fake, gate=lambda h, p: gated.append(h) or (True, "")).run()
    assert outcome.failure is None and outcome.held and [s.state for s in outcome.hosts] == ["held", "held"]
    assert fake.actions(H1) == ["prepare", "stage", "keep"] and gated == [H1, H2]


def test_a_held_canary_takes_its_steps_and_keeps_its_last_share():
    fake = Hosts()
    outcome = Rollout(plan(H1, hold=True, canary=CANARY), fake, gate=lambda h, p: (True, "")).run()
    assert outcome.held and fake.actions(H1) == ["prepare", "stage", "weigh", "observe", "weigh", "observe", "keep"]


def test_promote_switches_the_held_release_checks_it_and_stops_the_old_copies():
    fake, checked = Hosts(held={H1: "v2.0.0", H2: "v2.0.0"}), []
    rollout = Rollout(plan(H1, H2, tag="promote"), fake, check=lambda h: checked.append(h) or (True, ""))
    outcome = rollout.promote()
    assert outcome.failure is None and [s.state for s in outcome.hosts] == ["deployed", "deployed"]
    assert fake.actions(H1) == ["pending", "switch", "finish"] and checked == [H1, H2]
    assert {tag for _, a, tag, _ in fake.calls if a == "switch"} == {"v2.0.0"}


def test_promote_failing_its_public_check_switches_back():
    fake = Hosts(held={H1: "v2.0.0"})
    checks = iter([(False, "/ready answered 503"), (True, "")])
    outcome = Rollout(plan(H1), fake, check=lambda h: next(checks)).promote()
    assert outcome.rolled_back and "503" in outcome.failure
    assert fake.actions(H1) == ["pending", "switch", "switchback"]


def test_abort_sends_users_back_and_removes_the_held_copies():
    fake = Hosts(held={H1: "v2.0.0", H2: "v2.0.0"})
    outcome = Rollout(plan(H1, H2), fake).abort()
    assert outcome.failure is None and [s.state for s in outcome.hosts] == ["aborted", "aborted"]
    assert fake.actions(H2) == ["pending", "weigh", "discard"]
    assert {w for _, a, _, w in fake.calls if a == "weigh"} == {"0"}


@pytest.mark.parametrize(
    ("held", "said"),
    [
        ({}, "held now: d@10.0.0.1: nothing, d@10.0.0.2: nothing"),
        ({H1: "v2.0.0"}, "held now: d@10.0.0.1: v2.0.0, d@10.0.0.2: nothing"),
        ({H1: "v2.0.0", H2: "v2.1.0"}, "d@10.0.0.2: v2.1.0"),
    ],
)
@pytest.mark.parametrize("decision", ["promote", "abort"])
def test_nothing_held_or_not_the_same_release_everywhere_is_refused_and_nothing_changes(held, said, decision):
    fake = Hosts(held=held)
    outcome = getattr(Rollout(plan(H1, H2), fake), decision)()
    assert outcome.usage and said in outcome.failure and "nothing was changed" in outcome.failure
    assert {a for _, a, _, _ in fake.calls} == {"pending"}
