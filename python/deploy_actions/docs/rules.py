"""The docs-drift rules. Each reads the repository (walked once) and the parsed docs, and
returns drifts: where the doc says something, what the repository says, and the fix."""

from __future__ import annotations

import difflib
import fnmatch
import functools
import os
import posixpath
import re
import subprocess
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from deploy_actions import inputfiles, yamlpos
from deploy_actions.docs import markdown, mkdocs_site, workflows
from deploy_actions.errors import UsageError

SKIP_DIRS = {
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_PATHLIKE = re.compile(r"^\.?[\w.-]+(?:/[\w.-]+)+/?$")
_PLACEHOLDER = {"path", "to", "some", "your", "my", "foo", "bar", "baz", "example", "xxx"}
_PLACEHOLDER_WORDS = {"some", "your", "my", "foo", "bar", "baz", "xxx"}  # within a name: `some-library/`
# Files a project has at a known place: `./pyproject.toml` names this repository's own.
_PROJECT_FILES = {
    ".env.example",
    ".gitignore",
    ".pre-commit-config.yaml",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "Cargo.toml",
    "Dockerfile",
    "Gemfile",
    "LICENSE",
    "Makefile",
    "README.md",
    "action.yml",
    "alembic.ini",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "go.mod",
    "mkdocs.yml",
    "package.json",
    "pyproject.toml",
    "requirements.txt",
    "setup.cfg",
    "setup.py",
    "tox.ini",
}
_WORKFLOW_NAME = re.compile(r"[\w.-]+\.ya?ml")
PARALLEL_FROM = 400  # pages: below this, starting workers costs more than it saves


@functools.cache
def _glob_tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    """Git-style globs as tokens: `*` and `?` stay within a path segment, `**/` spans folders
    (or none), another `**` any text. A run of stars counts once (`***` is `**`)."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "*":
            run = len(pattern) - i - len(pattern[i:].lstrip("*"))
            i += run
            if run == 1:
                tokens.append(("star", ""))
            elif pattern.startswith("/", i):
                tokens += [("folders", ""), ("char", "/")]  # (?:.*/)?: folders, or nothing at all
                i += 1
            else:
                tokens.append(("any", ""))
        else:
            tokens.append(("one", "") if pattern[i] == "?" else ("char", pattern[i]))
            i += 1
    return tuple(tokens)


def _closure(states: set[int], tokens: tuple[tuple[str, str], ...]) -> frozenset[int]:
    todo, seen = list(states), set(states)
    while todo:
        i = todo.pop()
        kind = tokens[i][0] if i < len(tokens) else ""
        for j in {"star": (i + 1,), "any": (i + 1,), "folders": (i + 1, i + 2)}.get(kind, ()):
            if j not in seen:
                seen.add(j)
                todo.append(j)
    return frozenset(seen)


@functools.lru_cache(maxsize=65536)
def _step(pattern: str, states: frozenset[int], ch: str) -> frozenset[int]:
    """The automaton's move on one character, remembered: in effect a DFA built as it is used."""
    tokens = _glob_tokens(pattern)
    step = set()
    for i in states:
        if i >= len(tokens):
            continue
        kind, value = tokens[i]
        if kind == "char" and value == ch or kind == "one" and ch != "/":
            step.add(i + 1)
        elif kind == "star" and ch != "/" or kind in ("any", "folders"):
            step.add(i)
    return _closure(step, tokens)


def glob_match(path: str, pattern: str) -> bool:
    """The whole of `path` matches `pattern`, run as an automaton: time in proportion to the
    path's length times the pattern's, whatever the stars (a backtracking regex took over a
    minute on `**/**/**/…/*.md` against one deep path)."""
    tokens = _glob_tokens(pattern)
    states = _closure({0}, tokens)
    for ch in path:
        states = _step(pattern, states, ch)
        if not states:
            return False
    return len(tokens) in states


def matches(path: str, patterns: list[str]) -> bool:
    return any(glob_match(path, p) for p in patterns)


@dataclass
class Drift:
    rule: str
    file: str
    line: int
    says: str
    actual: str
    fix: str
    fixed: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Note:
    """Something the check could not see (an extension that is not here, a page it could not
    read), said once: a notice, or a warning when part of the docs went unchecked."""

    level: str
    message: str
    file: str | None = None
    line: int | None = None


@dataclass
class Repo:
    root: Path
    ignore: list[str] = field(default_factory=list)

    @cached_property
    def files(self) -> set[str]:
        found = set()
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            rel = os.path.relpath(folder, self.root)
            for name in names:
                found.add(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
        return found

    @cached_property
    def dirs(self) -> set[str]:
        found = {""}
        for path in self.files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                found.add("/".join(parts[:i]))
        return found

    def read(self, rel: str, what: str = "file") -> str:
        """A repository file's text, through the one reader (inside the root, bounded, UTF-8)."""
        return inputfiles.read_text(self.root / rel, "root", what=what, root=self.root)

    def exists(self, rel: str) -> bool:
        rel = rel.strip("/")
        return rel in self.files or rel in self.dirs

    @cached_property
    def _by_name(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path in self.files:
            found.setdefault(posixpath.basename(path), []).append(path)
        return found

    def site_page(self, rel: str, absolute: bool) -> str | None:
        """The page a static site serves at an extensionless URL (`guide/setup` → guide/setup.md,
        guide/setup/index.md, …); for a site-absolute URL (`/commands/npm-team`), under whichever
        folder is the site's content root."""
        if posixpath.splitext(rel)[1]:
            return None
        for suffix in (".md", ".mdx", "/index.md", "/index.mdx", "/README.md", "/_index.md"):
            if rel + suffix in self.files:
                return rel + suffix
            if absolute:
                wanted = "/" + rel + suffix
                for path in self._by_name.get(posixpath.basename(rel + suffix), []):
                    if path.endswith(wanted):
                        return path
        return None

    def glob(self, patterns: list[str]) -> list[str]:
        return sorted(p for p in self.files if matches(p, patterns))

    def ignored(self, rel: str) -> bool:
        return bool(self.ignore) and matches(rel, self.ignore)

    def generated(self, rel: str) -> bool:
        """A path git ignores: written by a build (MkDocs' generated pages, say), not drift."""
        proc = subprocess.run(
            ["git", "-C", str(self.root), "check-ignore", "-q", "--no-index", "--", rel], capture_output=True
        )
        return proc.returncode == 0

    _docs: dict = field(default_factory=dict)
    _parts: dict = field(default_factory=dict)  # included files, parsed once as the site renders them
    notes: list[Note] = field(default_factory=list)  # what the check could not see, said once each
    unreadable: set[str] = field(default_factory=set)  # pages that could not be read

    def note(self, message: str, level: str = "notice", file: str | None = None, line: int | None = None) -> None:
        if not any(n.message == message for n in self.notes):
            self.notes.append(Note(level, message, file, line))

    @cached_property
    def mkdocs(self) -> mkdocs_site.Site | None:
        site = mkdocs_site.load(self.root)
        for problem in site.problems if site else ():
            self.note(problem, "warning")
        return site

    @cached_property
    def renderer(self):  # -> mkdocs_render.Renderer | None, imported only for an MkDocs site
        site = self.mkdocs
        if site is None:
            return None
        from deploy_actions.docs import mkdocs_render

        renderer = mkdocs_render.Renderer(site, self.root, lambda rel: self.read(rel, "snippet"))
        for message in renderer.notices:
            self.note(message)
        return renderer

    def flavour(self, rel: str) -> str:
        site = self.mkdocs
        return "mkdocs" if site and site.renders(rel) else "github"

    def preload(self, docs: list[str]) -> None:
        """Parse many pages on every core first (Linux: forked workers, which inherit the
        site's renderer); what a worker noted comes back with its pages."""
        todo = [rel for rel in docs if rel not in self._docs]
        workers = min(os.cpu_count() or 1, 8)
        if len(todo) < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
            return
        import multiprocessing

        _ = (self.mkdocs, self.renderer)  # loaded once, before the fork, for every worker
        chunks = [todo[i::workers] for i in range(workers)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for parsed, notes, unreadable in pool.map(self._parse_chunk, chunks):
                self._docs.update(parsed)
                self.unreadable |= unreadable
                for note in notes:
                    self.note(note.message, note.level, note.file, note.line)

    def _parse_chunk(self, chunk: list[str]) -> tuple[dict, list, set]:
        parsed = {}
        for rel in chunk:
            doc = self.doc(rel)
            doc.lines = []  # only the parse needs them; the rest is small to send back
            parsed[rel] = doc
        return parsed, self.notes, self.unreadable

    def doc(self, rel: str) -> markdown.Document:
        """A page as the one who reads it sees it: rendered by the MkDocs site's Python-Markdown
        when the site renders it, else as GitHub shows it. A page that cannot be read is one
        warning, and the check goes on without it."""
        if rel not in self._docs:
            try:
                text = self.read(rel, "page")
            except UsageError as exc:
                self.note(exc.args[0], "warning", rel, exc.line)
                self.unreadable.add(rel)
                self._docs[rel] = markdown.Document([])
                return self._docs[rel]
            site = self.mkdocs
            doc = self._render(text, rel) if site and site.renders(rel) else markdown.parse(text)
            if site and site.renders(rel) and doc.includes:
                self._include(doc, rel, site, {rel})
            self._docs[rel] = doc
        return self._docs[rel]

    def _render(self, text: str, rel: str) -> markdown.Document:
        doc = self.renderer.parse(text)
        if doc is None:
            self.note(
                f"{rel} is over 1 MiB: read as GitHub shows it, not rendered with the site's extensions", file=rel
            )
            doc = markdown.parse(text)
        for message in self.renderer.notices:
            self.note(message)
        return doc

    def fragments(self, docs: list[str]) -> set[str]:
        """The pages of an MkDocs site that other pages include (snippets, include-markdown):
        fragments, rendered only inside the pages that include them."""
        site = self.mkdocs
        if site is None:
            return set()
        found = set()
        for rel in docs:
            if site.renders(rel):
                for kind, target in self.doc(rel).includes:
                    part = self._included_file(kind, target, rel, site)
                    if part and part != rel:
                        found.add(part)
        return found

    def _include(self, doc: markdown.Document, rel: str, site: mkdocs_site.Site, seen: set[str]) -> None:
        """The headings of the files a page includes (snippets, include-markdown) are the
        page's own anchors once MkDocs renders it."""
        for kind, target in doc.includes:
            found = self._included_file(kind, target, rel, site)
            if found is None or found in seen or len(seen) > 20:
                continue
            seen.add(found)
            if found not in self._parts:
                try:
                    self._parts[found] = self._render(self.read(found, "included file"), found)
                except UsageError as exc:
                    self.note(exc.args[0], "warning", found, exc.line)
                    continue
            part = self._parts[found]
            doc.anchors |= part.anchors
            doc.autodoc += part.autodoc
            self._include(part, found, site, seen)

    def _included_file(self, kind: str, target: str, rel: str, site: mkdocs_site.Site) -> str | None:
        """The repository path an include names: snippets from their base paths (with an
        optional `:section` or `:1:20` after the name), include-markdown from the page's folder."""
        names = [target]
        if ":" in target:
            names.append(target.split(":", 1)[0])
        folder = posixpath.dirname(rel)
        bases = [*site.snippet_paths, folder] if kind == "snippet" else [folder, "."]
        for base in bases:
            for name in names:
                candidate = posixpath.normpath(posixpath.join(base, name))
                if not candidate.startswith("..") and candidate in self.files:
                    return candidate
        return None


_ANCHOR_RULES = {
    "github": "fix the anchor (GitHub lowercases headings and turns spaces into -)",
    "mkdocs": "fix the anchor (the site's toc makes it from the heading; an attr_list `{ #id }` sets it)",
}


# -- 1. workflow tables ----------------------------------------------------------------------
def workflow_tables(
    repo: Repo, docs: list[str], folder: str, exclude: list[str], wording: dict[str, str]
) -> list[Drift]:
    present = {
        p.rsplit("/", 1)[-1]: p
        for p in repo.files
        if p.startswith(folder.strip("/") + "/")
        and p.endswith((".yml", ".yaml"))
        and p.count("/") == folder.strip("/").count("/") + 1
    }
    drifts: list[Drift] = []
    listed: set[str] = set()
    first_table: tuple[str, int] | None = None
    for rel in docs:
        for table in repo.doc(rel).tables:
            col = next((i for i, h in enumerate(table.header) if "workflow" in markdown.strip_markup(h).lower()), None)
            if col is None:
                continue
            trig = table.column("trigger", "triggers", "when", "on", "event", "events")
            first_table = first_table or (rel, table.line)
            for line, cells in table.rows:
                if col >= len(cells):
                    continue
                for name in _WORKFLOW_NAME.findall(cells[col]):
                    listed.add(name)
                    if name not in present:
                        drifts.append(
                            Drift(
                                "workflow-table",
                                rel,
                                line,
                                f"lists {name}",
                                f"{folder}/{name} does not exist",
                                "remove the row or add the workflow",
                            )
                        )
                        continue
                    if trig is None or trig >= len(cells):
                        continue
                    drifts += _trigger_drift(repo, rel, line, name, present[name], cells[trig], wording)
    if first_table:
        for name, path in sorted(present.items()):
            if name not in listed and not any(fnmatch.fnmatch(name, pat) for pat in exclude):
                drifts.append(
                    Drift(
                        "workflow-table",
                        first_table[0],
                        first_table[1],
                        "does not list " + name,
                        f"{path} exists",
                        f"add a row for {name} (or exclude it in the contract)",
                    )
                )
    return drifts


def _trigger_drift(
    repo: Repo, rel: str, line: int, name: str, path: str, cell: str, wording: dict[str, str]
) -> list[Drift]:
    real = workflows.read(repo.read(path, "workflow"), path)
    if real.error:
        return [
            Drift(
                "workflow-table",
                path,
                real.error_line or 1,
                f"{name} is documented",
                f"{path} is {real.error}",
                "fix the workflow file",
            )
        ]
    said = workflows.expected(cell, wording)
    text = markdown.strip_markup(cell)
    if not said.events:
        return [
            Drift(
                "workflow-table",
                rel,
                line,
                f"trigger {text!r}",
                f"{name} runs on {_events(real.events)}",
                "use the usual wording (PRs, Tag push (`v*`), Manual (`workflow_dispatch`), Push to main, "
                "Schedule, Reusable (`workflow_call`)) or map the words in the contract",
            )
        ]
    drifts = []
    if said.events != real.events:
        drifts.append(
            Drift(
                "workflow-table",
                rel,
                line,
                f"{name}: {text}",
                f"{name} runs on {_events(real.events)}",
                f"write the trigger as the workflow has it ({_events(real.events)})",
            )
        )
    for tag in said.tags:
        if real.tags and tag not in real.tags:
            drifts.append(
                Drift(
                    "workflow-table",
                    rel,
                    line,
                    f"{name}: tag push `{tag}`",
                    f"{name} pushes on tags {', '.join(real.tags)}",
                    "make the pattern match",
                )
            )
    for branch in said.branches:
        if real.branches and branch not in real.branches:
            drifts.append(
                Drift(
                    "workflow-table",
                    rel,
                    line,
                    f"{name}: push to {branch}",
                    f"{name} pushes on branches {', '.join(real.branches)}",
                    "make the branch match",
                )
            )
    return drifts


def _events(events: set[str]) -> str:
    return ", ".join(f"`{e}`" for e in sorted(events)) or "nothing"


# -- 2. action reference tables -----------------------------------------------------------------
def action_tables(repo: Repo, patterns: list[str], fix: bool) -> tuple[list[Drift], dict[str, tuple[str, str]]]:
    """Drifts, and {readme: (old text, new text)} for what --fix/--diff would write."""
    from deploy_actions.docs.tables import has_markers, refresh, shape_problem

    drifts, changes = [], {}
    for action in repo.glob(patterns):
        readme = (Path(action).parent / "README.md").as_posix()
        if readme not in repo.files:
            continue
        old = repo.read(readme, "README")
        if not has_markers(old):
            continue
        text = repo.read(action, "action file")
        try:
            spec = yamlpos.parse(text, action, "root")[0] or {}
        except UsageError as exc:
            drifts.append(Drift("action-table", action, exc.line or 1, "", exc.args[0], "fix the action file"))
            continue
        problem = shape_problem(spec)
        if problem:
            drifts.append(Drift("action-table", action, 1, "", problem, "fix the action file"))
            continue
        new = refresh(old, spec)
        if new != old:
            changes[readme] = (old, new)
            line = next(
                (n for n, text in enumerate(old.splitlines(), 1) if text.strip().startswith("<!-- docs-drift:")), 1
            )
            drifts.append(
                Drift(
                    "action-table",
                    readme,
                    line,
                    "the inputs/outputs table",
                    f"{action} declares something else",
                    "run docs-drift --fix",
                    fixed=fix,
                )
            )
            if fix:
                inputfiles.write_text(repo.root / readme, new, repo.root, "root", what="README")
    return drifts, changes


def diff(changes: dict[str, tuple[str, str]]) -> str:
    return "".join(
        "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{name}", f"b/{name}"))
        for name, (old, new) in sorted(changes.items())
    )


# Pages of the repository on GitHub that a README reaches by climbing out of blob/<branch>/
# (`../../issues`, `../../wiki`): not files, and not drift.
_GITHUB_ROUTES = {
    "actions",
    "blob",
    "commits",
    "compare",
    "discussions",
    "graphs",
    "issues",
    "labels",
    "milestones",
    "network",
    "packages",
    "projects",
    "pulls",
    "raw",
    "releases",
    "security",
    "stargazers",
    "tags",
    "tree",
    "wiki",
}


def _github_page(resolved: str) -> bool:
    if not resolved.startswith("../"):
        return False
    rest = resolved
    while rest.startswith("../"):
        rest = rest[3:]
    return rest.split("/", 1)[0] in _GITHUB_ROUTES


# -- 3. links and paths -------------------------------------------------------------------------------------
def links(repo: Repo, docs: list[str], check_paths: bool | str) -> list[Drift]:
    """Links and anchors; with `check_paths`, backticked paths that are claims about this
    repository (see _claims_here), or with "all", every path-like span."""
    drifts: list[Drift] = []
    said: set[tuple] = set()  # a README section included into a page breaks its links once, not twice
    site = repo.mkdocs
    fragments = repo.fragments(docs)
    for rel in docs:
        if site and rel.startswith(site.docs_dir + "/") and (not site.renders(rel) or rel in fragments):
            continue  # excluded from the build, or a fragment only ever included into other pages
        doc = repo.doc(rel)
        base = posixpath.dirname(rel)
        for link in doc.links:
            found = _link_drift(repo, rel, doc, link)
            if found is not None and link.line == 0:  # it came with an included file: report it there
                found = _where_written(repo, doc, found, link.target)
            key = found and (found.file, found.line, found.says, found.actual)
            if found is not None and key not in said:
                said.add(key)
                drifts.append(found)
        if not check_paths:
            continue
        for line, span, before in doc.code_spans:
            if not _PATHLIKE.match(span) or span.startswith(("/", "-")) or repo.ignored(span.rstrip("/")):
                continue
            if _PLACEHOLDER.intersection(span.lower().strip("./").split("/")) or _PLACEHOLDER_WORDS.intersection(
                re.split(r"[/._-]+", span.lower())
            ):
                continue  # `some/path/to/file.py`, `some-library/index.js`: an example, not a path of this repository
            span = posixpath.normpath(span) + ("/" if span.endswith("/") else "")  # `./pyproject.toml`
            if "/" not in re.sub(r"^(\.\./)+", "", span).rstrip("/") and span.rsplit("/", 1)[-1] not in _PROJECT_FILES:
                continue  # `./resource.js` in prose is a file of the reader's; `./pyproject.toml` is ours
            # `owner/action` and `org/image` look like paths too: check what has a file
            # extension, or starts in a folder this repository has.
            first, last = span.split("/", 1)[0], span.rstrip("/").rsplit("/", 1)[-1]
            if "." not in last.lstrip(".") and not repo.exists(first) and not repo.exists(posixpath.join(base, first)):
                continue
            here = posixpath.normpath(posixpath.join(base, span))
            if (repo.exists(span) or repo.exists(here)) or repo.generated(span):  # a/ asks as a folder
                continue
            if check_paths != "all" and not _claims_here(repo, span, here, before):
                continue  # a tutorial's `app/main.py`, "create `.cursor/mcp.json`": the reader's files
            moved = _moved_to(repo, span)
            drifts.append(
                Drift(
                    "paths",
                    rel,
                    line,
                    f"`{span}`",
                    "no such file or folder in the repository" + (f" (moved? there is {moved})" if moved else ""),
                    "fix the path, or ignore it in the contract (links.ignore)",
                )
            )
    return drifts


def _link_drift(repo: Repo, rel: str, doc: markdown.Document, link: markdown.Link) -> Drift | None:
    """What is wrong with one link of a page, as the page's reader meets it: a target that
    is not there (by the site's URL rules on an MkDocs page), or an anchor the target lacks."""
    target, site = link.target, repo.mkdocs
    if _SCHEME.match(target) or target.startswith("//") or "{{" in target or "{%" in target:
        return None  # a URL elsewhere, or a template's (`{{ site.baseurl }}/…`) filled in at build time
    path, _, anchor = target.partition("#")
    path = unquote(path.split("?")[0]) if "%" in path or "?" in path else path
    anchor = unquote(anchor) if "%" in anchor else anchor
    kind = "image" if link.image else "link"
    if not path:
        if link.generated or not anchor or doc.has_anchor(anchor) or _unknowable(repo, rel):
            return None  # a tool's section keeps its own same-page anchors
        return Drift(
            "links", rel, link.line, f"{kind} to #{anchor}", "no such heading here", _ANCHOR_RULES[repo.flavour(rel)]
        )
    resolved = (
        path.strip("/") if path.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
    )
    if repo.ignored(resolved) or _github_page(resolved):
        return None
    if site and site.renders(rel) and path.endswith(".md"):
        if path.startswith("/"):  # MkDocs: a page's path from docs_dir
            resolved = posixpath.normpath(f"{site.docs_dir}/{path.strip('/')}")
    elif site and site.renders(rel) and (path.startswith("/") or not repo.exists(resolved)):
        resolved = _site_target(repo, site, rel, path) or resolved
    elif doc.front_matter and not repo.exists(resolved):
        resolved = repo.site_page(resolved, absolute=path.startswith("/")) or resolved
    if resolved.startswith("..") or (
        not repo.exists(resolved)
        and not repo.generated(resolved)
        and not _built_by_site(repo, rel, resolved)
        and not _rewritten(repo, rel)
    ):
        return Drift(
            "links",
            rel,
            link.line,
            f"{kind} to {target}",
            f"{resolved} does not exist",
            "fix the path or remove the link",
        )
    if (  # a page a build generates, not there yet, has anchors no one can know here
        anchor
        and resolved.endswith(".md")
        and repo.exists(resolved)
        and not repo.doc(resolved).has_anchor(anchor)
        and not _unknowable(repo, resolved)
    ):
        return Drift(
            "links", rel, link.line, f"link to {target}", f"{resolved} has no heading #{anchor}", "fix the anchor"
        )
    return None


def _where_written(repo: Repo, doc: markdown.Document, drift: Drift, target: str) -> Drift | None:
    """A broken link that a page got from a file it includes is reported in that file, at
    its line, saying which page it breaks on (the fix is made where it is written)."""
    site = repo.mkdocs
    for kind, name in doc.includes:
        part = repo._included_file(kind, name, drift.file, site) if site else None
        if part is None:
            continue
        try:
            lines = repo.read(part, "included file").split("\n")
        except UsageError:
            continue
        number = next((n for n, line in enumerate(lines, 1) if target in line), None)
        if number is not None:
            return Drift(
                drift.rule, part, number, f"{drift.says} (on {drift.file}, which includes it)", drift.actual, drift.fix
            )
    return Drift(drift.rule, drift.file, 1, drift.says, drift.actual, drift.fix)


def _unknowable(repo: Repo, rel: str) -> bool:
    """A page whose ids the project's own code may add (hooks, macros, a custom slugify), or
    an extension that is not here (a `::: directive` it did not render): a missing anchor
    there is said once as a notice, never called broken."""
    reason = None
    if repo.renderer and repo.flavour(rel) == "mkdocs":
        doc = repo.doc(rel)
        reason = repo.renderer.unknown_ids or doc.rewritten_by
        if not reason and doc.directives and repo.renderer.missing:  # `::: mkdocs-click`: not rendered here
            reason = f"Markdown extension {', '.join(repo.renderer.missing)} (not available here)"
    if reason:
        repo.note(
            f"the site's ids may come from its {reason}, which only running it shows: anchors on its pages "
            "that are not found are not reported"
        )
    return bool(reason)


def _built_by_site(repo: Repo, rel: str, resolved: str) -> bool:
    """A missing target the site may still serve: a page of redirects' redirect_maps, or a
    page its code writes while it builds (gen-files, an on_files hook) — what cannot be
    known without running the project's code is said once, never called broken."""
    site = repo.mkdocs
    if site is None or not site.renders(rel) and not resolved.startswith(site.docs_dir + "/"):
        return False
    inside = resolved.removeprefix(site.docs_dir + "/")
    if inside in site.redirects:
        return True
    if site.page_writers and resolved.startswith(site.docs_dir + "/"):
        who = ", ".join(site.page_writers)
        repo.note(
            f"pages of the site may be written by its {who} while it builds: links to pages that are "
            "not files are not reported"
        )
        return True
    return False


def _rewritten(repo: Repo, rel: str) -> bool:
    """A page the site's own code rewrites as it builds (it holds what a hook looks for): its
    links may be mended there, which only running it shows."""
    who = repo.doc(rel).rewritten_by if repo.flavour(rel) == "mkdocs" else None
    if who:
        repo.note(
            f"pages the site's {who} rewrites as it builds (they hold what it looks for) are checked "
            "without it: their links and anchors that are not found are not reported"
        )
    return bool(who)


def _site_target(repo: Repo, site: mkdocs_site.Site, rel: str, path: str) -> str | None:
    """The file an MkDocs page's link reaches on the built site: a link is a URL relative to
    the page's own URL (`../other/` from guide/setup.md, served at guide/setup/), or to the
    site's root when it starts with /."""
    from urllib.parse import urljoin

    url = urljoin("https://site.invalid/" + site.url(rel), path)
    found = url.removeprefix("https://site.invalid/")
    if found == url:  # another origin after all (`//host/…` was skipped before): not ours
        return None
    candidates = site.site_paths(found) if path.startswith("/") else [found]
    return next((c for p in candidates for c in site.page_at(p) if repo.exists(c) and c in repo.files), None)


# Words that make the path which follows in the same sentence the reader's: "Create a
# `.cursor/mcp.json`", "If you create `src/lib.so`", "Add tests in `tests/new_provider/`".
_READERS = re.compile(
    r"\b(?:creat(?:e|es|ed|ing)|add(?:s|ed|ing)?|new|generat(?:e|es|ed|ing)|writ(?:e|es|ing)|mak(?:e|es|ing)|"
    r"e\.g\.|example|instance|such as|say|suppose|like|your|if you|would|named|called|cop(?:y|ies)|rename|"
    r"move|output|produces?|becomes?|temporary)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?:;](?:\s|$)")


def _readers_file(before: str) -> bool:
    """The sentence before a path says it is one the reader makes, not one of this repository."""
    ends = list(_SENTENCE_END.finditer(before))
    clause = before[ends[-1].end() :] if ends else before
    return bool(_READERS.search(clause))


def _claims_here(repo: Repo, span: str, here: str, before: str = "") -> bool:
    """A missing path is a claim about this repository, not an example of the reader's, when
    the folder it names is here (`scripts/deploy.sh` beside other scripts) or it is one of
    the project's own files at the root (`./pyproject.toml`) — and its sentence does not make
    it the reader's ("create `src/lib.so`")."""
    if _readers_file(before):
        return False
    for path in (span.rstrip("/"), here.rstrip("/")):
        parent = posixpath.dirname(path)
        if parent and parent != ".." and repo.exists(parent):
            return True
    return "/" not in re.sub(r"^(\.\./|\./)+", "", span).rstrip("/")


def _moved_to(repo: Repo, span: str) -> str | None:
    """Where a file of that name is now, when exactly one file in the repository has it (a hint
    in the message, never a reason to report)."""
    name = span.rstrip("/").rsplit("/", 1)[-1]
    found = repo._by_name.get(name, []) if "." in name.lstrip(".") else []
    return found[0] if len(found) == 1 else None


# -- 4. environment variables ---------------------------------------------------------------------------------
_COMPOSE_VAR = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")
_REF = re.compile(r"\b(?:secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")


def used_variables(repo: Repo, sources: list[str]) -> dict[str, str]:
    """{variable: where it is used} from compose files, .env examples and workflows."""
    used: dict[str, str] = {}
    for rel in repo.glob(sources):
        text = repo.read(rel)
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".env") or name.endswith(".env"):
            for line in text.splitlines():
                match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
                if match:
                    used.setdefault(match.group(1), rel)
            continue
        for match in _COMPOSE_VAR.finditer(text):
            used.setdefault(match.group(1), rel)
        for match in _REF.finditer(text):
            used.setdefault(match.group(1), rel)
        if "/workflows/" in f"/{rel}":
            try:
                data = yamlpos.parse(text, rel, "root")[0]
            except UsageError:
                continue
            for block in _env_blocks(data):
                for key in block:
                    used.setdefault(str(key), rel)
    return used


def _env_blocks(node: object) -> list[dict]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, dict):
                found.append(value)
            else:
                found += _env_blocks(value)
    elif isinstance(node, list):
        for item in node:
            found += _env_blocks(item)
    return found


