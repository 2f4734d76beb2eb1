"""remote/lock.sh run by sh on this machine, without sshd: the lock every remote deploy
takes, its waiting, its stale-lock take-over, and its history lines. The integration tests
reach the same script through real hosts; these pin its rules one by one."""

import shlex
import subprocess
import time

import pytest

from conftest import ROOT
from deploy_actions.remote.history import history_rows

LOCK_SH = (ROOT / "python/deploy_actions/remote/lock.sh").read_text()


def script(state, body, **params):
    values = {"DEPLOY_ID": "d-test", "TAG": "v1.0.0", "COMMIT": "abc123", "ACTOR": "ci", "LOCK_TIMEOUT": "1", **params}
    return (
        "\n".join(f"{name}={shlex.quote(value)}" for name, value in values.items())
        + "\n"
        + LOCK_SH
        + f"\nstate_dir() {{ printf '%s' {shlex.quote(str(state))}; }}\nlock_subject() {{ echo 'the test folder'; }}\n"
        + body
    )


def run(state, body, **params):
    return subprocess.run(["sh", "-s"], input=script(state, body, **params), capture_output=True, text=True, timeout=30)


def start(state, body, **params):
    proc = subprocess.Popen(
        ["sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    proc.stdin.write(script(state, body, **params))
    proc.stdin.close()
    return proc


def history(state):
    text = (state / "history").read_text() if (state / "history").exists() else ""
    return history_rows("@@history\n" + text)


@pytest.fixture
def state(tmp_path):
    return tmp_path


@pytest.fixture
def holder(state):
    """Deploy A holding the lock through its `hold` session, as the runner keeps it."""
    proc = start(state, "hold", DEPLOY_ID="deploy-a")
    assert proc.stdout.readline().strip() == "@@held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_deploy_waits_its_lock_timeout_then_fails_naming_the_holder(state, holder):
    started = time.monotonic()
    proc = run(state, "lock; say acquired", DEPLOY_ID="deploy-b", LOCK_TIMEOUT="1")
    assert proc.returncode == 5 and "acquired" not in proc.stdout
    assert "@@result ok=false step=lock code=5" in proc.stdout
    assert "another deploy (deploy-a) holds the lock on the test folder; waited 1s" in proc.stderr
    assert 0.9 < time.monotonic() - started < 10


def test_the_deploys_own_sessions_go_ahead_under_its_lock(state, holder):
    proc = run(state, "lock; say acquired", DEPLOY_ID="deploy-a")
    assert proc.returncode == 0 and "acquired" in proc.stdout


def test_a_hold_ended_without_release_records_an_interrupted_deploy_and_frees_the_lock(state, holder):
    holder.terminate()  # the runner gone: its hold session ends
    holder.wait(timeout=10)
    assert not (state / "lock").exists()
    assert [(r["action"], r["result"], r["deploy"]) for r in history(state)] == [
        ("interrupted", "interrupted-runner-gone", "deploy-a")
    ]
    assert run(state, "lock; say acquired", DEPLOY_ID="deploy-b").returncode == 0


def test_release_frees_the_lock_at_once(state, holder):
    proc = run(state, "release", DEPLOY_ID="deploy-a")
    assert proc.returncode == 0 and "@@result ok=true" in proc.stdout and not (state / "lock").exists()
    holder.terminate()
    holder.wait(timeout=10)
    assert history(state) == []  # released: ending the hold records nothing


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return str(proc.pid)


def test_a_stale_lock_with_nothing_left_running_is_taken_over(state):
    lock = state / "lock"
    lock.mkdir()
    (lock / "pid").write_text(dead_pid() + "\n")
    (lock / "deploy").write_text("deploy-gone\n")
    (lock / "tag").write_text("v0.9.0\n")
    proc = run(state, "lock; say acquired", DEPLOY_ID="deploy-b")
    assert proc.returncode == 0 and "acquired" in proc.stdout
    assert "taking over a stale lock of deploy deploy-gone" in proc.stdout
    [row] = history(state)
    assert (row["action"], row["tag"], row["result"], row["commit"], row["actor"]) == (
        "interrupted",
        "v0.9.0",
        "interrupted-lock-taken-over",
        "abc123",
        "ci",
    )


def test_work_of_a_vanished_deploy_still_running_keeps_the_lock_until_it_ends(state):
    work = subprocess.Popen(["sleep", "30"], start_new_session=True)  # e.g. a migration left running
    try:
        lock = state / "lock"
        (lock / "work").mkdir(parents=True)
        (lock / "pid").write_text(dead_pid() + "\n")
        (lock / "deploy").write_text("deploy-gone\n")
        (lock / "work" / str(work.pid)).write_text(f"{work.pid}\n")  # its session id: its own pid
        waiting = start(state, "lock; say acquired", DEPLOY_ID="deploy-b", LOCK_TIMEOUT="20")
        time.sleep(1.5)
        assert waiting.poll() is None and (lock / "deploy").read_text() == "deploy-gone\n"
        work.kill()
        work.wait()
        assert waiting.wait(timeout=15) == 0, waiting.stderr.read()
        out = waiting.stdout.read()
        assert "what it started here still runs: waiting for it to end" in out and "acquired" in out
    finally:
        work.kill()
        work.wait()


def test_release_while_work_still_runs_leaves_the_lock_to_the_hold_session(state, holder):
    work = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        (state / "lock" / "work").mkdir(exist_ok=True)
        (state / "lock" / "work" / str(work.pid)).write_text(f"{work.pid}\n")
        proc = run(state, "release", DEPLOY_ID="deploy-a")
        assert "the lock stays until it ends" in proc.stdout
        assert (state / "lock" / "released").exists()
        holder.terminate()  # the hold session ends but waits for the work first
        time.sleep(1.5)
        assert holder.poll() is None and (state / "lock").exists()
        work.kill()
        work.wait()  # reaped: a zombie still counts as the session's process
        holder.wait(timeout=10)
        assert not (state / "lock").exists() and history(state) == []  # released: not interrupted
    finally:
        work.kill()
        work.wait()
