"""OpenSSH, the way a deploy should use it: host keys always verified against a
known_hosts file we write (or build from a pinned fingerprint), the key in a private
0600 file in memory-backed storage (/dev/shm where there is one), no agent, no user
config, everything removed when the deploy ends — on failure or cancellation too (the CLI
turns SIGTERM into an exception so `with` blocks unwind), and, when the runner is killed
outright (kill -9 leaves no chance to unwind), by a watchdog that outlives it. OpenSSH's
own processes get the runner's environment without the action's inputs (INPUT_*)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources

from deploy_actions import cancel, timing
from deploy_actions.errors import CheckFailed, UsageError
from deploy_actions.remote.hosts import Host


@dataclass
class Answer:
    host: Host
    code: int
    out: str
    err: str
    seconds: float
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code == 0 and self.fields.get("ok") == "true"

    def problem(self) -> str:
        """The reason in one line: an SSH-level failure named, else the script's own error."""
        if self.code == 255 or (self.code != 0 and not self.fields):
            return describe_ssh_failure(self.err) or f"ssh exited {self.code}: {last_line(self.err)}"
        return (last_line(self.err) or last_line(self.out) or f"exit {self.code}").removeprefix("error: ")


def result_fields(line: str) -> dict[str, str]:
    """`@@result ok=true previous=v1.2.3 …`, the remote script's last line, as a dict."""
    return dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("@@")]
    return lines[-1].strip() if lines else ""


def describe_ssh_failure(stderr: str) -> str:
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr or "Host key verification failed" in stderr:
        return "host key verification failed: the host's key is not the one in known-hosts (refused, nothing changed)"
    if "Permission denied" in stderr:
        return "authentication failed: the host did not accept the SSH key for this user"
    if "Connection refused" in stderr:
        return "connection refused: no SSH server on that address and port"
    if "timed out" in stderr:
        return "connection timed out"
    if "Could not resolve hostname" in stderr:
        return "host name does not resolve"
    if "Load key" in stderr or "invalid format" in stderr:
        return "the SSH key could not be read (not a private key in OpenSSH or PEM format?)"
    return ""


Script = tuple[str, ...]
"""A remote script: its parts as `package:file` resources, run after the shared lock and
history functions (remote/lock.sh) on one `sh -s` input."""


def script(parts: Script) -> str:
    texts = [resources.files("deploy_actions.remote").joinpath("lock.sh").read_text("utf-8")]
    for part in parts:
        package, _, name = part.partition(":")
        texts.append(resources.files(package).joinpath(name).read_text("utf-8"))
    return "\n".join(texts)


REMOTE_COMMAND = "sh -s"  # the only thing on the host's command line: the script comes on stdin


def remote_script(params: dict[str, str], body: Script, exports: dict[str, str] | None = None) -> str:
    """What `sh -s` reads on the host: the parameters, the user's variables, the script.
    Every value is single-quoted, never interpolated, and travels on the SSH session's
    standard input — never in an argv, which `ps` shows to every user on both machines.
    The user's variables live in `user_env`, called only in the subshells that run the
    compose and migration commands, so they cannot change the script's own parameters."""
    lines = [f"{name}={shlex.quote(value)}" for name, value in params.items()]
    lines.append("user_env() {")
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in (exports or {}).items()]
    lines.append("  :\n}")
    return "\n".join(lines) + "\n" + script(body)


def _record_setup(launched: float, remote_start: str, session: float) -> None:
    """SSH set-up as the library's own time: from starting ssh to the remote script running
    (a handshake for a host's first session, a multiplexed channel after that). Host
    clocks may differ: an implausible value is dropped, not recorded."""
    try:
        setup = float(remote_start) - launched
    except ValueError:
        return
    if 0 <= setup <= session:
        timing.add("ssh", setup)


def _fingerprints(lines: str) -> dict[str, str]:
    """known_hosts lines → {fingerprint: line} (ssh-keygen computes them)."""
    found = {}
    for line in lines.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        proc = subprocess.run(
            ["ssh-keygen", "-lf", "-"], input=line + "\n", capture_output=True, text=True, env=child_environment()
        )
        match = re.search(r"(SHA256:\S+)", proc.stdout)
        if match:
            found[match.group(1).rstrip("=")] = line
    return found


PREFIX = "deploy-actions-ssh-"
MEMORY = "/dev/shm"  # tmpfs on Linux: a decrypted key there never reaches a disk

