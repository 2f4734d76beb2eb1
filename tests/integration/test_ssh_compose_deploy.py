"""ssh-compose-deploy against two real sshd hosts (127.0.0.2 and 127.0.0.3, each with its own
/srv/deploy in its own mount namespace), the real Compose plugin and the local registry."""

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deploy_actions.cli import main
from deploy_support import ArgvSampler, Target, deploy, deploy_process, states, succeeded

pytestmark = pytest.mark.services


@pytest.fixture
def target(services, web_repo):
    made = Target(services, web_repo)
    yield made
    made.down()


def test_happy_path_on_one_host(target, gha_env, capsys):
    code, out, outputs = deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2"))
    assert code == 0, out
    assert outputs["deployed-tag"] == "v1.0.0" and outputs["previous-tag"] == "none"
    assert outputs["rolled-back"] == "false"
    assert target.version("127.0.0.2") == "v1.0.0"
    assert target.env_file("127.0.0.2") == f"# written by hand\nWEB_PORT={target.port}\nIMAGE_TAG=v1.0.0\n"
    host = json.loads(outputs["hosts"])[0]
    assert host["ok"] and host["state"] == "deployed" and host["digests"]["web"].startswith("sha256:")
    assert [row[1:5] for row in target.history("127.0.0.2")] == [
        ["started", "v1.0.0", "none", "in-progress"],
        ["deploy", "v1.0.0", "none", "ok"],
    ]
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| deploy@127.0.0.2:2222 | deployed | none |" in summary
    assert target.version("127.0.0.3").startswith("down")  # the other host was not touched


@pytest.mark.parametrize("parallel,ready_from", [("1", "runner"), ("2", "host")])
def test_happy_path_on_two_hosts(target, gha_env, capsys, parallel, ready_from):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0"))
    code, out, outputs = deploy(
        target, gha_env, capsys, "v1.1.0", "--max-parallel", parallel, "--ready-from", ready_from
    )
    assert code == 0, out
    assert states(outputs) == {"127.0.0.2": "deployed", "127.0.0.3": "deployed"}
    assert {target.version(a) for a in target.addrs} == {"v1.1.0"}
    assert outputs["previous-tag"] == "v1.0.0"
    if ready_from == "host":
        assert f"ready: http://127.0.0.3:{target.port}/ready" in out


