"""ssh-compose-deploy's settings, parsed in one place: the hosts and how to reach them
(SSH, host keys, jump host), the deploy folder and strategy, readiness. `deploy-status`
reads the same settings; nothing a user types reaches a host unchecked. How the hosts are
reached, and the release's tag, are remote/'s: swarm-deploy declares them alike."""

from __future__ import annotations

import dataclasses
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from deploy_actions.compose import canary, host_proxy
from deploy_actions.compose.host_proxy import HostProxy
from deploy_actions.errors import UsageError
from deploy_actions.migrations import timeouts as migration_timeouts
from deploy_actions.options import Option
from deploy_actions.remote import access, release
from deploy_actions.remote.access import SshAccess
from deploy_actions.remote.hosts import Host, parse_hosts, safe_names, safe_path
from deploy_actions.smoke import gate
from deploy_actions.values import (
    ENV_NAME,
    history_field,
    parse_bool,
    parse_duration,
    parse_int,
    parse_list,
    refuse_reserved,
)

SCRIPT = ("deploy_actions.compose:host_proxy.sh", "deploy_actions.compose:deploy.sh")  # what `sh -s` runs

OPTIONS = (
    Option(
        "hosts", "Deploy hosts, one `user@host` or `user@host:port` per line (rolled out in this order).", required=True
    ),
    *access.OPTIONS,
    Option("deploy-path", "Folder on the hosts holding the compose file and .env, e.g. /opt/backend.", required=True),
    Option(
        "strategy",
        "`blue-green`: start the new release beside the live one, gate it on /ready and the smoke "
        "spec, then switch a proxy (Caddy) to it — no request dropped, a bad release never serves. `recreate`: "
        "replace the containers in place (for services that cannot run two copies). `canary` (with hostname): "
        "blue-green's gate, then the new copy gets a growing share of users (canary-steps), each step judged on "
        "what the shared proxy measured; a failed step sends everyone back to the live copy.",
        default="blue-green",
    ),
    Option(
        "proxy-listen",
        "blue-green: where the proxy serves users, `[address]:port`; `{host}` is replaced by the host's address.",
        default=":80",
    ),
    Option(
        "hostname",
        "blue-green: names users reach this app by, one per line or comma-separated, each with an optional "
        "path prefix (`app.example.com`, `example.com/api`). Set, the app joins the host's shared proxy "
        "(`deploy-actions-proxy`), which routes by name for every app on the host and serves HTTPS; "
        "empty, the app has a proxy of its own on proxy-listen.",
    ),
    Option(
        "proxy-tls-listen",
        "blue-green with hostname: where the shared proxy serves HTTPS, `[address]:port`; `{host}` is replaced.",
        default=":443",
    ),
    Option(
        "tls",
        "blue-green with hostname: `auto` or `acme` (certificates from an ACME CA, Let's Encrypt by default, "
        "each obtained at the name's first visit), `internal` (Caddy's own CA: internal networks and tests), "
        "`off` (HTTP only). HTTP is redirected to HTTPS unless off. Shared by every app on the host.",
        default="auto",
    ),
    Option(
        "acme-ca",
        "blue-green with hostname: the ACME directory URL, e.g. Let's Encrypt's staging CA "
        "(`https://acme-staging-v02.api.letsencrypt.org/directory`) for first tries; empty: Let's Encrypt.",
    ),
    Option("acme-email", "blue-green with hostname: the e-mail address given to the ACME CA."),
    Option(
        "tls-certificate",
        "blue-green with hostname: a certificate chain (PEM) to serve for this app's names instead of one "
        "from the CA; it must name every host name. With tls-key.",
        secret=True,
    ),
    Option(
        "tls-key",
        "blue-green with hostname: the private key (PEM, unencrypted) of tls-certificate; masked, checked "
        "against the certificate, kept on the host only in the proxy's volume (0600).",
        secret=True,
    ),
    Option(
        "upstream-ports",
        "blue-green: the two ports the blue and the green copy listen on (the compose file uses port-variable for it).",
        default="8001,8002",
    ),
    Option(
        "port-variable",
        "blue-green: variable the compose file uses for the copy's port, e.g. "
        '`PORT: ${APP_PORT}` or `ports: ["127.0.0.1:${APP_PORT}:8000"]`.',
        default="APP_PORT",
    ),
    Option(
        "upstream-host",
        "blue-green: address the proxy reaches the copies at (it runs on the host network); "
        "`{host}` is replaced by the host's address.",
        default="127.0.0.1",
    ),
    *canary.OPTIONS,
    Option(
        "hold",
        "blue-green and canary: stage and gate the new copy (a canary also takes its steps, and its users stay "
        "at the last one), then end with the release held: `deploy-actions promote` switches everyone to it "
        "later, `deploy-actions abort` removes it. The held release survives the runner; deploy-status shows it.",
        default="false",
        switch=True,
    ),
    Option(
        "during-migration",
        "With hostname and migrate-command: what users of the app's names get while the migration runs. `serve`: "
        "the live copy answers (the migration must suit it); `pause`: each request waits at the shared proxy "
        "until the migration ends (pause-timeout at most), then goes on; `maintenance`: 503 with Retry-After "
        "(pause-timeout's seconds).",
        default="serve",
    ),
    host_proxy.PAUSE_TIMEOUT,
    Option("proxy-image", "blue-green: the Caddy image run as the proxy on each host.", default="caddy:2"),
    Option(
        "drain-timeout",
        "blue-green: how long requests in flight to the old copy may take to finish after the switch.",
        default="30s",
    ),
    release.IMAGE_TAG,
    release.REQUIRE_RELEASE_TAG,
    Option(
        "tag-variable",
        "Variable the compose file uses for the tag (`image: …:${IMAGE_TAG}`); written to the "
        "env file and exported for every compose command.",
        default="IMAGE_TAG",
    ),
    Option(
        "env-file",
        "File in the deploy path that holds the tag variable; its other lines are kept.",
        default=".env",
        path="one",
    ),
    Option(
        "compose-files",
        "Compose files relative to the deploy path, comma or newline separated (default: Compose's own lookup).",
        path="list",
    ),
    Option("project-name", "Compose project name (default: Compose's own, the folder name)."),
    Option("services", "Services to pull and update, comma or newline separated (default: all)."),
    Option(
        "env",
        "Extra environment for the compose commands and the migration only, one KEY=value per line "
        "(pass secrets from the secrets context: GitHub masks them). Sent on the SSH session's standard input, "
        "never on a command line; PATH, IFS, LD_* and the tag variable are refused.",
    ),
    Option(
        "migrate-command",
        "Run once, on the first host, after the pull and before any host is switched, e.g. "
        "`docker compose run --rm -e PGOPTIONS backend alembic upgrade head` (`-e PGOPTIONS` hands the "
        "migration's lock and statement timeouts to the container); if it fails nothing is switched.",
    ),
    *migration_timeouts.OPTIONS,
    *gate.options(
        url="Readiness URL users' traffic goes through, checked after each host is switched; `{host}` is "
        "replaced by the host's address, e.g. http://{host}/ready. With blue-green (where it is required) its path "
        "is checked on the new copy itself first, before any user reaches it.",
        timeout="How long each host may take to become ready.",
        spec="Smoke spec (YAML) run from the runner against each host once it is ready.",
    ),
    Option(
        "ready-from",
        "Check ready-url from the `runner` (smoke-ready, with smoke-spec) or from the `host` "
        "itself over SSH (curl or wget there; for services bound to the host's loopback).",
        default="runner",
    ),
    Option(
        "ready-connect-to",
        "Reach ready-url's host name at this address instead of resolving it (`{host}`: each host's "
        "address), keeping the name for the Host header and TLS — so each host is checked by the "
        "name its shared proxy routes (hostname), e.g. ready-url https://api.example.com/ready.",
    ),
    Option(
        "ready-ca-bundle",
        "CA certificates (PEM file on the runner) that ready-url's TLS certificate must chain to, "
        "instead of the system's: e.g. the root of the shared proxy's internal CA (tls: internal).",
        path="one",
    ),
    Option("max-parallel", "Hosts switched at the same time (1 = one after another).", default="1"),
    Option("fail-fast", "Stop switching further hosts after the first failure.", default="true", switch=True),
    access.CONNECT_TIMEOUT,
    Option("command-timeout", "Longest any single remote step may take.", default="10m"),
    Option("lock-timeout", "How long to wait for another deploy to the same path to finish.", default="5m"),
    release.TIMEOUT,
)