# Run detached (its own session: a kill of the runner's process group spares it), with the
# key folder and the runner's pid as arguments (nothing secret): once the runner is gone
# and the folder still there, close the shared connections and remove the folder.
WATCHDOG = """
while kill -0 "$2" 2>/dev/null && [ -d "$1" ]; do sleep 0.5; done
[ -d "$1" ] || exit 0
for socket in "$1"/cm-*; do
  [ -S "$socket" ] && ssh -o ControlPath="$socket" -O exit x >/dev/null 2>&1
done
rm -rf "$1"
"""


def _bases() -> list[str]:
    """Where key folders live: memory first, then the temporary folder (for the sweep: both)."""
    memory = [MEMORY] if os.path.isdir(MEMORY) and os.access(MEMORY, os.W_OK | os.X_OK) else []
    return memory + [tempfile.gettempdir()]


def child_environment() -> dict[str, str]:
    """What ssh, ssh-keygen and ssh-keyscan inherit: not the action's inputs (the key, its
    passphrase, a registry password), which they are given otherwise or not at all."""
    from deploy_actions.gha import tool_environment

    return tool_environment(os.environ)


_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


def _stop_sessions() -> None:
    with _running_lock:
        for proc in _running:
            proc.kill()


cancel.on_cancel(_stop_sessions)


def sweep_orphans() -> None:
    """Remove key folders left by a deploy that was killed outright (SIGKILL leaves no chance
    to clean up): any whose owner process is gone. Its multiplexing master is told to exit."""
    for base in _bases():
        _sweep(base)


def _sweep(base: str) -> None:
    for name in os.listdir(base):
        folder = os.path.join(base, name)
        if not name.startswith(PREFIX) or not os.path.isdir(folder):
            continue
        try:
            with open(os.path.join(folder, "owner")) as fh:
                owner = int(fh.read().strip())
            os.kill(owner, 0)
            continue  # its deploy is still running
        except (OSError, ValueError):
            pass
        for socket_name in os.listdir(folder):
            if socket_name.startswith("cm-"):
                subprocess.run(
                    ["ssh", "-o", f"ControlPath={os.path.join(folder, socket_name)}", "-O", "exit", "x"],
                    capture_output=True,
                    timeout=10,
                    env=child_environment(),
                )
        shutil.rmtree(folder, ignore_errors=True)


