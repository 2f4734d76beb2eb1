"""The rollout rules on a fake SSH runner: order of phases, migrate once, fail-fast, and
that every switched host is rolled back when one fails."""

import threading

from deploy_actions.compose.rollout import Plan, Rollout
from deploy_actions.remote.hosts import Host
from deploy_actions.remote.ssh import Answer

H1, H2, H3 = Host("d", "10.0.0.1"), Host("d", "10.0.0.2"), Host("d", "10.0.0.3")


class FakeHosts:
    def __init__(self, fail=None, previous="v1.0.0", switch_fields=None):
        self.calls = []
        self.fail = fail or {}  # (host, action) -> fields of a failed answer (or None for ssh failure)
        self.previous = previous
        self.switch_fields = switch_fields or {}
        self.lock = threading.Lock()

    def __call__(self, host, params, timeout):
        with self.lock:
            self.calls.append((str(host.host), params["ACTION"], params.get("TAG")))
        key = (host, params["ACTION"])
        if key in self.fail:
            fields = self.fail[key]
            return Answer(host, 255 if fields is None else 8, "", "boom", 0.1, fields or {})
        fields = {"ok": "true", "previous": self.previous, "digests": "web=sha256:abc"}
        return Answer(host, 0, "", "", 0.1, fields)


def plan(*hosts, **kw):
    return Plan(hosts=list(hosts), tag="v2.0.0", params={"DEPLOY_PATH": "/srv/app"}, **kw)


def test_phases_in_order_and_migration_once():
    fake = FakeHosts()
    outcome = Rollout(plan(H1, H2, migrate=True), fake).run()
    assert outcome.failure is None and not outcome.rolled_back
    actions = [a for _, a, _ in fake.calls]
    assert actions.count("migrate") == 1 and ("10.0.0.1", "migrate", "v2.0.0") in fake.calls
    assert actions.index("migrate") > max(i for i, a in enumerate(actions) if a == "prepare")
    assert actions.index("migrate") < actions.index("switch")
    assert [s.state for s in outcome.hosts] == ["deployed", "deployed"]
    assert outcome.hosts[0].previous == "v1.0.0"


def test_prepare_refusal_changes_nothing():
    fake = FakeHosts(fail={(H2, "prepare"): None})
    outcome = Rollout(plan(H1, H2), fake).run()
    assert "prepare on d@10.0.0.2" in outcome.failure and "nothing was switched" in outcome.failure
    assert {a for _, a, _ in fake.calls} == {"prepare"}


def test_failed_migration_switches_nothing():
    fake = FakeHosts(fail={(H1, "migrate"): {"ok": "false", "step": "migrate"}})
    outcome = Rollout(plan(H1, H2, migrate=True), fake).run()
    assert "migration on d@10.0.0.1 failed" in outcome.failure
    assert "switch" not in {a for _, a, _ in fake.calls}


PAUSED = ({"action": "pause", "PAUSE": "10"}, {"action": "pause", "PAUSE": "0"})


def test_during_migration_pauses_every_host_around_it_and_ends_even_when_it_fails():
    for fail in ({}, {(H1, "migrate"): {"ok": "false", "step": "migrate"}}):
        fake = FakeHosts(fail=fail)
        outcome = Rollout(plan(H1, H2, migrate=True, during_migration=PAUSED), fake).run()
        actions = [a for _, a, _ in fake.calls]
        assert (
            actions[actions.index("migrate") - 2 : actions.index("migrate") + 3]
            == ["pause"] * 2 + ["migrate"] + ["pause"] * 2
        )
        assert (outcome.failure is None) == (not fail)


def test_a_host_that_cannot_pause_stops_the_deploy_before_the_migration():
    fake = FakeHosts(fail={(H2, "pause"): {"ok": "false", "step": "state"}})
    outcome = Rollout(plan(H1, H2, migrate=True, during_migration=PAUSED), fake).run()
    assert "pause on d@10.0.0.2" in outcome.failure and "nothing was migrated or switched" in outcome.failure
    assert "migrate" not in [a for _, a, _ in fake.calls]


def test_failing_host_rolls_back_every_switched_host_and_stops_the_rest():
    fake = FakeHosts(
        fail={
            (H2, "switch"): {
                "ok": "false",
                "step": "ready",
                "rolled_back": "true",
                "previous": "v1.0.0",
                "state": "on-previous",
            }
        }
    )
    outcome = Rollout(plan(H1, H2, H3), fake).run()
    assert [s.state for s in outcome.hosts] == ["rolled-back", "rolled-back", "not-switched"]
    assert ("10.0.0.1", "rollback", "v1.0.0") in fake.calls
    assert not any(h == "10.0.0.3" and a == "switch" for h, a, _ in fake.calls)
    assert "d@10.0.0.2 failed at ready" in outcome.failure and "d@10.0.0.3: not-switched" in outcome.failure
    assert outcome.rolled_back


def test_without_fail_fast_the_rest_still_switch_then_roll_back():
    fake = FakeHosts(fail={(H1, "switch"): {"ok": "false", "step": "up", "rolled_back": "true"}})
    outcome = Rollout(plan(H1, H2, H3, fail_fast=False), fake).run()
    assert [s.state for s in outcome.hosts] == ["rolled-back", "rolled-back", "rolled-back"]


