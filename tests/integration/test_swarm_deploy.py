"""swarm-deploy against the real engine in swarm mode (scripts/services makes it the manager
of a two-node swarm), reached as a manager over its real sshd at 127.0.0.1, with the real
registries. These stacks are placed on the manager (test_swarm_nodes.py spreads them over both
nodes). Services use the host network, so two tasks cannot share a port: the stacks update
stop-first (start-first needs an overlay network and the routing mesh)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, free_port, read_outputs
from deploy_actions.cli import main
from deploy_actions.images.registry import Registry
from deploy_support import ArgvSampler

pytestmark = pytest.mark.services
MANAGER = "127.0.0.1"  # scripts/services: DA_SWARM_MANAGER, the first engine's sshd

STACK = """services:
  web:
    image: {repo}:${{IMAGE_TAG}}
    environment:
      BIND: 127.0.0.1:${{WEB_PORT}}
      HOST_ADDR: 127.0.0.1
    networks: [hostnet]
    stop_grace_period: 2s
    deploy:
      replicas: 1
      update_config: {{order: stop-first, monitor: 2s}}
      restart_policy: {{condition: on-failure, delay: 1s}}
      placement: {{constraints: [node.role == manager]}}
networks:
  hostnet:
    external: true
    name: host
"""


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120).stdout


class Swarm:
    """One stack of the test service, its stack file, its port."""

    def __init__(self, services, repo: str, tmp_path: Path, stack_text: str = STACK):
        self.services = services
        self.repo = repo
        self.stack = f"it-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.file = tmp_path / f"{self.stack}.yml"
        self.file.write_text(stack_text.format(repo=repo))
        self.manager = f"{services['DA_SSH_USER']}@{MANAGER}:{services['DA_SSH_PORT']}"

    def argv(self, tag: str, *extra: str, known_hosts: str | None = None) -> list[str]:
        return [
            "swarm-deploy",
            "--manager",
            self.manager,
            "--known-hosts",
            known_hosts if known_hosts is not None else Path(self.services["DA_SSH_KNOWN_HOSTS"]).read_text(),
            "--stack",
            self.stack,
            "--compose-files",
            str(self.file),
            "--image-tag",
            tag,
            "--no-require-release-tag",
            "--env",
            f"WEB_PORT={self.port}",
            "--ready-url",
            f"http://127.0.0.1:{self.port}/ready",
            "--ready-timeout",
            "6s",
            "--converge-timeout",
            "90s",
            *extra,
        ]

    def deploy(self, gha_env, capsys, tag, *extra, env=None, known_hosts=None):
        run_env = {**gha_env, "INPUT_SSH_KEY": Path(self.services["DA_SSH_KEY"]).read_text(), **(env or {})}
        code = main(self.argv(tag, *extra, known_hosts=known_hosts), env=run_env)
        out = capsys.readouterr().out
        outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
        Path(gha_env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
        return code, out, outputs

    def process(self, tag, *extra) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        env.update(PYTHONPATH=str(ROOT / "python"), INPUT_SSH_KEY=Path(self.services["DA_SSH_KEY"]).read_text())
        return subprocess.Popen(
            [sys.executable, "-m", "deploy_actions", *self.argv(tag, *extra), "--no-color"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so a test can kill it with its ssh children, as a runner dies
        )

    def version(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/version", timeout=3) as answer:
            return answer.read().decode().strip()

    def task_digests(self) -> set[str]:
        """The image digest of every task Swarm wants running."""
        out = docker("service", "ps", f"{self.stack}_web", "--filter", "desired-state=running", "--format", "{{.ID}}")
        digests = set()
        for task in out.split():
            image = docker("inspect", "--format", "{{.Spec.ContainerSpec.Image}}", task).strip()
            digests.add(image.rsplit("@", 1)[-1])
        return digests

    def spec_version(self) -> int:
        return int(docker("service", "inspect", "--format", "{{.Version.Index}}", f"{self.stack}_web").strip())

    def history(self) -> list[list[str]]:
        home = Path("/home") / self.services["DA_SSH_USER"]
        path = home / ".deploy-actions" / "swarm" / self.stack / "history"
        return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []

    def remove(self) -> None:
        docker("stack", "rm", self.stack, check=False)


def digest(repo: str, tag: str, **auth) -> str:
    registry, path = repo.split("/", 1)
    with Registry(registry, **auth) as reg:
        return reg.digest(path, tag)


@pytest.fixture
def swarm(services, web_repo, tmp_path):
    made = Swarm(services, web_repo, tmp_path)
    yield made
    made.remove()


def test_deploy_then_update_every_task_on_the_new_digest(swarm, gha_env, capsys, web_repo):
    code, out, outputs = swarm.deploy(gha_env, capsys, "v1.0.0")
    assert code == 0, out
    assert outputs["deployed-tag"] == "v1.0.0" and outputs["previous-tag"] == ""
    assert swarm.version() == "v1.0.0"
    code, out, outputs = swarm.deploy(gha_env, capsys, "v1.1.0")
    assert code == 0, out
    assert outputs["deployed-tag"] == "v1.1.0" and outputs["previous-tag"] == "v1.0.0"
    assert outputs["rolled-back"] == "false"
    new = digest(web_repo, "v1.1.0")
    assert swarm.task_digests() == {new}
    services = json.loads(outputs["services"])
    assert services["web"]["digest"] == new and services["web"]["tag"] == "v1.1.0"
    assert services["web"]["running"] == services["web"]["desired"] == 1 and services["web"]["state"] == "converged"
    assert swarm.version() == "v1.1.0"
    assert [row[1:5] for row in swarm.history()][-2:] == [
        ["started", "v1.1.0", "v1.0.0", "in-progress"],
        ["deploy", "v1.1.0", "v1.0.0", "ok"],
    ]
    summary = Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "swarm-deploy `v1.1.0`" in summary and "| web | `v1.1.0` |" in summary
    # swarm-status reads the same through the manager, read-only.
    status = [
        "swarm-status",
        "--manager",
        swarm.manager,
        "--known-hosts",
        Path(swarm.services["DA_SSH_KNOWN_HOSTS"]).read_text(),
        "--stack",
        swarm.stack,
        "--json",
    ]
    code = main(status, env={**gha_env, "INPUT_SSH_KEY": Path(swarm.services["DA_SSH_KEY"]).read_text()})
    printed = capsys.readouterr().out
    document = json.loads(printed[printed.index("\n{") + 1 :] if not printed.startswith("{") else printed)
    assert code == 0 and document["ok"], document
    assert document["services"]["web"] == {
        "tag": "v1.1.0",
        "digest": new,
        "running": 1,
        "desired": 1,
        "update": "completed",
    }
    assert [row["action"] for row in document["history"]][-2:] == ["started", "deploy"]


def test_never_ready_release_is_rolled_back_by_swarm(swarm, gha_env, capsys, web_repo):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    code, out, outputs = swarm.deploy(gha_env, capsys, "v2.0.0-rc.1")
    assert code == 1
    assert "/ready" in out and "did not answer 200" in out
    assert "every service is back on v1.0.0 (swarm-rollback), verified by digest" in out
    assert outputs["rolled-back"] == "true" and outputs["deployed-tag"] == ""
    assert swarm.task_digests() == {digest(web_repo, "v1.0.0")}
    assert swarm.version() == "v1.0.0"
    assert swarm.history()[-1][1:5] == ["rollback", "v1.0.0", "v1.0.0", "ok-swarm-rollback"]


def test_release_that_exits_at_once_fails_the_update_and_is_rolled_back(swarm, gha_env, capsys, web_repo):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    code, out, outputs = swarm.deploy(gha_env, capsys, "v5.0.0-rc.1", "--failure-action", "pause")
    assert code == 1
    assert "web: " in out and ("Swarm paused the update" in out or "tasks keep failing" in out)
    assert out.count("::error title=swarm-deploy") == 1  # the failure is annotated once, by the result
    assert outputs["rolled-back"] == "true"
    assert swarm.task_digests() == {digest(web_repo, "v1.0.0")}
    assert swarm.version() == "v1.0.0"


def test_migration_runs_once_and_a_failing_one_changes_nothing(swarm, gha_env, capsys, web_repo):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    before = swarm.spec_version()
    code, out, _ = swarm.deploy(
        gha_env,
        capsys,
        "v1.1.0",
        "--migrate-command",
        'echo "migrating to $IMAGE_TAG with $DB_NAME"; exit 4',
        "--migrate-network",
        "host",
        "--env",
        f"WEB_PORT={swarm.port}\nDB_NAME=notes",
    )
    assert code == 1
    assert "the migration exited 4; no service was updated" in out
    assert "migrating to v1.1.0 with notes" in out  # the job's own log
    assert swarm.spec_version() == before and swarm.version() == "v1.0.0"
    assert swarm.history()[-1][1:5] == ["migrate", "v1.1.0", "v1.0.0", "failed"]
    migrate = 'echo migrated-$IMAGE_TAG "[$PGOPTIONS]"'
    code, out, _ = swarm.deploy(
        gha_env,
        capsys,
        "v1.1.0",
        "--migrate-command",
        migrate,
        "--migrate-network",
        "host",
        "--migration-statement-timeout",
        "90s",
    )
    assert code == 0, out
    assert out.count("migrated-v1.1.0") == 1  # the job ran once, with the release's tag
    # and with the lock and statement timeouts for libpq, without a change to the project
    assert "[-c lock_timeout=5000 -c statement_timeout=90000]" in out
    jobs = docker("service", "ls", "--filter", f"label=org.deploy-actions.stack={swarm.stack}", "--format", "{{.Name}}")
    assert jobs.strip() == ""  # the job is removed once it has run, and its container too
    left = docker("ps", "-a", "--filter", f"name={swarm.stack}_migrate-", "--format", "{{.Names}}")
    assert left.strip() == ""
    assert [r[1] for r in swarm.history()[-3:]] == ["migrate", "started", "deploy"]


def test_private_tls_registry_with_registry_auth(services, tmp_path, gha_env, capsys, web_repo):
    """The release lives in the TLS registry behind htpasswd; Swarm pulls it with the
    credentials handed over by --with-registry-auth, which no file or argv ever holds."""
    private = f"{services['DA_REGISTRY_TLS']}/swarm-{uuid.uuid4().hex[:6]}/web"
    user, password = services["DA_REGISTRY_TLS_USER"], services["DA_REGISTRY_TLS_PASSWORD"]
    import docker as sdk

    client = sdk.from_env()
    client.images.pull(web_repo, tag="v1.0.0").tag(private, "v1.0.0")
    for line in client.api.push(
        private, tag="v1.0.0", auth_config={"username": user, "password": password}, stream=True, decode=True
    ):
        assert "error" not in line, line
    client.images.remove(f"{private}:v1.0.0")
    home = tmp_path / "home"
    home.mkdir()
    swarm = Swarm(services, private, tmp_path)
    try:
        env = {"HOME": str(home), "INPUT_REGISTRY_PASSWORD": password}
        with ArgvSampler(password) as sampler:
            code, out, outputs = swarm.deploy(gha_env, capsys, "v1.0.0", "--registry-username", user, env=env)
        assert code == 0, out
        assert swarm.task_digests() == {digest(private, "v1.0.0", username=user, password=password)}
        assert sampler.samples > 10 and sampler.found == []
        assert not (home / ".docker").exists()  # nothing written to the runner's Docker config
        assert password not in out.replace(f"::add-mask::{password}", "")
        code, out, _ = swarm.deploy(gha_env, capsys, "v1.0.0", "--registry-username", user, env={"HOME": str(home)})
        assert code == 1 and "refused the credentials" in out  # without the password nothing is read
    finally:
        swarm.remove()


def test_concurrent_deploys_of_one_stack_take_turns(swarm, gha_env, capsys):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    first = swarm.process("v1.1.0")
    time.sleep(1.5)
    second = swarm.process("v1.0.0")
    out_first, _ = first.communicate(timeout=180)
    out_second, _ = second.communicate(timeout=180)
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    assert "waiting for deploy" in out_second and "lock on stack" in out_second
    assert swarm.version() == "v1.0.0"  # the second, which waited, went last
    actions = [row[1] for row in swarm.history()]
    assert actions[-4:] == ["started", "deploy", "started", "deploy"]


def test_wrong_host_key_is_refused_before_anything_changes(swarm, gha_env, capsys, services):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    before = swarm.spec_version()
    # The other test host's key, listed for the manager's address: a man in the middle.
    other = [line for line in Path(services["DA_SSH_KNOWN_HOSTS"]).read_text().splitlines() if "127.0.0.3" in line]
    wrong = other[0].replace("[127.0.0.3]", f"[{MANAGER}]") + "\n"
    code, out, _ = swarm.deploy(gha_env, capsys, "v1.1.0", known_hosts=wrong)
    assert code == 1
    assert "host key verification failed" in out and "nothing was changed" in out
    assert swarm.spec_version() == before


def test_cancelled_deploy_releases_the_lock(swarm, gha_env, capsys):
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    proc = swarm.process("v1.2.0")  # ready only 3 s after it starts: a wait to cancel in
    deadline = time.monotonic() + 60
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "converging" in line or "waiting for /ready" in line:
            break
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode in (1, 130, 143), seen + rest
    started = time.monotonic()
    code, out, _ = swarm.deploy(gha_env, capsys, "v1.1.0", "--lock-timeout", "20s")
    assert code == 0, out
    # The cancelled run's session ended with it: the host lets the lock go within its heartbeat.
    waited = re.search(r"lock acquired after (\d+)s", out)
    assert time.monotonic() - started < 60 and (waited is None or int(waited.group(1)) <= 3), out
    assert swarm.version() == "v1.1.0"


def test_a_killed_deploy_keeps_the_lock_until_its_migration_job_ends(swarm, gha_env, capsys):
    """The runner dies (kill -9 of its process group) while the migration job runs: the job
    goes on in the swarm, and the stack's lock with it. The next deploy waits for the job to
    end, and the job (whose spec holds the deploy's env) does not outlive it."""
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    migration = ("--migrate-command", "sleep 8; echo migrated-$IMAGE_TAG", "--migrate-network", "host")
    doomed = swarm.process("v1.1.0", *migration, "--env", f"WEB_PORT={swarm.port}\nDB_PASSWORD=s3cret-job")
    jobs = ("service", "ls", "--filter", f"label=org.deploy-actions.stack={swarm.stack}", "--format", "{{.Name}}")
    deadline = time.monotonic() + 60
    while not docker(*jobs).strip():
        assert time.monotonic() < deadline and doomed.poll() is None, "the migration job never started"
        time.sleep(0.2)
    job = docker(*jobs).strip()
    killed = time.monotonic()
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.communicate(timeout=30)
    code, out, _ = swarm.deploy(gha_env, capsys, "v1.1.0", *migration, "--lock-timeout", "60s")
    assert code == 0, out
    assert "still runs: waiting for it to end" in out or "waiting for deploy" in out, out
    waited = re.search(r"lock acquired after (\d+)s", out)
    assert waited and time.monotonic() - killed >= 6, out  # not before the first job had ended
    assert job not in docker("service", "ls", "--format", "{{.Name}}")  # the orphan job is gone
    assert docker(*jobs).strip() == ""
    rows = [(row[1], row[4]) for row in swarm.history()]
    assert any(action == "interrupted" and result.startswith("interrupted-runner-gone") for action, result in rows)
    assert rows[-1] == ("deploy", "ok")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--update-order": "sideways"}, "update-order: expected start-first or stop-first, got 'sideways'"),
        ({"--failure-action": "explode"}, "failure-action: expected rollback, pause or continue"),
        ({"--stack": "Bad Stack"}, "stack: expected lowercase letters"),
        ({"--services": "db"}, "services: not in the stack file(s): db"),
        ({"--manager": f"deploy@{MANAGER}:1"}, "connection refused"),
    ],
)
def test_bad_input_changes_nothing(swarm, gha_env, capsys, change, message):
    argv = swarm.argv("v1.0.0")
    for flag, value in change.items():
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    code = main(argv, env={**gha_env, "INPUT_SSH_KEY": Path(swarm.services["DA_SSH_KEY"]).read_text()})
    out = capsys.readouterr().out
    assert code == 2, out
    assert message in out and "::error " in out and "Traceback" not in out
    assert docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={swarm.stack}", "-q").strip() == ""