@dataclass(frozen=True)
class Inputs:
    hosts: tuple[Host, ...]
    ssh: SshAccess
    deploy_path: str
    strategy: str  # recreate | blue-green | canary (blue-green's copies, switched in steps)
    canary: canary.Canary | None
    hold: bool
    proxy_listen: str
    upstream_ports: tuple[int, int]
    port_variable: str
    upstream_host: str
    proxy_image: str
    host_proxy: HostProxy | None
    drain_timeout: float
    tag: str
    tag_variable: str
    env_file: str
    compose_files: tuple[str, ...]
    project_name: str
    services: tuple[str, ...]
    env: dict
    migrate_command: str
    during_migration: str  # serve | pause | maintenance (the shared proxy's, while it runs)
    pause_timeout: int
    migration: migration_timeouts.Timeouts
    gate: gate.Gate
    ready_connect_to: str
    ready_ca_bundle: str | None
    ready_from: str
    max_parallel: int
    fail_fast: bool
    command_timeout: float
    lock_timeout: float
    timeout: float
    commit: str
    actor: str


_LISTEN = re.compile(r"^(\{host\}|[A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$")
_ADDRESS = re.compile(r"^(\{host\}|[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*$")
STRATEGIES = ("blue-green", "recreate", "canary")


def _blue_green(raw: Mapping[str, str], tag_variable: str) -> dict:
    strategy = raw["strategy"].strip()
    if strategy not in STRATEGIES:
        raise UsageError(f"expected blue-green, canary or recreate, got {strategy!r}", input="strategy")
    listen = raw["proxy-listen"].strip()
    match = _LISTEN.match(listen)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise UsageError(f"expected [address]:port such as :80 or {{host}}:8080, got {listen!r}", input="proxy-listen")
    ports = parse_list(raw["upstream-ports"])
    if len(ports) != 2:
        raise UsageError(
            f"expected two ports, for the blue and the green copy (e.g. 8001,8002), got {len(ports)}",
            input="upstream-ports",
        )
    blue, green = (parse_int(p, "upstream-ports", minimum=1, maximum=65535) for p in ports)
    if blue == green or str(blue) == match.group(2) or str(green) == match.group(2):
        raise UsageError("the blue port, the green port and the proxy's port must all differ", input="upstream-ports")
    port_variable = raw["port-variable"].strip()
    if not ENV_NAME.match(port_variable) or port_variable == tag_variable:
        raise UsageError(
            f"expected a variable name other than tag-variable, got {port_variable!r}", input="port-variable"
        )
    refuse_reserved(port_variable, "port-variable")
    upstream = raw["upstream-host"].strip()
    if not _ADDRESS.match(upstream):
        raise UsageError(f"expected an address such as 127.0.0.1 or {{host}}, got {upstream!r}", input="upstream-host")
    shared = host_proxy.parse(raw, _LISTEN)
    if shared and strategy == "recreate":
        raise UsageError(
            "the shared proxy switches between two copies: it needs strategy: blue-green or canary", input="hostname"
        )
    if strategy == "canary" and not shared:
        raise UsageError(
            "a canary's share of users is set and measured by the host's shared proxy: set hostname", input="strategy"
        )
    if shared and shared.tls != "off" and shared.tls_listen == listen:
        raise UsageError(f"HTTP and HTTPS cannot share {listen}", input="proxy-tls-listen")
    if shared and not re.match(r"^(\{host\}|[0-9.]*|\[[0-9A-Fa-f:.]+\]):", listen):
        raise UsageError(
            f"with hostname, the shared proxy listens on an IP address, {{host}} or every address "
            f"(:80), got {listen!r}",
            input="proxy-listen",
        )
    hold = parse_bool(raw["hold"], "hold")
    if hold and strategy == "recreate":
        raise UsageError(
            "a held release waits beside the live one: it needs strategy: blue-green or canary", input="hold"
        )
    image = raw["proxy-image"].strip()
    if not _IMAGE.match(image):
        raise UsageError(f"expected an image reference such as caddy:2, got {image!r}", input="proxy-image")
    return {
        "strategy": strategy,
        "canary": canary.parse(raw) if strategy == "canary" else None,
        "hold": hold,
        "proxy_listen": listen,
        "upstream_ports": (blue, green),
        "port_variable": port_variable,
        "upstream_host": upstream,
        "proxy_image": image,
        "host_proxy": shared,
        "drain_timeout": parse_duration(raw["drain-timeout"], "drain-timeout", minimum=0),
    }


