"""pin: rewrite `uses: owner/repo[/path]@ref` in workflows and composite actions to full
commit SHAs with the ref kept as a comment — or check that everything is pinned, or move
pinned SHAs to the newest release of the same major."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.values import parse_bool

OPTIONS = (
    Option(
        "root", "Repository whose .github/workflows/*.yml and action.yml files are pinned.", default=".", path="one"
    ),
    Option(
        "remote",
        "Where refs are resolved with git ls-remote; {repo} is owner/name.",
        default="https://github.com/{repo}.git",
    ),
    Option(
        "check",
        "Only check: exit 1 listing every `uses:` that is not a full SHA; write nothing.",
        default="false",
        switch=True,
    ),
    Option(
        "update",
        "Also move pinned SHAs whose comment is a release (# v1.2.3) to the newest release of the same major.",
        default="false",
        switch=True,
    ),
)


@dataclass(frozen=True)
class Inputs:
    root: Path
    remote: str
    check: bool
    update: bool


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    root = Path(raw["root"].strip() or ".")
    if not root.is_dir():
        raise UsageError(f"{str(root)!r} is not a folder", input="root")
    if raw["remote"].strip().startswith("-"):
        raise UsageError("expected a URL template, not an option (it starts with -)", input="remote")
    if "{repo}" not in raw["remote"] and "{owner}" not in raw["remote"]:
        raise UsageError("expected a URL template with {repo}, e.g. https://github.com/{repo}.git", input="remote")
    try:
        raw["remote"].format(repo="o/n", owner="o", name="n")
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"only {{repo}}, {{owner}} and {{name}} may be used in the template ({type(exc).__name__}: {exc})",
            input="remote",
        ) from None
    check, update = parse_bool(raw["check"], "check"), parse_bool(raw["update"], "update")
    if check and update:
        raise UsageError("--check writes nothing; use it without --update", input="check")
    return Inputs(root, raw["remote"].strip(), check, update)


def files(root: Path) -> list[Path]:
    found = sorted((root / ".github" / "workflows").glob("*.y*ml")) if (root / ".github/workflows").is_dir() else []
    for pattern in ("action.yml", "action.yaml", "**/action.yml", "**/action.yaml"):
        found += [p for p in root.glob(pattern) if not ({".git", "node_modules", ".venv"} & set(p.parts))]
    return sorted(set(found))


def run(inputs: Inputs, reporter: Reporter) -> Result:
    from deploy_actions import inputfiles, pin_refs, yamlpos

    texts: dict[Path, str] = {}
    for path in files(inputs.root):
        text = inputfiles.read_text(path, "root", what="workflow", root=inputs.root)
        try:
            yamlpos.parse(text, path.relative_to(inputs.root).as_posix(), "root")
        except UsageError as exc:
            exc.args = (f"{exc.args[0]} — nothing was rewritten",)
            raise
        texts[path] = text
    uses = {path: pin_refs.find(text, str(path)) for path, text in texts.items()}
    if inputs.check:
        loose = [u for found in uses.values() for u in found if not u.pinned]
        result = Result(not loose, document={"unpinned": [vars(u) for u in loose]})
        for use in loose:
            result.error(
                f"{use.repo}@{use.ref} is not pinned to a commit SHA (deploy-actions pin fixes it)",
                title="pin: unpinned",
                file=use.file,
                line=use.line,
            )
        total = sum(len(f) for f in uses.values())
        result.message = (
            f"{len(loose)} of {total} references unpinned" if loose else f"every `uses:` is pinned ({total} references)"
        )
        result.summary = f"### {'❌' if loose else '✅'} pin --check\n\n{result.message}\n"
        return result
    resolver = pin_refs.Resolver(inputs.remote)
    plans: dict[Path, dict[int, tuple[str, str]]] = {}
    missing = []
    for path, found in uses.items():
        for use in found:
            if use.pinned and not (inputs.update and use.comment):
                continue
            human = use.comment if use.pinned else use.ref
            if inputs.update and use.pinned:
                newer = pin_refs.newest_in_major(resolver.refs(use.repo), human)
                if not newer:
                    continue
                human = newer
            sha = resolver.sha(use.repo, human)
            if sha is None:
                missing.append(use)
                continue
            if sha != use.ref or human != use.comment:
                plans.setdefault(path, {})[use.line] = (sha, human)
    if missing:
        for use in missing:
            reporter.error(
                f"{use.repo}@{use.ref} does not resolve at {pin_refs.remote_url(inputs.remote, use.repo)}",
                title="pin: unknown ref",
                file=use.file,
                line=use.line,
            )
        raise UsageError(f"{len(missing)} reference(s) do not resolve; nothing was rewritten", input="remote")
    for path, changes in plans.items():
        inputfiles.write_text(path, pin_refs.rewrite(texts[path], changes), inputs.root, "root", what="workflow")
        for number, (sha, human) in sorted(changes.items()):
            reporter.info(f"{path}:{number}: @{sha[:12]}… # {human}")
    count = sum(len(c) for c in plans.values())
    message = f"pinned {count} reference(s) in {len(plans)} file(s)" if count else "nothing to pin"
    return Result(
        True,
        document={"rewritten": count, "files": [str(p) for p in plans]},
        message=message,
        summary=f"### ✅ pin\n\n{message}\n",
    )


COMMAND = Command(
    name="pin",
    summary="Pin `uses:` references to full commit SHAs (ref kept as a comment); --check, --update.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs={},
    parse=parse_inputs,
    run=run,
    action=False,
)
