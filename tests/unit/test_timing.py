"""The library's own time: what is recorded, what is dropped, when it is printed."""

import io
import json

import pytest

from deploy_actions import timing
from deploy_actions.remote import ssh
from deploy_actions.smoke.http import Response
from deploy_actions.smoke.wait import wait_ready


@pytest.fixture(autouse=True)
def clean():
    timing._totals.clear()
    yield
    timing._totals.clear()


def test_startup_ssh_and_report_only_on_request():
    timing.started({"DEPLOY_ACTIONS_STARTED": "1000,25"}, now=1000.75)  # bash prints a comma in some locales
    timing.started({"DEPLOY_ACTIONS_STARTED": ""}, now=5.0)  # old bash: no $EPOCHREALTIME
    ssh._record_setup(100.0, "100.2", session=1.0)
    ssh._record_setup(100.0, "99.0", session=1.0)  # a host clock behind ours: dropped
    ssh._record_setup(100.0, "1700000000.%N", session=1.0)  # a date without %N: dropped
    quiet, loud = io.StringIO(), io.StringIO()
    timing.report({}, quiet)
    timing.report({"DEPLOY_ACTIONS_TIMING": "1"}, loud)
    assert quiet.getvalue() == ""
    line = loud.getvalue().strip()
    assert line.startswith(timing.PREFIX)
    assert json.loads(line.removeprefix(timing.PREFIX)) == {"ssh": 0.2, "startup": 0.5}


def test_polling_slack_is_the_last_pause_before_ready():
    now = [0.0]
    answers = iter([Response(url="u", status=503), Response(url="u", status=503), Response(url="u", status=200)])

    def probe(timeout):
        now[0] += 0.002
        return next(answers)

    outcome = wait_ready(
        probe,
        accept=(200,),
        timeout=10,
        request_timeout=1,
        initial=0.1,
        cap=0.2,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert outcome.ready and outcome.attempts == 3
    assert 0.1 < outcome.slack <= 0.2  # the second pause (100 ms × 1.5, less the request's 2 ms)
