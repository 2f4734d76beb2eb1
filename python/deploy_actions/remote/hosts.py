"""Deploy targets and what may be passed to a host: pure parsing and validation, so that
nothing a user types reaches a remote shell unchecked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy_actions.errors import UsageError
from deploy_actions.values import lines

_HOST_LINE = re.compile(
    r"^(?P<user>[a-z_][a-z0-9_.-]*)@"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(?P<port>[0-9]{1,5}))?$"
)
# Paths and names that reach the host: letters, digits and . _ - / only. Shell
# metacharacters are refused outright (and every value is still quoted).
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")


@dataclass(frozen=True)
class Host:
    user: str
    host: str
    port: int = 22

    @property
    def target(self) -> str:
        return f"{self.user}@{self.host.strip('[]')}"

    @property
    def known_hosts_name(self) -> str:
        """How OpenSSH names this host in known_hosts (`[host]:port` unless port 22)."""
        bare = self.host.strip("[]")
        return bare if self.port == 22 else f"[{bare}]:{self.port}"

    def __str__(self) -> str:
        return f"{self.user}@{self.host}" + (f":{self.port}" if self.port != 22 else "")


def parse_host(text: str, input_name: str) -> Host:
    match = _HOST_LINE.match(text.strip())
    if not match:
        raise UsageError(f"expected user@host or user@host:port (one per line), got {text.strip()!r}", input=input_name)
    port = int(match.group("port") or 22)
    if not 0 < port < 65536:
        raise UsageError(f"port {port} is out of range in {text.strip()!r}", input=input_name)
    return Host(match.group("user"), match.group("host"), port)


def parse_hosts(raw: str, input_name: str = "hosts") -> list[Host]:
    given = [line.strip() for line in lines(raw) if line.strip() and not line.strip().startswith("#")]
    if not given:
        raise UsageError("expected at least one user@host[:port] line", input=input_name)
    hosts = [parse_host(line, input_name) for line in given]
    seen = set()
    for host in hosts:
        if (host.host, host.port) in seen:
            raise UsageError(f"{host} is listed twice", input=input_name)
        seen.add((host.host, host.port))
    return hosts


def safe_path(text: str, input_name: str) -> str:
    path = text.strip().rstrip("/") or "/"
    if not SAFE_PATH.match(path) or "/../" in f"{path}/":
        raise UsageError(
            f"expected an absolute path of letters, digits, . _ - and / only (no spaces or shell "
            f"characters), got {text.strip()!r}",
            input=input_name,
        )
    return path


def safe_names(items: list[str], input_name: str, *, relative_paths: bool = False) -> list[str]:
    pattern = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9._/-]*$") if relative_paths else SAFE_NAME
    for item in items:
        if relative_paths and (item.startswith("/") or ".." in item.split("/")):
            raise UsageError(f"{item!r} must be a path inside deploy-path (relative, without ..)", input=input_name)
        if not pattern.match(item):
            raise UsageError(
                f"{item!r} may only use letters, digits and . _ -"
                + (" /" if relative_paths else "")
                + " and may not start with -",
                input=input_name,
            )
    return items
