"""The order of a deploy across hosts, and what happens when a host fails. Takes the SSH
runner and the readiness check as functions, so every rule here is unit-tested with a fake.

1. prepare every host: host key, path, Compose, current tag, then pull the new tag — a
   refusal or a failed pull changes nothing that runs;
2. run the migration once, on the first host, before any host is switched;
3. switch hosts (serially, or `max_parallel` at a time), each checked for readiness; a host
   that fails is rolled back, and then every host already switched is rolled back too.

Blue-green, per host: `stage` the new copy beside the live one, `gate` it (ready + smoke on
the copy itself, before any user reaches it; `discard` it when it fails), `switch` the proxy,
check through the public URL (`switchback` when it fails); once every host is live, `finish`
stops the old copies, kept for a rollback that is only a switch.

Canary: every host's copy staged and gated first; then at each step every host's proxy is
set (`weigh`), the step's traffic is read back (`observe`) and judged (compose/canary.py);
a failed step on any host ends it everywhere (`weigh` 0, `discard`), and after the last
one every host switches as in blue-green.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from deploy_actions.compose import canary
from deploy_actions.migrations import timeouts as migration_timeouts
from deploy_actions.remote.hosts import Host
from deploy_actions.remote.ssh import Answer

Runner = Callable[[Host, dict, float], Answer]
ReadyCheck = Callable[[Host], tuple[bool, str]]
Gate = Callable[[Host, int], tuple[bool, str]]  # host, the new copy's port

# What a host was left on, as reported per host.
UNTOUCHED, DEPLOYED, ROLLED_BACK, ROLLBACK_FAILED, NOT_ROLLED_BACK, SKIPPED, UNKNOWN, REJECTED = (
    "untouched",
    "deployed",
    "rolled-back",
    "rollback-failed",
    "new-tag-no-previous",
    "not-switched",
    "unknown",
    "rejected",
)  # rejected: blue-green's new copy failed its gate and never received a request
HELD, ABORTED = "held", "aborted"  # hold: gated, waiting for promote; abort: the held copy removed


@dataclass
class Plan:
    hosts: list[Host]
    tag: str
    params: dict[str, str]  # the remote script's parameters shared by every host
    migrate: bool = False
    blue_green: bool = False
    max_parallel: int = 1
    fail_fast: bool = True
    command_timeout: float = 600
    deadline: float = float("inf")  # time.monotonic() value
    canary: canary.Canary | None = None  # blue-green switched in steps
    hold: bool = False  # stop before everyone is switched: promote or abort later
    during_migration: tuple[dict[str, str], dict[str, str]] | None = None  # the shared proxy's pause or
    # maintenance around the migration: the parameters that start it, those that end it


@dataclass
class HostState:
    host: Host
    previous: str = ""
    state: str = UNTOUCHED
    step: str = ""
    message: str = ""
    seconds: float = 0.0
    digests: str = ""
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state in (DEPLOYED, HELD, ABORTED) and not self.step

    def as_dict(self) -> dict:
        return {
            "host": str(self.host),
            "ok": self.ok,
            "state": self.state,
            "previous": self.previous,
            "failed_step": self.step or None,
            "message": self.message,
            "seconds": round(self.seconds, 2),
            "digests": dict(p.split("=", 1) for p in self.digests.split(",") if "=" in p),
        }


@dataclass
class Outcome:
    hosts: list[HostState]
    failure: str | None = None  # one line: which host, which check
    steps: list[dict] = field(default_factory=list)  # a canary's steps: weight, and per host what was measured
    tag: str = ""  # the release acted on (promote and abort read it from the hosts)

    @property
    def rolled_back(self) -> bool:
        return any(h.state in (ROLLED_BACK, ROLLBACK_FAILED) for h in self.hosts)

    @property
    def usage(self) -> bool:
        """The failure is the caller's input (a compose file unusable for blue-green, the
        proxy port taken, no proxy image, a name another app serves, other settings than the
        host's shared proxy runs with): exit 2, and nothing changed anywhere."""
        return any(
            h.step in ("config", "proxy-port", "proxy-image", "hostname", "proxy-settings", "held") for h in self.hosts
        )

    @property
    def held(self) -> bool:
        return bool(self.hosts) and all(h.state == HELD for h in self.hosts)