def env_variables(
    repo: Repo, doc_rel: str, sources: list[str], documented: bool, used: bool, ignore: list[str]
) -> list[Drift]:
    doc = repo.doc(doc_rel)
    table = next(
        (t for t in doc.tables if t.column("variable", "variables", "name", "env", "secret", "key") is not None), None
    )
    if table is None:
        return [
            Drift(
                "env",
                doc_rel,
                1,
                "no table of variables",
                "the contract names this doc for variables",
                "add a table with a Variable column",
            )
        ]
    col = table.column("variable", "variables", "name", "env", "secret", "key")
    listed = {}
    for line, cells in table.rows:
        if col < len(cells):
            for name in re.findall(r"[A-Z_][A-Z0-9_]{1,}", markdown.strip_markup(cells[col])):
                listed.setdefault(name, line)
    real = {k: v for k, v in used_variables(repo, sources).items() if not any(fnmatch.fnmatch(k, p) for p in ignore)}
    drifts = []
    if documented:
        drifts += [
            Drift(
                "env", doc_rel, table.line, f"does not document {name}", f"{where} uses {name}", f"add a row for {name}"
            )
            for name, where in sorted(real.items())
            if name not in listed
        ]
    if used:
        drifts += [
            Drift("env", doc_rel, line, f"documents {name}", "nothing uses it any more", "remove the row")
            for name, line in sorted(listed.items())
            if name not in real and not any(fnmatch.fnmatch(name, p) for p in ignore)
        ]
    return drifts


# -- 5. endpoints --------------------------------------------------------------------------------------------
_ENDPOINT = re.compile(r"^(?:(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+)?(/[\w\-./{}:]*)$")


def endpoints(repo: Repo, docs: list[str], openapi: str) -> list[Drift]:
    spec = yamlpos.parse(repo.read(openapi, "OpenAPI file"), openapi, "openapi")[0] or {}
    known = {_template(p) for p in (spec.get("paths") or {})}
    drifts = []
    for rel in docs:
        for line, span, _ in repo.doc(rel).code_spans:
            match = _ENDPOINT.match(span)
            if match and _template(match.group(1)) not in known:
                drifts.append(
                    Drift(
                        "endpoints",
                        rel,
                        line,
                        f"names {match.group(1)}",
                        f"{openapi} has no such path",
                        "fix the endpoint or the OpenAPI file",
                    )
                )
    return drifts


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")