DURING_MIGRATION = ("serve", "pause", "maintenance")


def _during_migration(raw: Mapping[str, str], shared: HostProxy | None) -> str:
    during = raw["during-migration"].strip()
    if during not in DURING_MIGRATION:
        raise UsageError(f"expected one of {', '.join(DURING_MIGRATION)}, got {during!r}", input="during-migration")
    if during != "serve" and not shared:
        raise UsageError(f"{during} is set on the host's shared proxy: set hostname", input="during-migration")
    if during != "serve" and not raw["migrate-command"].strip():
        raise UsageError(f"{during} applies while migrate-command runs: set it", input="during-migration")
    return during


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None, *, status: bool = False) -> Inputs:
    env = env if env is not None else os.environ
    hosts = tuple(parse_hosts(raw["hosts"]))
    ssh = access.parse_ssh(raw)
    tag, tag_variable = release.parse_tag(raw)
    ready_from = raw["ready-from"].strip()
    if ready_from not in ("runner", "host"):
        raise UsageError(f"expected runner or host, got {ready_from!r}", input="ready-from")
    runner_only = "smoke calls run from the runner: set ready-url and ready-from: runner"
    checks = gate.parse(raw, hosts=True, spec_needs=runner_only)
    if checks.smoke_spec and ready_from != "runner":
        raise UsageError(runner_only, input="smoke-spec")
    ready_url = checks.url
    project = raw["project-name"].strip()
    if project:
        safe_names([project], "project-name")
    blue_green = _blue_green(raw, tag_variable)
    if blue_green["strategy"] != "recreate" and not ready_url and not status:
        raise UsageError(
            f"is required with strategy: {blue_green['strategy']} — traffic is switched only after the new copy "
            "passes it (e.g. http://{host}/ready, through the proxy)",
            input="ready-url",
        )
    return Inputs(
        **blue_green,
        ssh=ssh,
        hosts=hosts,
        deploy_path=safe_path(raw["deploy-path"], "deploy-path"),
        tag=tag,
        tag_variable=tag_variable,
        env_file=safe_names([raw["env-file"].strip() or ".env"], "env-file", relative_paths=True)[0],
        compose_files=tuple(safe_names(parse_list(raw["compose-files"]), "compose-files", relative_paths=True)),
        project_name=project,
        services=tuple(safe_names(parse_list(raw["services"]), "services")),
        env=release.user_env(raw["env"], tag_variable),
        migrate_command=raw["migrate-command"].strip(),
        during_migration=_during_migration(raw, blue_green["host_proxy"]),
        pause_timeout=host_proxy.parse_pause_timeout(raw),
        migration=migration_timeouts.parse(raw),
        gate=checks,
        ready_connect_to=_connect_to(raw["ready-connect-to"], ready_url),
        ready_ca_bundle=_ca_bundle(raw["ready-ca-bundle"]),
        ready_from=ready_from,
        max_parallel=parse_int(raw["max-parallel"], "max-parallel", minimum=1, maximum=64),
        fail_fast=parse_bool(raw["fail-fast"], "fail-fast"),
        command_timeout=parse_duration(raw["command-timeout"], "command-timeout", minimum=1),
        lock_timeout=parse_duration(raw["lock-timeout"], "lock-timeout", minimum=0),
        timeout=parse_duration(raw["timeout"], "timeout", minimum=1),
        commit=history_field(env.get("GITHUB_SHA", "")),
        actor=history_field(env.get("GITHUB_ACTOR") or env.get("USER", "")),
    )