def test_bad_stack_files(swarm, gha_env, capsys, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("services:\n  web:\n    image: [unclosed\n")
    untagged = tmp_path / "untagged.yml"
    untagged.write_text("services:\n  web:\n    image: 127.0.0.1:5000/x/web:v1.0.0\n")
    for path, message in ((broken, f"{broken}: not valid YAML"), (untagged, f"{untagged}:3: service web's image")):
        argv = swarm.argv("v1.0.0")
        argv[argv.index("--compose-files") + 1] = str(path)
        code = main(argv, env={**gha_env, "INPUT_SSH_KEY": Path(swarm.services["DA_SSH_KEY"]).read_text()})
        out = capsys.readouterr().out
        assert code == 2, out
        assert message in out


def test_a_service_changed_during_the_deploy_is_rolled_back_by_redeploying_the_previous_tag(
    swarm, gha_env, capsys, web_repo
):
    """Someone updates the service while the release waits for /ready: Swarm's rollback would
    only undo that update, so the previous tag is deployed again, and verified by digest."""
    assert swarm.deploy(gha_env, capsys, "v1.0.0")[0] == 0
    proc = swarm.process("v2.0.0-rc.1")
    seen = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "waiting for /ready" in line:
            docker("service", "update", "--detach", "--label-add", "touched=by-hand", f"{swarm.stack}_web")
            break
    rest, _ = proc.communicate(timeout=180)
    out = seen + rest
    assert proc.returncode == 1, out
    assert "deploying the previous tag v1.0.0 again" in out and "(redeploy-previous)" in out
    assert swarm.task_digests() == {digest(web_repo, "v1.0.0")}
    assert swarm.version() == "v1.0.0"
    assert swarm.history()[-1][1:5] == ["rollback", "v1.0.0", "v1.0.0", "ok-redeploy-previous"]
