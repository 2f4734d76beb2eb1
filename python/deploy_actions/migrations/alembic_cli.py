"""Running the project's own alembic (its env.py, models and dependencies, in its working
directory, e.g. `uv run alembic` in backend/), with the throwaway database's URL handed over
in an environment variable — not on the command line, where `ps` would show the password."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy_actions.errors import UsageError


@dataclass
class Result:
    code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def tail(self, lines: int = 12) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])

    def error(self) -> str:
        """The exception line and the failing SQL, not the traceback around them."""
        lines = self.output.strip().splitlines()
        errors = [line.strip() for line in lines if re.match(r"^\s*[\w.]+(Error|Exception|Failure)\b.*:", line)]
        statements = [line.strip() for line in lines if line.strip().startswith("[SQL:")]
        picked = errors[-1:] + statements[-1:]
        return " ".join(picked) if picked else self.tail(3)

    def failing_revision(self) -> str | None:
        """The revision alembic was applying when it stopped ("Running upgrade a1 -> a2")."""
        found = re.findall(r"Running (?:upgrade|downgrade) .*?-> (\w+)", self.output)
        return found[-1] if found else None


@dataclass
class Alembic:
    command: list[str]
    cwd: Path
    config: str
    url_env: str
    timeout: float
    section: str = "alembic"
    pgoptions: str = ""  # the deploy's lock and statement timeouts, so the rehearsal runs as the deploy will

    @classmethod
    def of(
        cls,
        command: str,
        cwd: Path,
        config: str,
        url_env: str,
        timeout: float,
        section: str = "alembic",
        pgoptions: str = "",
    ) -> Alembic:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UsageError(f"cannot split it into words ({exc}): check the quotes", input="alembic-command") from None
        if not argv:
            raise UsageError("expected a command such as `alembic` or `uv run alembic`", input="alembic-command")
        return cls(argv, cwd, config, url_env, timeout, section, pgoptions)

    def run(self, *args: str, url: str | None = None) -> Result:
        env = dict(os.environ)
        if url is not None:
            env[self.url_env] = url
            if self.pgoptions:  # a URL of ours (the throwaway database): PostgreSQL applies them
                env["PGOPTIONS"] = " ".join(p for p in (env.get("PGOPTIONS", ""), self.pgoptions) if p)
        try:
            proc = subprocess.run(
                [*self.command, "-c", self.config, "-n", self.section, *args],
                cwd=self.cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except FileNotFoundError:
            raise UsageError(
                f"{self.command[0]!r} was not found: install the project's dependencies first, or set "
                "alembic-command (e.g. `uv run alembic`)",
                input="alembic-command",
            ) from None
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return Result(124, out + f"\nalembic {' '.join(args)} took longer than {int(self.timeout)}s")
        return Result(proc.returncode, proc.stdout + proc.stderr)
