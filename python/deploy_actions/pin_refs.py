"""Pinning `uses: owner/repo[/path]@ref` to full commit SHAs, keeping the human ref as a
comment (`@<40 hex> # v1.2.3`). A careful line-level edit: only the ref and its comment
change, every other byte (comments, quotes, CRLF line ends) stays. Pure, except `resolve`."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from deploy_actions.versions import SEMVER, is_prerelease, is_release, precedence

USES = re.compile(
    r"^(?P<lead>\s*(?:-\s+)?uses:\s*)(?P<q>['\"]?)(?P<repo>[\w.-]+/[\w.-]+)(?P<path>/[^@\s'\"]*)?"
    r"@(?P<ref>[^\s'\"#]+)(?P=q)(?P<tail>[ \t]*(?:#[ \t]*(?P<comment>\S+)[^\r\n]*)?)(?P<eol>\r?\n?)$"
)
SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Use:
    file: str
    line: int
    repo: str
    ref: str
    comment: str | None

    @property
    def pinned(self) -> bool:
        return bool(SHA.match(self.ref))


def find(text: str, file: str) -> list[Use]:
    uses = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        match = USES.match(line)
        if match:
            uses.append(Use(file, number, match["repo"], match["ref"], match["comment"]))
    return uses


def rewrite(text: str, changes: dict[int, tuple[str, str]]) -> str:
    """Apply {line number: (sha, human ref)}; the rest of every line is kept as it was."""
    lines = text.splitlines(keepends=True)
    for number, (sha, human) in changes.items():
        match = USES.match(lines[number - 1])
        assert match is not None
        lines[number - 1] = (
            f"{match['lead']}{match['q']}{match['repo']}{match['path'] or ''}@{sha}{match['q']} # {human}{match['eol']}"
        )
    return "".join(lines)


def newest_in_major(tags: dict[str, str], current: str) -> str | None:
    """The highest non-prerelease vX.Y.Z with current's major, if newer than current."""
    if not SEMVER.match(current):
        return None
    major = precedence(current)[0]
    candidates = [t for t in tags if is_release(t) and not is_prerelease(t) and precedence(t)[0] == major]
    best = max(candidates, key=precedence, default=None)
    return best if best and precedence(best) > precedence(current) else None


def remote_url(template: str, repo: str) -> str:
    """The remote of `owner/name` from a template with {repo}, {owner} and {name}."""
    owner, _, name = repo.partition("/")
    return template.format(repo=repo, owner=owner, name=name)


class Resolver:
    """`git ls-remote` once per repository; annotated tags are peeled to their commit."""

    def __init__(self, remote: str):
        self.remote = remote
        self._refs: dict[str, dict[str, str]] = {}

    def refs(self, repo: str) -> dict[str, str]:
        if repo not in self._refs:
            # `--`: the URL is never an option (`--upload-pack=…` would run a command); and no
            # transport that runs a program (ext::, fd::), whatever the user's git config says.
            proc = subprocess.run(
                [
                    *("git", "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never"),
                    *("ls-remote", "--tags", "--heads", "--", remote_url(self.remote, repo)),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
            refs: dict[str, str] = {}
            peeled: dict[str, str] = {}
            for line in proc.stdout.splitlines():
                sha, _, name = line.partition("\t")
                short = name.removeprefix("refs/tags/").removeprefix("refs/heads/")
                if short.endswith("^{}"):
                    peeled[short[:-3]] = sha
                elif name.startswith("refs/tags/") or short not in refs:
                    refs[short] = sha  # a tag wins over a branch of the same name
            refs.update(peeled)
            self._refs[repo] = refs if proc.returncode == 0 else {}
        return self._refs[repo]

    def sha(self, repo: str, ref: str) -> str | None:
        return self.refs(repo).get(ref)