class Rollout:
    def __init__(
        self,
        plan: Plan,
        run: Runner,
        check: ReadyCheck | None = None,
        say: Callable[[str], None] = lambda text: None,
        gate: Gate | None = None,
    ):
        self.plan, self._run, self.check, self.say, self.gate = plan, run, check, say, gate
        self.states = {h: HostState(h) for h in plan.hosts}
        self.steps: list[dict] = []
        self._lock = threading.Lock()

    def _call(self, host: Host, action: str, **extra: str) -> Answer:
        remaining = self.plan.deadline - time.monotonic()
        if remaining <= 0:
            return Answer(host, 124, "", "the overall timeout passed", 0.0)
        answer = self._run(
            host, {**self.plan.params, "ACTION": action, **extra}, min(self.plan.command_timeout, remaining)
        )
        state = self.states[host]
        with self._lock:
            state.logs.append(f"$ {action} {extra.get('TAG', '')}".rstrip())
            state.logs += [line for line in answer.out.splitlines() if not line.startswith("@@")]
            state.logs += [f"stderr: {line}" for line in answer.err.splitlines() if line.strip()]
            state.seconds += answer.seconds
        return answer

    def _everywhere(self, action: str) -> str | None:
        """Run an action on every host at once; the first refusal, as one line."""
        answers = self._parallel(lambda h: self._call(h, action))
        for answer in answers:
            if answer.ok:
                self.states[answer.host].previous = answer.fields.get("previous", "")
        failed = next((a for a in answers if not a.ok), None)
        if failed:
            self.states[failed.host].step = failed.fields.get("step", "")
        return f"{action} on {failed.host}: {failed.problem()}" if failed else None

    def _switch(self, host: Host, stop: threading.Event) -> None:
        state = self.states[host]
        if stop.is_set():
            state.state = SKIPPED
            return
        self.say(f"{host}: switching to {self.plan.tag}")
        answer = self._call(host, "switch", TAG=self.plan.tag)
        state.digests = answer.fields.get("digests", "")
        if answer.ok:
            state.state = DEPLOYED
            if self.check:
                ready, why = self.check(host)
                if not ready:
                    state.step, state.message = "ready", why
                    self._roll_back(state, reason="not-ready")
                    if self.plan.fail_fast:
                        stop.set()
                    return
            self.say(f"{host}: on {self.plan.tag}")
            return
        state.step = answer.fields.get("step", "ssh")
        state.message = answer.problem()
        if not answer.fields:  # the connection failed mid-way: what runs there is not known
            state.state = UNKNOWN
        elif answer.fields.get("rolled_back") == "true":
            state.state = ROLLED_BACK
        elif answer.fields.get("state") == "on-new-tag-no-previous":
            state.state = NOT_ROLLED_BACK
        else:
            state.state = ROLLBACK_FAILED
        if self.plan.fail_fast:
            stop.set()

    def _fail(self, state: HostState, step: str, message: str, stop: threading.Event, new_state: str) -> None:
        state.step, state.message, state.state = step, message, new_state
        if self.plan.fail_fast:
            stop.set()

    def _stage(self, host: Host, stop: threading.Event) -> Answer | None:
        """The new copy started beside the live one and gated; None when it is not (said in its state)."""
        state = self.states[host]
        if stop.is_set():
            state.state = SKIPPED
            return None
        self.say(f"{host}: starting {self.plan.tag} beside the live copy")
        staged = self._call(host, "stage", TAG=self.plan.tag)
        if not staged.ok:
            rejected = staged.fields.get("state") == "rejected"
            self._fail(
                state, staged.fields.get("step", "ssh"), staged.problem(), stop, REJECTED if rejected else UNKNOWN
            )
            return None
        state.digests = staged.fields.get("digests", "")
        if self.gate:
            ready, why = self.gate(host, int(staged.fields.get("port", "0")))
            if not ready:
                self._call(host, "discard", TAG=self.plan.tag, REASON="gate")
                self._fail(state, "gate", f"the new copy failed before any switch: {why}", stop, REJECTED)
                return None
        return staged

    def _switch_blue_green(self, host: Host, stop: threading.Event) -> None:
        staged = self._stage(host, stop)
        if staged and self.plan.hold:
            self._keep(host)
        elif staged:
            self._point(host, stop, staged)

    def _keep(self, host: Host) -> None:
        """hold: the gated copy (or the canary at its last step) waits for promote or abort."""
        kept = self._call(host, "keep", TAG=self.plan.tag)
        state = self.states[host]
        if kept.ok:
            state.state = HELD
            self.say(f"{host}: {self.plan.tag} is held: promote or abort it with deploy-actions promote / abort")
        else:
            state.state, state.step, state.message = REJECTED, kept.fields.get("step", "keep"), kept.problem()

    def _point(self, host: Host, stop: threading.Event, staged: Answer) -> None:
        """Every user of this host to its staged copy, then the public check."""
        state = self.states[host]
        self.say(f"{host}: switching the proxy to {self.plan.tag} ({staged.fields.get('colour', '?')})")
        switched = self._call(host, "switch", TAG=self.plan.tag)
        if not switched.ok:
            self._call(host, "discard", TAG=self.plan.tag, REASON="switch")
            self._fail(
                state,
                switched.fields.get("step", "switch"),
                switched.problem(),
                stop,
                REJECTED if switched.fields else UNKNOWN,
            )
            return
        state.state = DEPLOYED
        if self.check:
            ready, why = self.check(host)
            if not ready:
                state.step, state.message = "ready", f"through the proxy: {why}"
                self._roll_back(state, reason="not-ready")
                if self.plan.fail_fast:
                    stop.set()
                return
        self.say(f"{host}: users reach {self.plan.tag}")

    def _parallel(self, work: Callable[[Host], Any]) -> list:
        """`work` on every host at once (at most 16 at a time), the results in the hosts' order."""
        with ThreadPoolExecutor(max_workers=min(len(self.plan.hosts), 16)) as pool:
            return list(pool.map(work, self.plan.hosts))

    def _canary(self, stop: threading.Event) -> None:
        """Every host's new copy staged and gated, then given a growing share of users, each
        step judged on what the shared proxies measured; all hosts switch only after the last."""
        rules = self.plan.canary
        assert rules is not None
        with ThreadPoolExecutor(max_workers=max(1, self.plan.max_parallel)) as pool:
            staged = dict(zip(self.plan.hosts, pool.map(lambda h: self._stage(h, stop), self.plan.hosts), strict=True))
        if not all(staged.values()):
            for host, answer in staged.items():
                if answer:  # another host's copy failed: this one never served either
                    self._call(host, "discard", TAG=self.plan.tag, REASON="other-host")
                    self.states[host].state = SKIPPED
            return
        if not all(answer.fields.get("routed") == "true" for answer in staged.values()):
            self.say("canary: no live copy behind the shared proxy yet to compare with; switching as blue-green does")
        else:
            for weight in rules.steps:
                failed = self._canary_step(weight)
                if failed:
                    host, why = failed
                    self._abort_canary(host, why)
                    stop.set()
                    return
        if self.plan.hold:  # users stay at the last step's share until promote or abort
            self._parallel(self._keep)
            return
        self._parallel(lambda h: self._point(h, stop, staged[h]))

    def _canary_step(self, weight: int) -> tuple[Host, str] | None:
        """One step on every host; the first host whose new copy failed it, and why."""
        rules = self.plan.canary
        assert rules is not None
        weighed = self._parallel(lambda h: self._call(h, "weigh", TAG=self.plan.tag, WEIGHT=str(weight)))
        broken = next((a for a in weighed if not a.ok), None)
        if broken:
            return broken.host, f"the shared proxy could not be set to {weight}%: {broken.problem()}"
        self.say(f"canary: {weight}% of new visitors reach {self.plan.tag}; judging after {rules.interval:g}s")
        if time.monotonic() + rules.interval > self.plan.deadline:
            return weighed[0].host, f"the overall timeout ends before the {weight}% step would"
        time.sleep(rules.interval)
        since = {a.host: a.fields.get("since", "0") for a in weighed}
        observed = self._parallel(lambda h: self._call(h, "observe", TAG=self.plan.tag, SINCE=since[h]))
        step: dict = {"weight": weight, "hosts": {}}
        self.steps.append(step)
        failed = None
        for answer in observed:
            if not answer.ok:
                failed = failed or (answer.host, f"the shared proxy's log could not be read: {answer.problem()}")
                continue
            live = canary.parse_sample(answer.fields.get("live", ""))
            new = canary.parse_sample(answer.fields.get("new", ""))
            verdict = canary.judge(live, new, rules)
            step["hosts"][str(answer.host)] = {
                "ok": verdict.ok,
                "live": live.as_dict(),
                "new": new.as_dict(),
                "verdict": verdict.reason,
            }
            self.say(f"{answer.host}: {weight}% step {'passed' if verdict.ok else 'FAILED'}: {verdict.reason}")
            if not verdict.ok:
                failed = failed or (answer.host, f"at the {weight}% step: {verdict.reason}")
        return failed

    def _abort_canary(self, host: Host, why: str) -> None:
        """Every user back to the live copy, then the new copies removed — but not where the
        proxy could not be set back: there the new copy still serves its share, so it stays."""
        for reset in self._parallel(lambda h: self._call(h, "weigh", TAG=self.plan.tag, WEIGHT="0")):
            state = self.states[reset.host]
            if reset.ok:
                self._call(reset.host, "discard", TAG=self.plan.tag, REASON="canary")
                state.state = ROLLED_BACK
            else:
                state.state, state.step = ROLLBACK_FAILED, "canary"
                state.message = f"the shared proxy could not be set back, the new copy still serves: {reset.problem()}"
        failed = self.states[host]
        failed.step, failed.message = "canary", "; ".join(filter(None, [why, failed.message]))

    def _roll_back(self, state: HostState, reason: str) -> None:
        """Back to the previous tag, then re-checked the way the new one was. Recreate
        redeploys it; blue-green switches the proxy back to the old copy, still running."""
        if not state.previous:
            state.state = NOT_ROLLED_BACK
            return
        action, doing, done = (
            ("switchback", "switching back", "switch back")
            if self.plan.blue_green
            else ("rollback", "rolling back", "rollback")
        )
        self.say(f"{state.host}: {doing} to {state.previous} ({reason})")
        answer = self._call(state.host, action, TAG=state.previous, REASON=reason)
        state.state = ROLLED_BACK if answer.ok else ROLLBACK_FAILED
        if not answer.ok:
            state.message = "; ".join(filter(None, [state.message, f"{done} failed: {answer.problem()}"]))
            return
        state.digests = answer.fields.get("digests", state.digests)
        if self.check:
            ready, why = self.check(state.host)
            if not ready:
                state.state = ROLLBACK_FAILED
                state.message = "; ".join(filter(None, [state.message, f"not ready after {done}: {why}"]))

    def _finish(self) -> None:
        """Every host is live on the new tag: stop the old copies (kept for a fast rollback).
        A host where that fails still serves the new tag; it is said, not failed."""
        for answer in self._parallel(lambda h: self._call(h, "finish", TAG=self.plan.tag)):
            if not answer.ok:
                self.say(
                    f"{answer.host}: the old copy was not stopped ({answer.problem()}); it still runs beside "
                    "the live one"
                )

    def run(self) -> Outcome:
        hosts = self.plan.hosts
        failure = self._everywhere("prepare")
        if failure:
            return Outcome(list(self.states.values()), f"{failure} (nothing was switched)")
        if self.plan.migrate:
            failure = self._around_migration(starting=True)
            if failure:
                self._around_migration(starting=False)
                return Outcome(list(self.states.values()), f"{failure} (nothing was migrated or switched)")
            answer = self._call(hosts[0], "migrate", TAG=self.plan.tag)
            self._around_migration(starting=False)
            if not answer.ok:
                why = migration_timeouts.explain(answer.problem())
                return Outcome(
                    list(self.states.values()), f"migration on {hosts[0]} failed: {why} (nothing was switched)"
                )
        stop = threading.Event()
        if self.plan.canary:
            self._canary(stop)
        else:
            switch = self._switch_blue_green if self.plan.blue_green else self._switch
            with ThreadPoolExecutor(max_workers=max(1, self.plan.max_parallel)) as pool:
                list(pool.map(lambda h: switch(h, stop), hosts))
        return self._conclude()

    def _around_migration(self, starting: bool) -> str | None:
        """during-migration: users paused, or answered 503, on every host's shared proxy while
        the migration runs. Starting: the first refusal, as one line. Ending is said where it
        fails (a pause still ends by itself; the switch ends maintenance)."""
        if not self.plan.during_migration:
            return None
        params = self.plan.during_migration[0 if starting else 1]
        answers = self._parallel(lambda h: self._call(h, **params))
        failed = next((a for a in answers if not a.ok), None)
        if failed and starting:
            return f"{params['action']} on {failed.host}: {failed.problem()}"
        for answer in answers:
            if not answer.ok:
                self.say(
                    f"{answer.host}: {params['action']} could not be ended after the migration: {answer.problem()}"
                )
        return None

    def _conclude(self) -> Outcome:
        """Every host switched: the old copies stopped; a host failed: the switched ones back."""
        failed = [s for s in self.states.values() if s.step]
        if not failed:
            if self.plan.blue_green and not self.plan.hold:
                self._finish()
            return Outcome(list(self.states.values()), steps=self.steps)
        for state in self.states.values():
            if state.state == DEPLOYED and not state.step:
                self._roll_back(state, reason=f"{failed[0].host}-failed")
        first = failed[0]
        left = ", ".join(f"{s.host}: {s.state}" for s in self.states.values())
        return Outcome(
            list(self.states.values()),
            f"{first.host} failed at {first.step}: {first.message}. Hosts now: {left}",
            steps=self.steps,
        )

    def _held(self) -> dict[Host, Answer] | Outcome:
        """What every host holds (`pending`), or the Outcome that refuses to act: a host not
        reached, nothing held, or not the same release everywhere."""
        answers = self._parallel(lambda h: self._call(h, "pending"))
        for answer in answers:
            state = self.states[answer.host]
            state.previous = answer.fields.get("previous", "")
            if not answer.ok:
                state.step, state.message = answer.fields.get("step", "ssh"), answer.problem()
                return Outcome(list(self.states.values()), f"{answer.host}: {answer.problem()} (nothing was changed)")
        tags = {str(a.host): a.fields.get("tag", "") for a in answers}
        if len(set(tags.values())) != 1 or not next(iter(tags.values())):
            first = self.states[answers[0].host]
            first.step = "held"
            held = ", ".join(f"{host}: {tag or 'nothing'}" for host, tag in tags.items())
            return Outcome(
                list(self.states.values()),
                f"promote and abort act on one release held on every host; held now: {held} (nothing was changed)",
            )
        self.plan.tag = next(iter(tags.values()))
        return {a.host: a for a in answers}

    def promote(self) -> Outcome:
        """The held release to everyone, host by host as a deploy switches, then the old copies stopped."""
        held = self._held()
        if isinstance(held, Outcome):
            return held
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=max(1, self.plan.max_parallel)) as pool:
            list(pool.map(lambda h: self._point(h, stop, held[h]), self.plan.hosts))
        return self._conclude()

    def abort(self) -> Outcome:
        """The held release removed on every host; users on a canary's share go back first."""
        held = self._held()
        if isinstance(held, Outcome):
            return held
        if self.plan.canary or self.plan.params.get("HP_NAMES"):
            self._parallel(lambda h: self._call(h, "weigh", TAG=self.plan.tag, WEIGHT="0"))
        for answer in self._parallel(lambda h: self._call(h, "discard", TAG=self.plan.tag, REASON="abort")):
            state = self.states[answer.host]
            state.state = ABORTED if answer.ok else UNKNOWN
            if not answer.ok:
                state.step, state.message = "discard", answer.problem()
        failed = [s for s in self.states.values() if s.step]
        return Outcome(list(self.states.values()), f"{failed[0].host}: {failed[0].message}" if failed else None)