def parse_reach(raw: Mapping[str, str], env: Mapping[str, str] | None, purpose: str) -> Inputs:
    """The settings of a command that only reaches the hosts (deploy-status, proxy-remove-app):
    what it was given, every other input at its default, no tag to deploy."""
    filled = {o.name: o.default for o in OPTIONS} | dict(raw)
    filled["image-tag"], filled["require-release-tag"] = purpose, "false"
    return parse_inputs(filled, env if env is not None else os.environ, status=True)


def _connect_to(raw: str, ready_url: str) -> str:
    address = raw.strip()
    if not address:
        return ""
    if not _ADDRESS.match(address):
        raise UsageError(f"expected an address such as 10.0.0.5 or {{host}}, got {address!r}", input="ready-connect-to")
    if not ready_url or "{host}" in urlsplit(ready_url).netloc:
        raise UsageError("needs a ready-url with a host name of its own (not {host})", input="ready-connect-to")
    return address


def _ca_bundle(raw: str) -> str | None:
    path = raw.strip()
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as handle:
            if "-----BEGIN CERTIFICATE-----" not in handle.read(1_048_576):
                raise UsageError(f"{path} holds no PEM certificate", input="ready-ca-bundle")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", input="ready-ca-bundle"
        ) from None
    return path


def connect_to(inputs: Inputs, host: Host) -> dict[str, str]:
    """ready-url's host name → the address this host is reached at, when ready-connect-to says so."""
    if not inputs.ready_connect_to:
        return {}
    return {urlsplit(inputs.gate.url).hostname or "": host_url(inputs.ready_connect_to, host)}


