"""Read a Dockerfile the way its parser does — parser directives, the escape character,
continuation lines, heredocs — so that a build failure can be put on its line and syntax the
classic builder cannot run is named before a build starts. Pure: text in, facts out."""

from __future__ import annotations

import re
from dataclasses import dataclass

DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")
FLAG = re.compile(r"^--([a-z-]+)(?:=(\S*))?")


@dataclass(frozen=True)
class Instruction:
    line: int  # first line of the instruction, 1-based
    keyword: str  # upper case: RUN, COPY, FROM…
    text: str  # the instruction as one line, continuations joined
    stage: int  # index of the FROM it belongs to (-1 before the first FROM)
    stage_name: str | None

    def flags(self) -> dict[str, str]:
        """The `--name=value` flags before the arguments (RUN --mount=…, COPY --link)."""
        found: dict[str, str] = {}
        for word in self.text.split()[1:]:
            match = FLAG.match(word)
            if not match:
                break
            found.setdefault(match.group(1), match.group(2) or "")
        return found


@dataclass(frozen=True)
class Dockerfile:
    directives: dict[str, str]
    instructions: tuple[Instruction, ...]


def parse(text: str) -> Dockerfile:
    lines = text.splitlines()
    directives: dict[str, str] = {}
    start = 0
    for start, raw in enumerate(lines):  # noqa: B007 - `start` is where instructions begin
        match = DIRECTIVE.match(raw.strip()) if raw.strip().startswith("#") else None
        if not match or match.group(1).lower() in directives:
            break
        directives[match.group(1).lower()] = match.group(2)
    else:
        start = len(lines)
    escape = directives.get("escape", "\\")[:1] or "\\"
    instructions: list[Instruction] = []
    stage, stage_name = -1, None
    index = start
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        first = index + 1
        parts = [stripped]
        while parts[-1].endswith(escape) and index + 1 < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            index += 1
            following = lines[index].strip()
            while (not following or following.startswith("#")) and index + 1 < len(lines):
                index += 1  # comments and blank lines inside a continuation are dropped
                following = lines[index].strip()
            parts.append(following)
        if parts[-1].endswith(escape):
            parts[-1] = parts[-1][:-1].rstrip()
        text = " ".join(part for part in parts if part)
        for _quote, word in HEREDOC.findall(text):
            while index + 1 < len(lines) and lines[index + 1].strip() != word:
                index += 1
            index += 1  # the terminator
        keyword = text.split(None, 1)[0].upper()
        if keyword == "FROM":
            stage += 1
            words = text.split()
            stage_name = words[-1] if len(words) >= 4 and words[-2].upper() == "AS" else None
        instructions.append(Instruction(first, keyword, text, stage, stage_name))
        index += 1
    return Dockerfile(directives, tuple(instructions))


def _normal(text: str) -> str:
    return " ".join(text.split())


def line_of(dockerfile: Dockerfile, step: str, stage: str | None = None) -> int | None:
    """The line of a step as a builder names it: `RUN make` (classic) or, from BuildKit's
    progress, `[builder 2/4] RUN make` / `[stage-1 3/3] COPY . .`. BuildKit shortens nothing
    but whitespace, so the match is on the instruction with whitespace collapsed."""
    match = re.match(r"^\[([^\]\s]+)(?: \d+/\d+)?\]\s*(.*)$", step.strip())
    if match:
        stage, step = match.group(1), match.group(2)
    wanted = _normal(step)
    candidates = [i for i in dockerfile.instructions if _normal(i.text) == wanted]
    if not candidates:
        # A heredoc or a very long command is shown cut; its start is still unique enough.
        candidates = [i for i in dockerfile.instructions if wanted and _normal(i.text).startswith(wanted)]
    if stage and len(candidates) > 1:
        index = int(stage.split("-", 1)[1]) if re.fullmatch(r"stage-\d+", stage) else None
        narrowed = [i for i in candidates if i.stage_name == stage or i.stage == index]
        candidates = narrowed or candidates
    return candidates[0].line if candidates else None


# What only BuildKit understands, as the classic builder of Docker 20.10–27 would reject or
# silently misread it: (instruction, flag) pairs, heredocs and the syntax directive.
BUILDKIT_FLAGS = {
    ("RUN", "mount"): "RUN --mount",
    ("RUN", "network"): "RUN --network",
    ("RUN", "security"): "RUN --security",
    ("COPY", "link"): "COPY --link",
    ("ADD", "link"): "ADD --link",
    ("COPY", "parents"): "COPY --parents",
    ("COPY", "exclude"): "COPY --exclude",
    ("ADD", "exclude"): "ADD --exclude",
    ("ADD", "checksum"): "ADD --checksum",
    ("ADD", "keep-git-dir"): "ADD --keep-git-dir",
}


def buildkit_only(dockerfile: Dockerfile) -> list[tuple[int, str]]:
    """(line, feature) for every use of syntax the classic builder cannot build."""
    found: list[tuple[int, str]] = []
    if "syntax" in dockerfile.directives:
        found.append((1, f"the `# syntax={dockerfile.directives['syntax']}` directive"))
    for instruction in dockerfile.instructions:
        for flag in instruction.flags():
            feature = BUILDKIT_FLAGS.get((instruction.keyword, flag))
            if feature:
                found.append((instruction.line, f"`{feature}`"))
        if instruction.keyword in ("RUN", "COPY", "ADD") and HEREDOC.search(instruction.text):
            found.append((instruction.line, f"a heredoc in `{instruction.keyword}`"))
    return found
