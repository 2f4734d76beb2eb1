"""Every input of every command, given hostile values: its parse ends, within 5 s, either
with inputs or with a UsageError (exit 2, one line naming the input) — never another
exception (an internal error) and never a hang. Parsing is where bad input must stop:
nothing has touched a host, a registry or a database yet."""

import signal
import subprocess
import time

import pytest

from deploy_actions.commands import load_all
from deploy_actions.errors import UsageError
from deploy_actions.options import resolve

HOSTILE = {
    "broken IPv6 URL": "http://[::1",
    "port out of range": "http://127.0.0.1:99999/ready",
    "Arabic-Indic digits": "٣١٨٣١",
    "superscript digit": "²",
    "5,000 digits": "9" * 5000,
    "line breaks that are not LF": "A=a\vB=b\x85C=c\u2028D=d",
    "NUL": "x\x00y",
    "an option": "--upload-pack=touch /tmp/deploy-actions-sweep",
    "braces": "{x}{",
    "3,000 stars": "*" * 3000,
    "a device": "/dev/zero",
    "a FIFO-like path above": "../../../../../../proc/self/fd/0",
    "100 KB": "x" * 100_000,
    "only blank lines": "\n \n\t\n",
    "deep YAML": "[" * 500 + "]" * 500,
    "an alias bomb": 'a: &a ["l","l","l","l","l","l","l","l","l"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
    "JSON of the wrong type": '{"calls": 5}',
    "a mapping where a word goes": "a: {b: c}",
    "a secret-looking URL": "https://u:s3cr3t@127.0.0.1/x",
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Sane values for the inputs each command needs, so each hostile value is the only fault
    (as a runner gives them: INPUT_* variables)."""
    root = tmp_path_factory.mktemp("repo")
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "stack.yml").write_text("services:\n  web:\n    image: 127.0.0.1:5000/x/web:${IMAGE_TAG}\n")
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0.0"\n')
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    who = ["-c", "user.name=sweep", "-c", "user.email=sweep@example.invalid"]
    subprocess.run(["git", "-C", str(root), *who, "commit", "-qm", "baseline"], check=True)
    known = "[127.0.0.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ4891LbgSCP41e/WQQA4uxdJefGEywUQBLz3zB3Ark/"
    ssh = {
        "known-hosts": known,
        "ssh-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
    }
    return {
        "smoke-ready": {"url": "http://127.0.0.1:1"},
        "build-push": {"image": "127.0.0.1:5000/x/y", "context": str(root)},
        "ssh-compose-deploy": {
            "hosts": "deploy@127.0.0.2:2222",
            "deploy-path": "/srv/x",
            "image-tag": "v1.0.0",
            "ready-url": "http://{host}:8080/ready",
            **ssh,
        },
        "deploy-status": {"hosts": "deploy@127.0.0.2:2222", "deploy-path": "/srv/x", **ssh},
        "proxy-remove-app": {"hosts": "deploy@127.0.0.2:2222", "deploy-path": "/srv/x", **ssh},
        "promote": {"hosts": "deploy@127.0.0.2:2222", "deploy-path": "/srv/x", **ssh},
        "maintenance": {
            "state": "on",
            "hosts": "deploy@127.0.0.2:2222",
            "deploy-path": "/srv/x",
            "hostname": "a.example.com",
            **ssh,
        },
        "abort": {"hosts": "deploy@127.0.0.2:2222", "deploy-path": "/srv/x", **ssh},
        "pause": {
            "state": "on",
            "hosts": "deploy@127.0.0.2:2222",
            "deploy-path": "/srv/x",
            "hostname": "a.example.com",
            **ssh,
        },
        "swarm-deploy": {
            "manager": "deploy@127.0.0.2:2222",
            "stack": "s",
            "compose-files": str(root / "stack.yml"),
            "image-tag": "v1.0.0",
            **ssh,
        },
        "swarm-status": {"manager": "deploy@127.0.0.2:2222", "stack": "s", **ssh},
        "docs-drift": {"root": str(root)},
        "pin": {"root": str(root)},
        "release-check": {"tag": "v1.0.0", "root": str(root)},
        "alembic-preflight": {"working-directory": str(root)},
        "local-run": {"repo": str(root), "workflow": "ci.yml"},
    }


def _parse(command, given: dict) -> object:
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": ""}
    inputs = {o.env: given[o.name] for o in command.options if o.name in given}
    return command.parse(resolve(command.options, None, env | inputs), env | inputs)


@pytest.mark.parametrize("command_name", sorted(load_all()))
def test_the_baseline_parses(command_name, baseline, monkeypatch):
    """Each hostile value must be the only fault: with none, every command's inputs parse."""
    monkeypatch.chdir(baseline["docs-drift"]["root"])
    _parse(load_all()[command_name], baseline[command_name])


def _cases():
    for name, command in sorted(load_all().items()):
        for option in command.options:
            yield pytest.param(name, option.name, id=f"{name}--{option.name}")


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


@pytest.mark.parametrize("command_name, option", list(_cases()))
def test_every_input_refuses_hostile_values_cleanly(command_name, option, baseline, monkeypatch):
    command = load_all()[command_name]
    monkeypatch.chdir(baseline["docs-drift"]["root"])
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for label, value in HOSTILE.items():
            started = time.monotonic()
            signal.alarm(5)
            try:
                _parse(command, baseline[command_name] | {option: value})
            except UsageError as exc:
                text = str(exc)
                assert "\n" not in text.strip() or option in ("env",), f"{label}: {text!r} is not one line"
                assert "s3cr3t" not in text, f"{label}: the password was quoted: {text!r}"
            except Hang:
                pytest.fail(f"--{option} {label}: no answer within 5 s")
            except Exception as exc:  # noqa: BLE001 - exactly what this test looks for
                pytest.fail(f"--{option} {label}: internal error {type(exc).__name__}: {exc}"[:500])
            finally:
                signal.alarm(0)
            assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGALRM, previous)