def test_runner_side_check_failure_rolls_back_and_rechecks():
    checked = []

    def check(host):
        checked.append(str(host.host))
        return (str(host.host) != "10.0.0.2", "not ready")

    fake = FakeHosts()
    outcome = Rollout(plan(H1, H2), fake, check).run()
    assert [s.state for s in outcome.hosts] == ["rolled-back", "rollback-failed"]  # H2 still not ready after
    assert checked.count("10.0.0.2") == 2  # after the switch, and again after its rollback
    assert "not ready after rollback" in outcome.hosts[1].message


def test_connection_lost_mid_switch_is_reported_as_unknown():
    fake = FakeHosts(fail={(H1, "switch"): None})
    outcome = Rollout(plan(H1), fake).run()
    assert outcome.hosts[0].state == "unknown"
    assert "ssh exited 255" in outcome.hosts[0].message or "boom" in outcome.hosts[0].message


def test_no_previous_tag_cannot_be_rolled_back_and_says_so():
    fake = FakeHosts(
        previous="", fail={(H2, "switch"): {"ok": "false", "step": "ready", "state": "on-new-tag-no-previous"}}
    )
    outcome = Rollout(plan(H1, H2), fake).run()
    assert [s.state for s in outcome.hosts] == ["new-tag-no-previous", "new-tag-no-previous"]


def test_parallel_rollout_runs_hosts_concurrently():
    barrier = threading.Barrier(3, timeout=5)
    fake = FakeHosts()

    def run(host, params, timeout):
        if params["ACTION"] == "switch":
            barrier.wait()  # only passes if all three switch at the same time
        return fake(host, params, timeout)

    outcome = Rollout(plan(H1, H2, H3, max_parallel=3), run).run()
    assert outcome.failure is None


# -- blue-green ---------------------------------------------------------------------------
def bg_plan(*hosts, **kw):
    return plan(*hosts, blue_green=True, **kw)


class FakeBlueGreen(FakeHosts):
    def __call__(self, host, params, timeout):
        answer = super().__call__(host, params, timeout)
        if answer.ok and params["ACTION"] == "stage":
            answer.fields.update(colour="green", port="8002")
        return answer


def test_blue_green_phases_gate_before_switch_and_finish_everywhere_last():
    fake, gated = FakeBlueGreen(), []
    outcome = Rollout(
        bg_plan(H1, H2, migrate=True),
        fake,
        check=lambda h: (True, ""),
        gate=lambda h, port: gated.append((str(h.host), port, len(fake.calls))) or (True, ""),
    ).run()
    assert outcome.failure is None
    per_host = [a for h, a, _ in fake.calls if h == "10.0.0.1"]
    assert per_host == ["prepare", "migrate", "stage", "switch", "finish"]
    # the gate ran after the stage and before the switch of that host
    assert gated[0][:2] == ("10.0.0.1", 8002) and fake.calls[gated[0][2] - 1][1] == "stage"
    actions = [a for _, a, _ in fake.calls]
    assert min(i for i, a in enumerate(actions) if a == "finish") > max(
        i for i, a in enumerate(actions) if a == "switch"
    )


def test_blue_green_gate_failure_discards_the_copy_and_switches_nothing():
    fake = FakeBlueGreen()
    outcome = Rollout(
        bg_plan(H1, H2), fake, check=lambda h: (True, ""), gate=lambda h, port: (False, "/ready answered 503")
    ).run()
    assert "failed at gate" in outcome.failure and "503" in outcome.failure
    assert [a for _, a, _ in fake.calls] == ["prepare", "prepare", "stage", "discard"]
    assert [s.state for s in outcome.hosts] == ["rejected", "not-switched"]
    assert not outcome.rolled_back


def test_blue_green_later_host_failing_switches_the_first_back():
    fake = FakeBlueGreen()
    outcome = Rollout(
        bg_plan(H1, H2), fake, check=lambda h: (True, ""), gate=lambda h, port: (h != H2, "not ready")
    ).run()
    assert [s.state for s in outcome.hosts] == ["rolled-back", "rejected"]
    assert ("10.0.0.1", "switchback", "v1.0.0") in fake.calls
    assert "finish" not in {a for _, a, _ in fake.calls}


def test_blue_green_public_check_failing_switches_back():
    fake = FakeBlueGreen()
    checks = iter([(False, "smoke call failed"), (True, "")])  # the new tag fails, the old one passes again
    outcome = Rollout(bg_plan(H1), fake, check=lambda h: next(checks), gate=lambda h, port: (True, "")).run()
    assert outcome.hosts[0].state == "rolled-back" and outcome.hosts[0].step == "ready"
    assert "through the proxy: smoke call failed" in outcome.failure
    assert [a for _, a, _ in fake.calls] == ["prepare", "stage", "switch", "switchback"]


def test_blue_green_bad_compose_file_is_a_usage_failure():
    fake = FakeBlueGreen(fail={(H1, "prepare"): {"ok": "false", "step": "config"}})
    outcome = Rollout(bg_plan(H1), fake).run()
    assert outcome.usage and "nothing was switched" in outcome.failure
