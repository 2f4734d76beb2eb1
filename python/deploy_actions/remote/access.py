"""How a deploy reaches its hosts over SSH: the inputs every SSH deploy declares alike
(key, host-key checks, jump host, connection timeout), parsed once, and the SshKit they make.
Shared by ssh-compose-deploy, swarm-deploy and the commands that read their hosts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploy_actions.errors import UsageError
from deploy_actions.options import Option
from deploy_actions.remote.hosts import FINGERPRINT, Host, parse_host
from deploy_actions.values import parse_bool, parse_duration

if TYPE_CHECKING:
    from deploy_actions.console import Reporter
    from deploy_actions.remote.ssh import Script, SshKit

OPTIONS = (
    Option(
        "ssh-key",
        "Private key for the deploy user (OpenSSH or PEM); masked, kept in a 0600 file in a private "
        "temporary directory that is removed at the end.",
        required=True,
        secret=True,
    ),
    Option("ssh-key-passphrase", "Passphrase of the key, if it has one.", secret=True),
    Option(
        "known-hosts",
        "known_hosts lines for every host (and the jump host): `ssh-keyscan -p PORT HOST` from a "
        "trusted machine. Required unless host-key-fingerprint is set.",
    ),
    Option("host-key-fingerprint", "Alternative to known-hosts: the SHA256:… fingerprint every host's key must have."),
    Option(
        "insecure-skip-host-key-check",
        "Turn host-key verification off (a warning is printed; never do this for production).",
        default="false",
        switch=True,
    ),
    Option("jump-host", "Bastion to connect through, `user@host[:port]`; checked with the same key and known-hosts."),
)
CONNECT_TIMEOUT = Option("connect-timeout", "SSH connection timeout.", default="10s")
SSH_OPTION_NAMES = (*(opt.name for opt in OPTIONS), CONNECT_TIMEOUT.name)


@dataclass(frozen=True)
class SshAccess:
    """How to reach the hosts: what SshKit is made from."""

    key: str
    passphrase: str
    known_hosts: str
    fingerprint: str
    insecure: bool
    jump: Host | None
    connect_timeout: float


def parse_ssh(raw: Mapping[str, str]) -> SshAccess:
    """How to reach the hosts: the key, host-key checks (always on unless switched off
    loudly), the jump host. Shared by every command that deploys over SSH."""
    insecure = parse_bool(raw["insecure-skip-host-key-check"], "insecure-skip-host-key-check")
    fingerprint = raw["host-key-fingerprint"].strip()
    if fingerprint and not FINGERPRINT.match(fingerprint):
        raise UsageError(
            f"expected SHA256:<43 base64 characters> as `ssh-keygen -lf` prints it, got {fingerprint!r}",
            input="host-key-fingerprint",
        )
    if not raw["known-hosts"].strip() and not fingerprint and not insecure:
        raise UsageError(
            "is required: host keys are always verified. Give known_hosts lines "
            "(ssh-keyscan -p PORT HOST from a trusted machine) or host-key-fingerprint",
            input="known-hosts",
        )
    return SshAccess(
        key=raw["ssh-key"],
        passphrase=raw["ssh-key-passphrase"],
        known_hosts=raw["known-hosts"],
        fingerprint=fingerprint,
        insecure=insecure,
        jump=parse_host(raw["jump-host"], "jump-host") if raw["jump-host"].strip() else None,
        connect_timeout=parse_duration(raw["connect-timeout"], "connect-timeout", minimum=1),
    )


def warn_if_insecure(access: SshAccess, reporter: Reporter, command: str, reached: str) -> None:
    if access.insecure:
        reporter.warning(
            "host-key verification is OFF (insecure-skip-host-key-check): anyone on the path can "
            f"impersonate {reached} and receive the deploy",
            title=command,
        )


def ssh_kit(access: SshAccess, body: Script) -> SshKit:
    """The SSH set-up these settings ask for: the key, host-key checks, the jump host;
    `body` is the remote script its sessions run."""
    from deploy_actions.remote.ssh import SshKit  # subprocess and sockets: only for commands that connect

    return SshKit(
        key=access.key,
        passphrase=access.passphrase,
        known_hosts=access.known_hosts,
        fingerprint=access.fingerprint,
        insecure=access.insecure,
        connect_timeout=access.connect_timeout,
        jump=access.jump,
        body=body,
    )
