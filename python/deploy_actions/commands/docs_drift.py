"""docs-drift: the docs say what the repository really does — workflow tables match the
workflows, action tables match the action.yml files, links and paths resolve, variables
and endpoints named in the docs exist. `--fix` rewrites what is generated; `--diff` shows it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deploy_actions import gha, inputfiles, yamlpos
from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.values import parse_bool

OPTIONS = (
    Option(
        "contract",
        "The contract file listing which docs are checked by which rules (missing: the defaults "
        "— links and paths in README.md and docs/**/*.md, workflow and action tables wherever found).",
        default=".docs-contract.yml",
        path="one",
    ),
    Option("root", "Repository root the docs and the contract are relative to.", default=".", path="one"),
    Option(
        "fix",
        "Rewrite every generated section (action tables between docs-drift markers); report the rest.",
        default="false",
        switch=True,
    ),
    Option("diff", "Print what --fix would change, as a unified diff, without writing.", default="false", switch=True),
)
OUTPUTS = {
    "drift-count": "How many drifts were found (after --fix: how many are left).",
    "fixed-count": "How many drifts --fix repaired.",
    "report": "JSON list of drifts: rule, file, line, says (the doc), actual (the repository), fix, fixed.",
}
DEFAULT_DOCS = ["README.md", "docs/*.md", "docs/**/*.md"]
DEFAULT_ACTIONS = ["action.yml", "action.yaml", "*/action.yml", "*/action.yaml", "**/action.yml", "**/action.yaml"]
DEFAULT_ENV_SOURCES = [
    "docker-compose*.yml",
    "compose*.yml",
    "**/docker-compose*.yml",
    "**/compose*.yml",
    ".env.example",
    "**/.env.example",
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
]


@dataclass(frozen=True)
class Inputs:
    root: Path
    contract: dict = field(default_factory=dict)
    contract_file: str = ""
    fix: bool = False
    diff: bool = False


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    root = Path(raw["root"].strip() or ".")
    if not root.is_dir():
        raise UsageError(f"{str(root)!r} is not a folder", input="root")
    name = raw["contract"].strip() or ".docs-contract.yml"
    path = root / name
    contract: dict = {}
    if path.is_file():
        contract, _ = yamlpos.load(
            inputfiles.read_text(path, "contract", what="contract"),
            str(path),
            "contract",
            "docs-contract.schema.json",
            what="contract",
        )
    elif raw["contract"].strip() not in ("", ".docs-contract.yml"):
        raise UsageError(f"no contract file at {str(path)!r}", input="contract")
    contract = contract or {}
    for key in ("env", "endpoints"):
        for single in ("doc", "openapi"):
            target = (contract.get(key) or {}).get(single)
            if target and not (root / target).is_file():
                raise UsageError(f"{path}: {key}.{single}: {target!r} does not exist", input="contract", file=str(path))
    return Inputs(
        root=root,
        contract=contract,
        contract_file=str(path) if path.is_file() else "",
        fix=parse_bool(raw["fix"], "fix"),
        diff=parse_bool(raw["diff"], "diff"),
    )


def check(inputs: Inputs) -> tuple[list, dict, list]:
    from deploy_actions.docs import rules

    contract = inputs.contract
    links_cfg = contract.get("links") or {}
    repo = rules.Repo(inputs.root, ignore=list(links_cfg.get("ignore", [])))
    site = repo.mkdocs  # by default its pages are checked too, wherever its docs_dir is
    doc_patterns = contract.get("docs") or DEFAULT_DOCS + ([f"{site.docs_dir}/**/*.md"] if site else [])
    docs = [d for d in repo.glob(doc_patterns) if d.endswith(".md")]
    for pattern in contract.get("docs") or []:
        if not any(ch in pattern for ch in "*?[") and pattern not in repo.files:
            raise UsageError(
                f"docs lists {pattern!r}, which does not exist", input="contract", file=inputs.contract_file or None
            )
    repo.preload(docs)
    drifts = []
    for wf, wf_docs in workflow_sets(repo, contract.get("workflows") or {}, docs):
        drifts += rules.workflow_tables(
            repo, wf_docs, wf.get("dir", ".github/workflows"), list(wf.get("exclude", [])), dict(wf.get("triggers", {}))
        )
    action_drifts, changes = rules.action_tables(
        repo, contract.get("actions") or DEFAULT_ACTIONS, fix=inputs.fix and not inputs.diff
    )
    drifts += action_drifts
    paths = links_cfg.get("check-paths", True)
    drifts += rules.links(repo, docs, "all" if paths == "all" else bool(paths))
    env_cfg = contract.get("env")
    if env_cfg:
        drifts += rules.env_variables(
            repo,
            env_cfg["doc"],
            env_cfg.get("sources") or DEFAULT_ENV_SOURCES,
            env_cfg.get("documented", True),
            env_cfg.get("used", True),
            list(env_cfg.get("ignore", [])),
        )
    endpoints_cfg = contract.get("endpoints")
    if endpoints_cfg:
        drifts += rules.endpoints(
            repo, [d for d in repo.glob(endpoints_cfg.get("docs") or doc_patterns)], endpoints_cfg["openapi"]
        )
    if docs and repo.unreadable.issuperset(docs):  # nothing could be checked: the input's fault
        first = repo.notes[0] if repo.notes else None
        raise UsageError(f"none of the {len(docs)} doc(s) can be read" + (f": {first.message}" if first else ""))
    return drifts, changes, repo.notes


def workflow_sets(repo, config: dict | list, docs: list[str]) -> list[tuple[dict, list[str]]]:
    """Pair each workflow folder with the docs whose tables describe it (a repository may
    document its own workflows and, elsewhere, examples for consumers); a set without
    `docs` gets every doc the other sets do not claim."""
    sets = config if isinstance(config, list) else [config]
    claimed = {doc for wf in sets if wf.get("docs") for doc in repo.glob(wf["docs"])}
    return [
        (
            wf,
            [d for d in docs if d in set(repo.glob(wf["docs"]))]
            if wf.get("docs")
            else [d for d in docs if d not in claimed],
        )
        for wf in sets
    ]


def run(inputs: Inputs, reporter: Reporter) -> Result:
    from deploy_actions.docs import rules

    drifts, changes, notes = check(inputs)
    diff_text = rules.diff(changes) if inputs.diff else ""
    if inputs.diff and not reporter.json_mode:
        reporter.foreign(diff_text)  # the files' own lines: never taken as workflow commands
    fixed = [d for d in drifts if d.fixed]
    left = [d for d in drifts if not d.fixed]
    report = [d.as_dict() for d in drifts]
    result = Result(
        not left,
        outputs={"drift-count": str(len(left)), "fixed-count": str(len(fixed)), "report": report},
        document={
            "drift_count": len(left),
            "fixed_count": len(fixed),
            "report": report,
            "notes": [{"level": n.level, "message": n.message, "file": n.file, "line": n.line} for n in notes],
            **({"diff": diff_text} if inputs.diff else {}),
        },
    )
    for note in notes:  # what went unseen: a page that cannot be read, an extension not here
        where = {"file": os.path.normpath(inputs.root / note.file), "line": note.line} if note.file else {}
        (result.warning if note.level == "warning" else result.notice)(note.message, title="docs-drift", **where)
    for drift in left:
        result.error(
            f"the doc {drift.says}; the repository: {drift.actual}. Fix: {drift.fix}",
            title=f"docs-drift: {drift.rule}",
            file=os.path.normpath(inputs.root / drift.file),
            line=drift.line,
        )
    sections = []
    for rule in sorted({d.rule for d in drifts}):
        rows = [
            [f"{d.file}:{d.line}", d.says, d.actual, "fixed" if d.fixed else d.fix] for d in drifts if d.rule == rule
        ]
        sections.append(f"#### {rule}\n\n" + gha.md_table(["Where", "The doc", "The repository", "Fix"], rows))
    icon = "❌" if left else "✅"
    head = f"### {icon} docs-drift: {len(left)} drift(s)" + (f", {len(fixed)} fixed" if fixed else "")
    result.summary = head + "\n\n" + ("\n".join(sections) if sections else "The docs match the repository.\n")
    counted = f" ({len(fixed)} fixed)" if fixed else ""
    result.message = (
        f"docs-drift: {len(left)} drift(s){counted}" if left else f"docs-drift: the docs match the repository{counted}"
    )
    return result


COMMAND = Command(
    name="docs-drift",
    summary="Check that the docs (workflow tables, action input tables, links and paths) match the real files.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    branding=("book-open", "gray-dark"),
)