def test_never_ready_tag_rolls_back_and_fails(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0"))
    code, out, outputs = deploy(target, gha_env, capsys, "v2.0.0-rc.1", "--ready-timeout", "3s")
    assert code == 1
    assert states(outputs) == {"127.0.0.2": "rolled-back", "127.0.0.3": "not-switched"}
    assert {target.version(a) for a in target.addrs} == {"v1.0.0"}
    assert outputs["rolled-back"] == "true" and outputs["deployed-tag"] == ""
    error = next(line for line in out.splitlines() if line.startswith("::error title=ssh-compose-deploy failed"))
    assert "deploy@127.0.0.2:2222 failed at ready" in error
    assert "Hosts now: deploy@127.0.0.2:2222: rolled-back, deploy@127.0.0.3:2222: not-switched" in error
    assert "IMAGE_TAG=v1.0.0" in target.env_file("127.0.0.2")


def test_second_host_failing_rolls_back_the_first(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0"))
    code, out, outputs = deploy(
        target, gha_env, capsys, "v3.0.0-rc.1", "--require-release-tag", "--ready-timeout", "3s"
    )
    assert code == 1
    assert states(outputs) == {"127.0.0.2": "rolled-back", "127.0.0.3": "rolled-back"}
    assert {target.version(a) for a in target.addrs} == {"v1.0.0"}
    first = json.loads(outputs["hosts"])[0]
    assert first["failed_step"] is None  # it was fine, and still rolled back with the rest
    assert [row[1] for row in target.history("127.0.0.2")][-1] == "rollback"
    assert target.history("127.0.0.2")[-1][4].startswith("ok-deploy@127.0.0.3")


def test_migration_runs_exactly_once_and_a_failing_one_switches_nothing(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0"))
    migrate = f'echo "migrated to $IMAGE_TAG" >> {target.path}/migrations.log'
    code, out, _ = deploy(target, gha_env, capsys, "v1.1.0", "--migrate-command", migrate)
    assert code == 0, out
    logs = {a: (target.dirs[a] / "migrations.log") for a in target.addrs}
    assert logs["127.0.0.2"].read_text() == "migrated to v1.1.0\n"
    assert not logs["127.0.0.3"].exists()
    code, out, outputs = deploy(target, gha_env, capsys, "v1.0.0", "--migrate-command", "echo boom >&2; exit 3")
    assert code == 1
    assert "migration on deploy@127.0.0.2:2222 failed" in out and "nothing was switched" in out
    assert set(states(outputs).values()) == {"untouched"}
    assert {target.version(a) for a in target.addrs} == {"v1.1.0"}


def test_host_key_mismatch_is_refused_before_any_change(target, gha_env, capsys, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    wrong = (
        f"[127.0.0.2]:2222 {(tmp_path / 'other.pub').read_text().split()[0]} "
        f"{(tmp_path / 'other.pub').read_text().split()[1]}\n"
    )
    code, out, _ = deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2"), known_hosts=wrong)
    assert code == 1 and "host key verification failed" in out
    assert target.history("127.0.0.2") == [] and "IMAGE_TAG=none" in target.env_file("127.0.0.2")


def test_wrong_key_is_a_clear_auth_error(target, gha_env, capsys, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    code, out, _ = deploy(target, gha_env, capsys, "v1.0.0", key=(tmp_path / "stranger").read_text())
    assert code == 1 and "authentication failed: the host did not accept the SSH key" in out


def test_fingerprint_pin_and_jump_host(target, gha_env, capsys, services):
    lines = Path(services["DA_SSH_KNOWN_HOSTS"]).read_text().splitlines()
    pub = next(line for line in lines if line.startswith("[127.0.0.2]:")).split(" ", 1)[1]
    fingerprint = re.search(
        r"SHA256:\S+", subprocess.run(["ssh-keygen", "-lf", "-"], input=pub, text=True, capture_output=True).stdout
    ).group(0)
    jump = f"{services['DA_SSH_USER']}@127.0.0.2:{services['DA_SSH_PORT']}"
    # Both test hosts share one host key per address; pin 127.0.0.3's and go through 127.0.0.2.
    code, out, _ = deploy(target, gha_env, capsys, "v1.0.0", "--jump-host", jump, hosts=target.hosts("127.0.0.3"))
    assert code == 0, out
    assert target.version("127.0.0.3") == "v1.0.0"
    code, out, _ = deploy(
        target,
        gha_env,
        capsys,
        "v1.1.0",
        "--host-key-fingerprint",
        fingerprint,
        hosts=target.hosts("127.0.0.2"),
        known_hosts="",
    )
    assert code == 0, out
    code, out, _ = deploy(
        target,
        gha_env,
        capsys,
        "v1.1.0",
        "--host-key-fingerprint",
        "SHA256:" + "A" * 43,
        hosts=target.hosts("127.0.0.2"),
        known_hosts="",
    )
    assert code == 1 and "no host key with fingerprint" in out


def test_deploy_path_missing(target, gha_env, capsys):
    target.path = "/srv/deploy/does-not-exist"
    code, out, _ = deploy(target, gha_env, capsys, "v1.0.0")
    assert code == 1 and "deploy path /srv/deploy/does-not-exist does not exist" in out


def wait_until_started(target, tag, addr="127.0.0.2"):
    """Until the host's history says the deploy of `tag` started (its switch is under way)."""
    deadline = time.monotonic() + 30
    while not any(row[1] == "started" and row[2] == tag for row in target.history(addr)):
        assert time.monotonic() < deadline, f"the deploy of {tag} never started"
        time.sleep(0.2)


def cli(target, tag, *args, timeout_args=("--ready-timeout", "8s")):
    return deploy_process(
        target, tag, "--require-release-tag", "--strategy", "recreate", "--ready-from", "host", *timeout_args, *args
    )


def test_two_deploys_at_once_one_waits(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    first = cli(target, "v1.2.0")  # ready only after 3 s: holds the lock meanwhile
    time.sleep(1.0)
    second = cli(target, "v1.1.0")
    out_first, out_second = first.communicate(timeout=120)[0], second.communicate(timeout=120)[0]
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    assert "waiting for deploy v1.2.0-" in out_second and "lock acquired after" in out_second
    assert target.version("127.0.0.2") == "v1.1.0"
    impatient = cli(target, "v1.2.0", "--lock-timeout", "1s")
    time.sleep(1.0)
    blocked = cli(target, "v1.0.0", "--lock-timeout", "1s")
    blocked_out = blocked.communicate(timeout=120)[0]
    impatient.communicate(timeout=120)
    assert blocked.returncode == 1 and "holds the lock on" in blocked_out


def test_connection_cut_mid_deploy_then_next_deploy_works(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    doomed = cli(target, "v2.0.0-rc.1", timeout_args=("--ready-timeout", "60s"))
    wait_until_started(target, "v2.0.0-rc.1")
    time.sleep(1.5)
    os.killpg(doomed.pid, signal.SIGKILL)  # the runner and its ssh vanish mid-deploy
    doomed.wait()
    code, out, outputs = deploy(
        target, gha_env, capsys, "v1.1.0", hosts=target.hosts("127.0.0.2"), env={"INPUT_LOCK_TIMEOUT": "20s"}
    )
    assert code == 0, out
    assert target.version("127.0.0.2") == "v1.1.0"
    actions = [(row[1], row[2], row[4]) for row in target.history("127.0.0.2")]
    assert ("started", "v2.0.0-rc.1", "in-progress") in actions
    assert any(a == "interrupted" and tag == "v2.0.0-rc.1" for a, tag, _ in actions)
    assert actions[-1] == ("deploy", "v1.1.0", "ok")


def test_status_reads_tag_running_image_and_history(target, gha_env, capsys):
    code, out, outputs = deploy(target, gha_env, capsys, "v1.1.0")
    assert code == 0, out
    deployed = {h["host"]: h["digests"]["web"] for h in json.loads(outputs["hosts"])}
    code = main(
        [
            "--json",
            "deploy-status",
            "--strategy",
            "recreate",
            "--hosts",
            target.hosts(),
            "--deploy-path",
            target.path,
            "--known-hosts",
            Path(target.services["DA_SSH_KNOWN_HOSTS"]).read_text(),
        ],
        env={"INPUT_SSH_KEY": Path(target.services["DA_SSH_KEY"]).read_text(), "PATH": os.environ["PATH"]},
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["live_tag"] == "v1.1.0"  # what alembic-preflight's live-ref can be given
    for host in doc["hosts"]:
        assert host["tag"] == "v1.1.0"
        [web] = host["running"]
        assert web["service"] == "web" and web["image_id"] == deployed[host["host"]]
        assert web["image"].endswith(":v1.1.0")
        assert [row["action"] for row in host["history"]] == ["started", "deploy"]
        assert host["history"][-1]["result"] == "ok"


def test_cancelled_deploy_removes_its_key_folder(target, gha_env, capsys):
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    before = key_folders()
    doomed = cli(target, "v2.0.0-rc.1", timeout_args=("--ready-timeout", "60s"))
    wait_until_started(target, "v2.0.0-rc.1")
    doomed.send_signal(signal.SIGTERM)  # what a cancelled job gets
    out = doomed.communicate(timeout=60)[0]
    assert doomed.returncode == 130 and "interrupted" in out
    assert key_folders() <= before  # key folder gone


def key_folders() -> set[Path]:
    return {p for base in ("/dev/shm", "/tmp") for p in Path(base).glob("deploy-actions-ssh-*")}


def test_a_runner_killed_outright_leaves_no_key_socket_or_connection(target, gha_env, capsys):
    """kill -9 of the runner's process group: no chance to unwind. The key folder (the
    decrypted key, the control socket) lives in memory and a watchdog removes it, with the
    shared connection, within a second or two. OpenSSH never sees the action's inputs."""
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    before = key_folders()
    doomed = cli(target, "v2.0.0-rc.1", timeout_args=("--ready-timeout", "60s"))
    wait_until_started(target, "v2.0.0-rc.1")
    [folder] = key_folders() - before
    assert folder.parent == Path("/dev/shm")  # memory, not disk
    ssh_environments = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "cmdline").read_bytes().startswith(b"ssh\0") and str(folder).encode() in (
                entry / "cmdline"
            ).read_bytes():
                ssh_environments.append((entry / "environ").read_bytes())
        except OSError:
            continue
    assert ssh_environments and not any(b"INPUT_SSH_KEY" in env for env in ssh_environments)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    deadline = time.monotonic() + 5
    while folder.exists():
        assert time.monotonic() < deadline, f"{folder} is still there 5 s after the kill"
        time.sleep(0.1)
    time.sleep(0.5)
    left = []
    for entry in Path("/proc").iterdir():
        try:
            if str(folder).encode() in (entry / "cmdline").read_bytes():
                left.append((entry / "cmdline").read_bytes())
        except OSError:
            continue
    assert [c for c in left if b"watchdog" not in c] == []  # no SSH master outlives the runner


def test_the_tag_variable_cannot_be_overridden(target, gha_env, capsys):
    """Real rollbacks have silently done nothing because a profile exported IMAGE_TAG (Compose
    prefers the shell's value to .env): the remote script passes the tag to every compose
    command explicitly, and `env` may not set it at all."""
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    code, out, _ = deploy(
        target, gha_env, capsys, "v1.1.0", hosts=target.hosts("127.0.0.2"), env={"INPUT_ENV": "IMAGE_TAG=v1.0.0"}
    )
    assert code == 2 and "env: IMAGE_TAG is the tag variable" in out
    assert target.version("127.0.0.2") == "v1.0.0"
    code, out, outputs = deploy(
        target, gha_env, capsys, "v1.1.0", hosts=target.hosts("127.0.0.2"), env={"INPUT_ENV": "OTHER=1"}
    )
    assert code == 0, out
    assert target.version("127.0.0.2") == "v1.1.0"
    assert json.loads(outputs["hosts"])[0]["state"] == "deployed"


def test_orphan_containers_of_the_project_are_not_verified(target, gha_env, capsys):
    """A container of a service that left the compose file (or another app in the same
    project) must not make verification fail or show up as what the deploy runs."""
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    folder = target.dirs["127.0.0.2"]
    compose = (folder / "compose.yml").read_text()
    (folder / "compose.yml").write_text(
        compose.replace(
            "  web:",
            "  old:\n    image: {ref}\n    network_mode: host\n    command: ['sleep', '300']\n  web:".format(
                ref=compose.split("image: ")[1].split("\n")[0]
            ),
        )
    )
    assert deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2"))[0] == 0  # `old` now runs
    (folder / "compose.yml").write_text(compose)  # `old` is an orphan from here on
    code, out, outputs = deploy(target, gha_env, capsys, "v1.1.0", hosts=target.hosts("127.0.0.2"))
    assert code == 0, out
    assert set(json.loads(outputs["hosts"])[0]["digests"]) == {"web"}
    target.docker("127.0.0.2", "rm", "-f", f"{target.name}-old-1")


def test_no_secret_on_any_command_line_during_a_deploy(target, gha_env, capsys, tmp_path, services):
    """env values, the key and its passphrase travel on stdin or in one process's environment:
    sampled from every process on the machine (runner and hosts), none shows up in an argv."""
    key = tmp_path / "id"
    key.write_text(Path(services["DA_SSH_KEY"]).read_text())
    key.chmod(0o600)
    passphrase = "pass-7d1e0c phrase"
    askpass = tmp_path / "askpass"  # the new passphrase through askpass, like the library: not in argv either
    askpass.write_text('#!/bin/sh\nprintf "%s\\n" "$TEST_PASSPHRASE"\n')
    askpass.chmod(0o700)
    subprocess.run(
        ["ssh-keygen", "-p", "-q", "-P", "", "-f", str(key)],
        check=True,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            "SSH_ASKPASS": str(askpass),
            "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": ":0",
            "TEST_PASSPHRASE": passphrase,
        },
    )
    assert subprocess.run(["ssh-keygen", "-y", "-P", "", "-f", str(key)], capture_output=True).returncode != 0
    token = "env-secret-5f3a9b1c"
    key_line = key.read_text().splitlines()[2]
    # The command compares a hash, so the token itself is on no command line, not even the test's.
    digest = hashlib.sha256(token.encode()).hexdigest()
    migrate = f'test "$(printf %s "$SECRET_TOKEN" | sha256sum)" = "{digest}  -" && echo seen >> {target.path}/token.log'
    with ArgvSampler(token, passphrase, key_line) as sampler:
        code, out, _ = deploy(
            target,
            gha_env,
            capsys,
            "v1.0.0",
            "--env",
            f"SECRET_TOKEN={token}\nOTHER=1",
            "--migrate-command",
            migrate,
            key=key.read_text(),
            env={"INPUT_SSH_KEY_PASSPHRASE": passphrase},
        )
    assert code == 0, out
    assert sampler.samples > 50 and len(sampler.seen) > 20, (sampler.samples, len(sampler.seen))
    assert sampler.found == []
    # the variable did reach the migration (and compose), only through the environment
    assert (target.dirs["127.0.0.2"] / "token.log").read_text() == "seen\n"
    shown = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    assert token not in shown and passphrase not in shown


@pytest.mark.parametrize("how", ["kill -9", "SIGTERM"])
def test_a_killed_deploy_keeps_the_lock_until_its_migration_ends(target, gha_env, capsys, how):
    """The runner vanishes (kill -9 of its process group) or is cancelled (SIGTERM) while the
    migration runs on the host: the migration goes on there, and so must the lock. The next
    deploy waits until it has ended; the history says the migration ended before the lock
    went."""
    addr = "127.0.0.2"
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts(addr)))
    migrate = 'echo "start $IMAGE_TAG" >>m.log; sleep 6; echo "end $IMAGE_TAG" >>m.log'
    log = target.dirs[addr] / "m.log"
    doomed = cli(target, "v1.1.0", "--migrate-command", migrate)
    deadline = time.monotonic() + 30
    while "start v1.1.0" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline and doomed.poll() is None, "the first migration never started"
        time.sleep(0.1)
    time.sleep(1)
    if how == "kill -9":
        os.killpg(doomed.pid, signal.SIGKILL)
    else:
        doomed.send_signal(signal.SIGTERM)
    doomed.communicate(timeout=60)
    code, out, _ = deploy(
        target,
        gha_env,
        capsys,
        "v1.2.0",
        "--migrate-command",
        migrate,
        hosts=target.hosts(addr),
        env={"INPUT_LOCK_TIMEOUT": "40s"},
    )
    assert code == 0, out
    assert log.read_text().split("\n")[:4] == ["start v1.1.0", "end v1.1.0", "start v1.2.0", "end v1.2.0"]
    assert "waiting for deploy v1.1.0-" in out
    rows = [(row[1], row[2], row[4]) for row in target.history(addr)]
    first = [row for row in rows if row[1] == "v1.1.0" or row[0] == "interrupted"]
    assert first[0] == ("migrate", "v1.1.0", "ok"), rows
    assert first[1][0] == "interrupted" and first[1][2].startswith("interrupted-runner-gone"), rows


def test_a_large_script_to_an_unreachable_host_is_a_clear_failure(target, gha_env, capsys):
    """The script travels on ssh's stdin: past the pipe's buffer (64 KB), an ssh that fails
    to connect breaks the pipe. That is an SSH failure with its reason, not a silent exit."""
    big = "echo " + "m" * 100_000
    code, out, _ = deploy(
        target,
        gha_env,
        capsys,
        "v1.0.0",
        "--migrate-command",
        big,
        hosts=f"{target.services['DA_SSH_USER']}@127.0.0.2:1",
    )
    assert code == 1 and "connection refused: no SSH server" in out, out


@pytest.fixture
def locked_table(services):
    """A table in the suite's PostgreSQL and a session that can hold a lock on it."""
    import psycopg

    url = services["DA_POSTGRES_URL"]
    table = f"lockme_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int)")
    holder = psycopg.connect(url)
    yield url, table, holder
    holder.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def test_a_migration_waiting_for_a_lock_stops_retries_and_succeeds_once_it_is_free(
    target, gha_env, capsys, locked_table
):
    """lock_timeout through PGOPTIONS (psql here: libpq reads it), retried after 2 s, 4 s…;
    without it the same migration waits for as long as the lock is held."""
    import threading

    url, table, holder = locked_table
    succeeded(deploy(target, gha_env, capsys, "v1.0.0", hosts=target.hosts("127.0.0.2")))
    migrate = f'psql "$MIGRATION_DB" -v ON_ERROR_STOP=1 -qc "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS note text"'
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # another session, holding the table
    args = ("--migrate-command", migrate, "--migration-lock-timeout", "500ms", "--env", f"MIGRATION_DB={url}")
    hosts = target.hosts("127.0.0.2")
    code, out, outputs = deploy(target, gha_env, capsys, "v1.1.0", *args, "--migration-retries", "1", hosts=hosts)
    assert code == 1, out
    assert "migration stopped waiting for a lock after 2 tries" in out and "try 1 of 1 in 2s" in out
    assert "pg_blocking_pids" in out  # how to find the session that holds it
    assert "postgres:" not in out.replace("::add-mask::", "")  # the URL stays masked
    history = (target.dirs["127.0.0.2"] / ".deploy-actions" / "history").read_text()
    assert "\tmigrate-retry\tv1.1.0\t" in history and not list(
        (target.dirs["127.0.0.2"] / ".deploy-actions").glob("migrate.*")
    )
    threading.Timer(2.5, holder.rollback).start()  # the other session lets go during the retries
    code, out, _ = deploy(target, gha_env, capsys, "v1.1.0", *args, "--migration-retries", "4", hosts=hosts)
    assert code == 0, out
    assert "try 1 of 4" in out
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    started = time.monotonic()
    threading.Timer(4, holder.rollback).start()
    no_timeout = ("--migrate-command", migrate, "--migration-lock-timeout", "0", "--env", f"MIGRATION_DB={url}")
    code, out, _ = deploy(target, gha_env, capsys, "v1.0.0", *no_timeout, hosts=hosts)
    assert code == 0, out
    assert time.monotonic() - started >= 4  # it waited for the lock, however long it took