def secrets(inputs: Inputs) -> list[str]:
    return [inputs.ssh.passphrase] if inputs.ssh.passphrase else []


def host_url(template: str, host: Host) -> str:
    return template.replace("{host}", host.host)


def remote_params(inputs: Inputs) -> dict[str, str]:
    return {
        "DEPLOY_PATH": inputs.deploy_path,
        "TAG": inputs.tag,
        "TAG_VAR": inputs.tag_variable,
        "ENV_FILE": inputs.env_file,
        "PROJECT": inputs.project_name,
        "FILES": " ".join(inputs.compose_files),
        "SERVICES": " ".join(inputs.services),
        "DEPLOY_ID": f"{inputs.tag}-{uuid.uuid4().hex[:8]}",
        "COMMIT": inputs.commit,
        "ACTOR": inputs.actor,
        "LOCK_TIMEOUT": str(int(inputs.lock_timeout)),
        "READY_URL": "",
        "READY_TIMEOUT": str(int(inputs.gate.timeout)),
        "MIGRATE_COMMAND": inputs.migrate_command,
        "MIGRATE_PGOPTIONS": inputs.migration.pgoptions(inputs.env.get("PGOPTIONS", "")),
        "MIGRATE_RETRIES": str(inputs.migration.retries),
        "REASON": "",
        "STRATEGY": "recreate" if inputs.strategy == "recreate" else "blue-green",  # a canary's copies are blue-green's
        "WEIGHT": "0",
        "SINCE": "0",
        "MAINT": "off",
        "PAUSE": "0",
        "AROUND_MIGRATION": "false",
        "PROXY_IMAGE": inputs.proxy_image,
        "PORTS": " ".join(map(str, inputs.upstream_ports)),
        "PORT_VAR": inputs.port_variable,
        "DRAIN": str(int(inputs.drain_timeout)),
        "READY_PATH": gate.split(inputs.gate.url)[1] if inputs.gate.url else "",
        **_host_proxy_params(inputs.host_proxy),
    }


def _host_proxy_params(proxy: HostProxy | None) -> dict[str, str]:
    if proxy is None:
        return {"HP_NAMES": "", "HP_ROUTES": "", "HP_CANARY_ROUTES": "", "HP_TLS": "off", "HP_CERT": "", "HP_PAGE": ""}
    return {
        "HP_NAMES": "\n".join(map(str, proxy.names)),
        "HP_ROUTES": host_proxy.route_lines(proxy),
        "HP_CANARY_ROUTES": canary.route_lines(host_proxy.route_lines(proxy), host_proxy.APP_TOKEN),
        "HP_PAGE": "",  # maintenance's page (commands/maintenance.py)
        "HP_TLS": "off" if proxy.tls == "off" else "on",
        "HP_CERT": proxy.certificate,
    }


def host_params(inputs: Inputs, host: Host) -> dict[str, str]:
    """The parameters that differ per host: addresses with `{host}` in them."""
    extra = {"PROXY_LISTEN": host_url(inputs.proxy_listen, host), "UPSTREAM": host_url(inputs.upstream_host, host)}
    if inputs.host_proxy:
        proxy = dataclasses.replace(inputs.host_proxy, tls_listen=host_url(inputs.host_proxy.tls_listen, host))
        extra |= {
            "HP_FRONT": host_proxy.front_config(proxy, extra["PROXY_LISTEN"], int(inputs.drain_timeout)),
            "HP_SETTINGS": host_proxy.settings(proxy, extra["PROXY_LISTEN"]),
            "HP_TLS_LISTEN": "" if proxy.tls == "off" else proxy.tls_listen,
        }
    if inputs.gate.url and inputs.ready_from == "host":
        extra["READY_URL"] = host_url(inputs.gate.url, host)
    return extra