class SshKit:
    def __init__(
        self,
        *,
        key: str,
        passphrase: str = "",
        known_hosts: str = "",
        fingerprint: str = "",
        insecure: bool = False,
        connect_timeout: float = 10,
        jump: Host | None = None,
        body: Script,
    ):
        self.key_text = key.replace("\r\n", "\n").strip() + "\n"  # secrets often lose their final newline
        self.passphrase = passphrase
        self.known_hosts_text = known_hosts
        self.fingerprint = fingerprint.rstrip("=")
        self.insecure = insecure
        self.connect_timeout = connect_timeout
        self.jump = jump
        self.body = body  # the remote script this kit's sessions run
        self.dir = ""
        self.env = child_environment()
        self._used: set[Host] = set()

    def __enter__(self) -> SshKit:
        sweep_orphans()
        self.dir = tempfile.mkdtemp(prefix=PREFIX, dir=_bases()[0])  # 0700
        try:
            self._watch()
            self._set_up()
        except BaseException:  # a refused key leaves nothing behind either
            self.__exit__()
            raise
        return self

    def _watch(self) -> None:
        """The watchdog that cleans up after a runner killed outright (see WATCHDOG)."""
        subprocess.Popen(
            ["sh", "-c", WATCHDOG, "deploy-actions-ssh-watchdog", self.dir, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )

    def _set_up(self) -> None:
        with open(os.path.join(self.dir, "owner"), "w") as fh:
            fh.write(f"{os.getpid()}\n")
        self.key = os.path.join(self.dir, "id")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        fd = os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.key_text)
        if self.passphrase:  # decrypt our private copy, so no agent is needed later
            proc = subprocess.run(
                ["ssh-keygen", "-p", "-q", "-N", "", "-f", self.key],
                env=self._askpass_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise UsageError("could not decrypt the SSH key with this passphrase", input="ssh-key-passphrase")
        check = subprocess.run(
            ["ssh-keygen", "-y", "-P", "", "-f", self.key], capture_output=True, text=True, env=self.env
        )
        if check.returncode != 0:
            hint = (
                "it needs a passphrase (set ssh-key-passphrase)"
                if "passphrase" in check.stderr.lower()
                else "expected an OpenSSH or PEM private key"
            )
            raise UsageError(f"the SSH key cannot be used: {hint}", input="ssh-key")
        with open(self.known_hosts, "w", encoding="utf-8") as fh:
            fh.write(self.known_hosts_text.strip() + "\n" if self.known_hosts_text.strip() else "")

    def _askpass_env(self) -> dict[str, str]:
        """The passphrase reaches ssh-keygen through an askpass helper that prints it from
        its own environment: never an argv (`-P` would show it in `ps`), never a file."""
        helper = os.path.join(self.dir, "askpass")
        fd = os.open(helper, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        with os.fdopen(fd, "w") as fh:
            fh.write("#!/bin/sh\nprintf '%s\\n' \"$DEPLOY_ACTIONS_KEY_PASSPHRASE\"\n")
        # REQUIRE=force for OpenSSH ≥ 8.4; older ones use askpass when DISPLAY is set and stdin is no tty.
        return {
            **self.env,
            "SSH_ASKPASS": helper,
            "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": ":0",
            "DEPLOY_ACTIONS_KEY_PASSPHRASE": self.passphrase,
        }

    def __exit__(self, *exc: object) -> None:
        if self.dir and os.path.isdir(self.dir):
            for host in self._used:  # close the shared connections before their sockets go
                subprocess.run(
                    self.argv(host)[:-1] + ["-O", "exit", host.target], capture_output=True, timeout=10, env=self.env
                )
            shutil.rmtree(self.dir, ignore_errors=True)

    def pin(self, hosts: list[Host]) -> None:
        """With a fingerprint instead of known-hosts: scan each host's key and keep it only
        when it matches (the scan itself is unauthenticated; the fingerprint check is not)."""
        if not self.fingerprint:
            return
        lines = []
        for host in hosts + ([self.jump] if self.jump else []):
            scan = subprocess.run(
                [
                    "ssh-keyscan",
                    "-T",
                    str(int(self.connect_timeout)),
                    "-p",
                    str(host.port),
                    "--",
                    host.host.strip("[]"),
                ],
                capture_output=True,
                text=True,
                env=self.env,
            )
            matching = _fingerprints(scan.stdout).get(self.fingerprint)
            if not matching:
                raise CheckFailed(
                    f"{host}: no host key with fingerprint {self.fingerprint} (refused before any change)"
                )
            lines.append(matching)
        with open(self.known_hosts, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")

    def options(self, multiplex: bool = True) -> list[str]:
        checking = (
            ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
            if self.insecure
            else ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}"]
        )
        # One connection per host, shared by the deploy's sessions (saves a handshake each);
        # the socket lives in the private folder and is closed on exit.
        # (Not inside a ProxyCommand: it %-expands its command line and knows no %C.)
        shared = (
            ["-o", "ControlMaster=auto", "-o", f"ControlPath={self.dir}/cm-%C", "-o", "ControlPersist=120"]
            if multiplex
            else []
        )
        return [
            "-F",
            "/dev/null",
            "-i",
            self.key,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            *shared,
            "-o",
            "BatchMode=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            *checking,
            "-o",
            f"ConnectTimeout={int(self.connect_timeout)}",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
            "-o",
            "LogLevel=ERROR",
        ]

    def argv(self, host: Host) -> list[str]:
        argv = ["ssh", *self.options(), "-p", str(host.port)]
        if self.jump:
            # An explicit ProxyCommand, so the jump host gets the same key and host-key checks
            # (options given with -J apply to the destination only).
            proxy = ["ssh", *self.options(multiplex=False), "-p", str(self.jump.port), "-W", "%h:%p", self.jump.target]
            argv += ["-o", "ProxyCommand=" + " ".join(shlex.quote(a) for a in proxy)]
        return argv + [host.target]

    @contextlib.contextmanager
    def forward(self, host: Host, address: str, port: int) -> Iterator[int]:
        """A local port forwarded to `address:port` as the host sees it, over the host's shared
        connection (no new handshake); cancelled on exit. Raises OSError when ssh refuses."""
        with socket.socket() as probe:  # a free local port (the race until ssh binds it is harmless here)
            probe.bind(("127.0.0.1", 0))
            local = probe.getsockname()[1]
        with self._forwarded(host, f"127.0.0.1:{local}:{address}:{port}"):
            yield local

    @contextlib.contextmanager
    def forward_socket(self, host: Host, remote_path: str) -> Iterator[str]:
        """A unix socket in this kit's private folder forwarded to `remote_path` on the host
        (the Docker socket, for the docker CLI and SDK), over the shared connection."""
        local = os.path.join(self.dir, f"fwd-{len(os.listdir(self.dir))}.sock")
        with self._forwarded(host, f"{local}:{remote_path}"):
            yield local

    @contextlib.contextmanager
    def _forwarded(self, host: Host, spec: str) -> Iterator[None]:
        control = self.argv(host)[:-1]
        self._used.add(host)
        proc = subprocess.run(
            [*control, "-O", "forward", "-L", spec, host.target],
            capture_output=True,
            text=True,
            timeout=self.connect_timeout + 10,
            env=self.env,
        )
        if proc.returncode != 0:
            raise OSError(last_line(proc.stderr) or f"ssh -O forward exited {proc.returncode}")
        try:
            yield
        finally:
            subprocess.run(
                [*control, "-O", "cancel", "-L", spec, host.target],
                capture_output=True,
                timeout=self.connect_timeout + 10,
                env=self.env,
            )

    def _session(self, host: Host) -> subprocess.Popen:
        """`ssh host sh -s`, registered so a cancellation stops it; the caller writes the script."""
        self._used.add(host)
        proc = subprocess.Popen(
            self.argv(host) + [REMOTE_COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        with _running_lock:
            _running.add(proc)
        return proc

    @contextlib.contextmanager
    def hold(self, host: Host, params: dict[str, str], say: Callable[[str], None]) -> Iterator[Answer | None]:
        """The deploy folder's lock on `host` for as long as the block runs: a session that
        takes it and stays open (the remote sessions of this deploy pass it; any other deploy
        waits). Yields None when held, else the refusal. Ended — and the lock released — on
        exit, or by the host when this runner dies and the connection drops."""
        started, launched = time.monotonic(), time.time()
        proc = self._session(host)
        try:
            assert proc.stdin and proc.stdout and proc.stderr
            try:
                proc.stdin.write(remote_script({**params, "ACTION": "hold"}, self.body))
                proc.stdin.close()
            except BrokenPipeError:  # ssh ended before taking the whole script: its stderr says why
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            out = []
            for line in proc.stdout:
                if line.startswith("@@started "):  # the host's first session: the SSH handshake
                    _record_setup(launched, line.split(" ", 1)[1], time.monotonic() - started)
                if line.startswith("@@held"):
                    threading.Thread(target=proc.stdout.read, daemon=True).start()  # heartbeats, drained
                    break
                out.append(line)
                if not line.startswith("@@"):
                    say(f"{host}: {line.rstrip()}")
            else:
                code = proc.wait()
                fields = next((result_fields(line) for line in out if line.startswith("@@result ")), {})
                yield Answer(host, code or 1, "".join(out), proc.stderr.read(), 0.0, fields)
                return
            yield None
            self.run(host, {**params, "ACTION": "release"}, timeout=self.connect_timeout + 10)
        finally:
            with _running_lock:
                _running.discard(proc)
            proc.kill()
            proc.wait()

    def run(
        self, host: Host, params: dict[str, str], *, exports: dict[str, str] | None = None, timeout: float = 600
    ) -> Answer:
        started = time.monotonic()
        if cancel.cancelled.is_set():
            return Answer(host, 130, "", "cancelled before it started", 0.0)
        launched = time.time()
        proc = self._session(host)
        try:
            out, err = proc.communicate(remote_script(params, self.body, exports), timeout=max(timeout, 1))
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code, err = 124, err + f"\nno answer within {int(timeout)}s (command timeout)"
        finally:
            with _running_lock:
                _running.discard(proc)
        if cancel.cancelled.is_set():
            code, err = 130, err + "\ncancelled"
        fields: dict[str, str] = {}
        for line in out.splitlines():
            if line.startswith("@@result "):
                fields = result_fields(line)
            elif line.startswith("@@started "):
                _record_setup(launched, line.split(" ", 1)[1], time.monotonic() - started)
        return Answer(host, code, out, err, time.monotonic() - started, fields)
