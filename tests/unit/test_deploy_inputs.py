"""ssh-compose-deploy's bad inputs: one annotated line naming the input, exit 2, nothing
sent anywhere. Values that reach a host are validated and quoted."""

import shlex
import subprocess

import pytest

from deploy_actions.cli import main
from deploy_actions.compose.settings import SCRIPT
from deploy_actions.remote.hosts import parse_hosts
from deploy_actions.remote.ssh import REMOTE_COMMAND, remote_script

KNOWN = "[127.0.0.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
BASE = {
    "--hosts": "deploy@127.0.0.2:2222",
    "--deploy-path": "/srv/app",
    "--image-tag": "v1.0.0",
    "--known-hosts": KNOWN,
    "--ready-url": "http://{host}:8080/ready",
}


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"--hosts": "deploy@"}, "hosts: expected user@host or user@host:port"),
        ({"--hosts": "127.0.0.2"}, "hosts: expected user@host"),
        ({"--hosts": "d@h:99999"}, "hosts: port 99999 is out of range"),
        ({"--known-hosts": ""}, "known-hosts: is required: host keys are always verified"),
        ({"--image-tag": "latest"}, "image-tag: expected a release tag like v1.2.3"),
        ({"--deploy-path": "/srv/app; rm -rf /"}, "deploy-path: expected an absolute path"),
        ({"--deploy-path": "/srv/$(reboot)"}, "deploy-path: expected an absolute path"),
        ({"--deploy-path": "relative/path"}, "deploy-path: expected an absolute path"),
        ({"--services": "web;ls"}, "services: 'web;ls' may only use"),
        ({"--max-parallel": "0"}, "max-parallel: expected a number ≥ 1"),
        ({"--ready-from": "moon"}, "ready-from: expected runner or host"),
        ({"--host-key-fingerprint": "md5:aa"}, "host-key-fingerprint: expected SHA256:"),
        ({"--hosts": "u@-f-"}, "hosts: expected user@host"),
        ({"--hosts": "u@-oProxyCommand=x"}, "hosts: expected user@host"),
        ({"--env-file": "/etc/environment"}, "env-file: '/etc/environment' must be a path inside deploy-path"),
        (
            {"--compose-files": "compose.yml,/tmp/x.yml"},
            "compose-files: '/tmp/x.yml' must be a path inside deploy-path",
        ),
        ({"--services": "web,-api"}, "services: '-api' may only use"),
        ({"--env": "PATH=/tmp/evil"}, "env: PATH changes which programs run"),
        ({"--env": "LD_PRELOAD=/tmp/evil.so"}, "env: LD_PRELOAD changes which programs"),
        ({"--env": "IMAGE_TAG=v9.9.9"}, "env: IMAGE_TAG is the tag variable"),
        (
            {"--ready-url": "http://u:secret-pw@127.0.0.1:8000/ready"},
            "ready-url: expected a URL without user:password@",
        ),
        (
            {"--ready-url": "http://127.0.0.1:8000/ready\nhttp://x"},
            "ready-url: expected a URL without spaces or control",
        ),
        ({"--strategy": "rolling"}, "strategy: expected blue-green, canary or recreate, got 'rolling'"),
        ({"--strategy": "canary"}, "strategy: a canary's share of users is set and measured by the host's shared"),
        (
            {"--strategy": "canary", "--hostname": "a.example.com", "--canary-steps": "50%,10%"},
            "canary-steps: expected increasing steps, got '10%25' after 50%25",
        ),
        (
            {"--strategy": "canary", "--hostname": "a.example.com", "--canary-interval": "3s"},
            "canary-interval: expected 10s or more",
        ),
        (
            {"--strategy": "canary", "--hostname": "a.example.com", "--canary-max-error-rate": "150%"},
            "canary-max-error-rate: expected a percentage from 0%25 to 100%25",
        ),
        ({"--ready-url": ""}, "ready-url: is required with strategy: blue-green"),
        ({"--proxy-listen": "80"}, "proxy-listen: expected [address]:port"),
        ({"--proxy-listen": ":99999"}, "proxy-listen: expected [address]:port"),
        ({"--upstream-ports": "8001"}, "upstream-ports: expected two ports"),
        ({"--upstream-ports": "8001,8001"}, "upstream-ports: the blue port, the green port and the proxy's port"),
        ({"--upstream-ports": "8001,8080", "--proxy-listen": ":8080"}, "upstream-ports: the blue port, the green"),
        ({"--port-variable": "IMAGE_TAG"}, "port-variable: expected a variable name other than tag-variable"),
        ({"--upstream-host": "a;b"}, "upstream-host: expected an address"),
        ({"--proxy-image": "Caddy $(x)"}, "proxy-image: expected an image reference"),
        ({"--drain-timeout": "soon"}, "drain-timeout: expected a duration"),
    ],
)
def test_bad_input(gha_env, capsys, change, expected):
    args = {**BASE, **change}
    if args["--known-hosts"] == "":
        del args["--known-hosts"]
    code = main(
        ["ssh-compose-deploy", *[p for kv in args.items() for p in kv]],
        env={**gha_env, "INPUT_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"},
    )
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert code == 2 and len(errors) == 1, out
    assert expected in errors[0]


