"""What `local-run` hands to act, worked out without running anything: the event and its
payload from simple flags, the facts of a workflow that decide the act arguments (its
dispatch inputs, its runner labels, the refs it uses of this library), and the variables /
secrets files. The command module does the I/O around it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from deploy_actions import inputfiles
from deploy_actions.errors import UsageError
from deploy_actions.values import ENV_NAME, refuse_reserved
from deploy_actions.versions import is_release


@dataclass(frozen=True)
class Workflow:
    """The parts of a workflow that shape the act command line."""

    events: frozenset[str]
    dispatch_inputs: dict[str, dict]  # name -> {required, default, type, options}
    labels: tuple[str, ...]  # runs-on labels of every job
    library_refs: tuple[str, ...]  # refs of the library repository it uses (v1, v1.2.3, a SHA)
    fetched: tuple[str, ...] = ()  # other `uses:` act would download from GitHub
    tags_only: bool = False  # `push:` filtered to tags: a branch push does not run it


def read_workflow(data: object, library: str) -> Workflow:
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise UsageError("expected a workflow with `on:` and `jobs:`", input="workflow")
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as True
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = {name: None for name in on}
    elif not isinstance(on, dict):
        raise UsageError("the workflow has no `on:` triggers", input="workflow")
    dispatch = on.get("workflow_dispatch") if isinstance(on.get("workflow_dispatch"), dict) else {}
    dispatch = dispatch.get("inputs") if isinstance(dispatch.get("inputs"), dict) else {}
    labels: list[str] = []
    for job in data["jobs"].values():
        runs_on = job.get("runs-on") if isinstance(job, dict) else None
        for label in [runs_on] if isinstance(runs_on, str) else runs_on if isinstance(runs_on, list) else []:
            if isinstance(label, str) and "${{" not in label and label not in labels:
                labels.append(label)
    push = on.get("push") if isinstance(on.get("push"), dict) else {}
    tags_only = bool(push.get("tags")) and not push.get("branches") and not push.get("branches-ignore")
    library_refs: list[str] = []
    fetched: list[str] = []
    for uses, inputs in _uses(data["jobs"]):
        target, _, ref = uses.partition("@")
        if target == library or target.startswith(library + "/"):
            if ref and ref not in library_refs:
                library_refs.append(ref)
        elif _downloaded(uses, inputs) and uses not in fetched:
            fetched.append(uses)
    return Workflow(
        frozenset(on),
        {str(k): _mapping(v) for k, v in dispatch.items()},
        tuple(labels),
        tuple(library_refs),
        tuple(fetched),
        tags_only,
    )


def _uses(jobs: dict):
    """Every `uses:` of the workflow — reusable workflows of jobs, actions of steps — with
    the `with:` it is given."""
    for job in jobs.values():
        if not isinstance(job, dict):
            continue
        if isinstance(job.get("uses"), str):
            yield job["uses"], _mapping(job.get("with"))
        for step in job["steps"] if isinstance(job.get("steps"), list) else []:
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                yield step["uses"], _mapping(step.get("with"))


def _mapping(value: object) -> dict:
    """A workflow field that should be a mapping; any other type counts as empty (GitHub
    would refuse the workflow; act says why when it runs it)."""
    return value if isinstance(value, dict) else {}


def _downloaded(uses: str, inputs: dict) -> bool:
    """Would act fetch this over the network? Not local `./…` paths, not `docker://`
    images, and not actions/checkout of this same repository at the event's commit, which
    act replaces with a copy of the working tree."""
    if uses.startswith(("./", "docker://")):
        return False
    return not (uses.split("@", 1)[0].lower() == "actions/checkout" and not {"ref", "repository"} & set(inputs))


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict
    act_args: tuple[str, ...] = field(default_factory=tuple)
    describe: str = ""


def tag_push(tag: str, sha: str) -> Event:
    if not is_release(tag):
        raise UsageError(f"expected a release tag such as v0.1.0, got {tag!r}", input="tag")
    return Event(
        "push",
        {"ref": f"refs/tags/{tag}", "ref_name": tag, "after": sha, "head_commit": {"id": sha}},
        describe=f"tag push {tag}",
    )


def branch_push(branch: str, sha: str) -> Event:
    return Event(
        "push", {"ref": f"refs/heads/{branch}", "after": sha, "head_commit": {"id": sha}}, describe=f"push to {branch}"
    )


def dispatch(pairs: dict[str, str], workflow: Workflow, branch: str) -> Event:
    """workflow_dispatch with inputs checked like GitHub checks them: known names, required
    ones present, choices respected, booleans as true/false; defaults filled in."""
    declared = workflow.dispatch_inputs
    unknown = sorted(set(pairs) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise UsageError(f"the workflow has no input {', '.join(unknown)} (its inputs: {known})", input="dispatch")
    inputs: dict[str, str] = {}
    for name, spec in declared.items():
        value = pairs.get(name, "" if spec.get("default") is None else str(spec.get("default")))
        if spec.get("type") == "boolean" and isinstance(spec.get("default"), bool) and name not in pairs:
            value = str(spec["default"]).lower()
        if spec.get("required") and value == "":
            raise UsageError(
                f"the workflow requires input {name!r} ({str(spec.get('description', 'no description'))}): "
                f"add --dispatch {name}=…",
                input="dispatch",
            )
        if (
            spec.get("type") == "choice"
            and value
            and value not in [str(o) for o in spec.get("options") or [] if isinstance(spec.get("options"), list)]
        ):
            raise UsageError(
                f"{name} must be one of {', '.join(map(str, spec['options']))}, got {value!r}", input="dispatch"
            )
        if spec.get("type") == "boolean" and value not in ("", "true", "false"):
            raise UsageError(f"{name} is a boolean: true or false, got {value!r}", input="dispatch")
        inputs[name] = value
    args = tuple(arg for name, value in inputs.items() for arg in ("--input", f"{name}={value}"))
    shown = ", ".join(f"{k}={v}" for k, v in inputs.items())
    return Event(
        "workflow_dispatch",
        {"inputs": inputs, "ref": f"refs/heads/{branch}"},
        args,
        describe=f"workflow_dispatch ({shown})" if shown else "workflow_dispatch",
    )


def pull_request(number: str, branch: str, head_sha: str, base: str, base_sha: str) -> Event:
    if not (number.isascii() and number.isdigit()) or len(number) > 18 or int(number) < 1:
        raise UsageError(f"expected a pull request number such as 7, got {number[:40]!r}", input="pr")
    payload = {
        "action": "synchronize",
        "number": int(number),
        "pull_request": {
            "number": int(number),
            "head": {"ref": branch, "sha": head_sha},
            "base": {"ref": base, "sha": base_sha},
        },
    }
    return Event("pull_request", payload, describe=f"pull request #{number} ({branch} → {base})")


def read_pairs_file(text: str, path: Path, name: str) -> dict[str, str]:
    """`NAME=value` per line (# comments, blank lines); `NAME=@file` reads a file, relative
    to this one — for multi-line values such as an SSH key or known_hosts. Errors cite the
    line number, never the line: these files hold secrets."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if not sep or not ENV_NAME.match(key):
            raise UsageError(
                f"{path}:{number}: expected NAME=value or NAME=@file", input=name, file=str(path), line=number
            )
        refuse_reserved(key, name, file=str(path), line=number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value.startswith("@"):
            source = (path.parent / value[1:]).resolve()
            try:
                value = inputfiles.read_text(source, name, what=f"file for {key}")
            except UsageError as exc:
                raise UsageError(f"{path}:{number}: {exc.args[0]}", input=name, file=str(path), line=number) from None
        values[key] = value
    return values


_REMOTE = re.compile(r"^(?:[a-z+]+://(?:[^@/]+@)?[^/]+/|[^@/:]+@[^:/]+:)(?:.*/)?([^/]+)/([^/]+?)(?:\.git)?/?$")
_NAME_PART = re.compile(r"[^A-Za-z0-9._-]+")


def repository_name(remote: str | None, folder: Path) -> str:
    """`owner/name` as GitHub would have it: from the remote's URL (https, ssh or scp-like, any
    host), else `local/<folder>`. act itself falls back to `nektos/act`, which then shows up
    in image labels, summaries and links."""
    match = _REMOTE.match((remote or "").strip())
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return f"local/{_NAME_PART.sub('-', folder.resolve().name).strip('-.') or 'repository'}"


def act_command(
    act: str,
    event: Event,
    event_file: Path,
    workflow_file: Path,
    workflow: Workflow,
    library: str,
    library_path: Path,
    secrets: list[str],
    variables: list[str],
    job: str,
    extra: list[str],
    repository: str = "",
) -> list[str]:
    """act in self-hosted mode: every runner label of the workflow runs on this machine,
    every ref of the library the workflow uses is mapped to the local checkout; `repository`
    is github.repository (see repository_name)."""
    argv = [act, event.name, "-W", str(workflow_file), "-e", str(event_file), "--no-cache-server"]
    if repository:
        argv += ["--env", f"GITHUB_REPOSITORY={repository}"]
    # ubuntu-latest too: reusable workflows' jobs choose their runner themselves.
    for label in dict.fromkeys([*workflow.labels, "ubuntu-latest"]):
        argv += ["-P", f"{label}=-self-hosted"]
    for ref in workflow.library_refs:
        argv += ["--local-repository", f"{library}@{ref}={library_path}"]
    argv += list(event.act_args)
    for name in secrets:
        argv += ["-s", name]
    for name in variables:
        argv += ["--var", name]
    if job:
        argv += ["-j", job]
    return argv + extra


_JOB_RESULT = re.compile(r"^\[(?P<job>[^\]]+)\]\s+🏁\s+Job (?P<result>succeeded|failed)")


def job_results(output: str) -> dict[str, str]:
    """`[workflow/job] 🏁  Job succeeded|failed` lines of act's log → {job: result}."""
    results: dict[str, str] = {}
    for line in output.splitlines():
        match = _JOB_RESULT.match(line.strip())
        if match:
            results[match.group("job")] = match.group("result")
    return results