def test_empty_key(gha_env, capsys):
    code = main(["ssh-compose-deploy", *[p for kv in BASE.items() for p in kv]], env={**gha_env, "INPUT_SSH_KEY": "  "})
    assert code == 2 and "ssh-key: is required" in capsys.readouterr().out


def test_a_key_that_is_not_a_key_is_bad_input_and_never_printed(gha_env, capsys):
    secret = "not-a-key-but-a-secret-0123456789"
    code = main(
        ["ssh-compose-deploy", *[p for kv in BASE.items() for p in kv]], env={**gha_env, "INPUT_SSH_KEY": secret}
    )
    out = capsys.readouterr().out
    assert code == 2 and "ssh-key: the SSH key cannot be used" in out
    assert secret not in "\n".join(out.splitlines()[1:])


def test_remote_values_are_quoted_not_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    script = remote_script(
        {
            "ACTION": "nothing",
            "MIGRATE_COMMAND": f"$(touch {marker})",
            "DEPLOY_PATH": f"/nonexistent'; touch {marker}; '",
        },
        SCRIPT,
        {"X": f"'$(touch {marker})"},
    )
    proc = subprocess.run(shlex.split(REMOTE_COMMAND), input=script, capture_output=True, text=True)
    assert not marker.exists()
    assert proc.returncode == 3 and "does not exist" in proc.stderr


def test_the_host_command_line_carries_no_value():
    assert REMOTE_COMMAND == "sh -s"


FAKE_DOCKER = """#!/bin/sh
# stands in for docker: `compose version` answers, every other call is logged with its
# arguments and the variables the test looks for
[ "$1 $2" = "compose version" ] && exit 0
printf 'argv: %s\\n' "$*" >>"$LOG"
printf 'env: SECRET_TOKEN=%s IMAGE_TAG=%s\\n' "$SECRET_TOKEN" "$IMAGE_TAG" >>"$LOG"
"""


def test_user_env_reaches_compose_but_cannot_change_the_script(tmp_path):
    """`env` used to be exported over the script's own parameters: SERVICES=api made
    prepare pull only `api`, ACTION=switch would have switched. Now only compose sees it."""
    bin_dir, deploy = tmp_path / "bin", tmp_path / "srv"
    bin_dir.mkdir()
    deploy.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "log"
    params = {
        "ACTION": "prepare",
        "DEPLOY_PATH": str(deploy),
        "TAG": "v1.2.3",
        "TAG_VAR": "IMAGE_TAG",
        "ENV_FILE": ".env",
        "PROJECT": "",
        "FILES": "",
        "SERVICES": "",
        "DEPLOY_ID": "v1.2.3-abc",
        "COMMIT": "",
        "ACTOR": "",
        "LOCK_TIMEOUT": "5",
        "READY_URL": "",
        "READY_TIMEOUT": "5",
        "MIGRATE_COMMAND": "",
        "REASON": "",
    }
    exports = {
        "SERVICES": "api worker",
        "ACTION": "switch",
        "DEPLOY_PATH": "/",
        "TAG": "v6.6.6",
        "SECRET_TOKEN": "s3cr3t value",
    }
    proc = subprocess.run(
        ["sh", "-s"],
        input=remote_script(params, SCRIPT, exports),
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(log)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "@@result ok=true" in proc.stdout
    logged = log.read_text()
    assert "argv: compose pull -q\n" in logged  # no services from env, no other action
    assert "env: SECRET_TOKEN=s3cr3t value IMAGE_TAG=v1.2.3" in logged
    assert not (deploy / ".env").exists()  # prepare changes nothing; a `switch` would have written the tag


def test_hosts_parsing():
    hosts = parse_hosts("deploy@10.0.0.1\n# comment\n\nops@[::1]:2200\n")
    assert [str(h) for h in hosts] == ["deploy@10.0.0.1", "ops@[::1]:2200"]
    assert hosts[1].known_hosts_name == "[::1]:2200" and hosts[1].target == "ops@::1"
