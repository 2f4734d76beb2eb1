"""An MkDocs site in the repository (`mkdocs.yml`, or the one `mkdocs*.yml` a site is built
from with `-f`, with its `INHERIT` merged): which pages it renders (its docs_dir less
`exclude_docs`), the URL each page gets (`use_directory_urls`), the Markdown extensions
its pages are rendered with, and the plugins and hooks that run the project's own code on
them — so links inside the site are checked by MkDocs' rules and the rest by GitHub's."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy_actions.docs import mkdocs_hooks
from deploy_actions.docs.mkdocs_hooks import Hook

NAMES = ("mkdocs.yml", "mkdocs.yaml")
MAX_INHERIT = 5  # INHERIT chains deeper than this are a loop or a mistake
# What runs the project's code or templates while the site builds: plugins that rewrite a
# page's Markdown or HTML (macros), or add pages that are not files (gen-files); hooks and
# simple-hooks by the events they handle. What they do is known only by running them.
REWRITING_PLUGINS = frozenset(("macros", "mkdocs-macros-plugin"))
PAGE_PLUGINS = frozenset(("gen-files", "mkdocs-gen-files"))


@dataclass(frozen=True)
class Site:
    docs_dir: str  # relative to the repository root, no trailing /
    snippet_paths: tuple[str, ...] = (".",)  # pymdownx.snippets' base_path, relative to the root
    directory_urls: bool = True  # use_directory_urls: guide/setup.md is served at guide/setup/
    exclude: tuple[str, ...] = ()  # exclude_docs: gitignore-style patterns, relative to docs_dir
    # markdown_extensions as listed: (name, its configuration); the values of `!!python/…`
    # tags are kept as data (see _loader), resolved only by the renderer.
    extensions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    plugins: tuple[str, ...] = ()
    rewriters: tuple[Hook, ...] = ()  # what rewrites pages as they build: a hook, macros
    page_writers: tuple[str, ...] = ()  # what adds pages that are not files
    redirects: frozenset[str] = frozenset()  # pages redirects' redirect_maps serves (relative to docs_dir)
    problems: tuple[str, ...] = field(default=(), compare=False)  # what of the config could not be read
    base: str = ""  # the path of site_url (`project` for https://org.github.io/project/)
    versioned: bool = False  # mike: each version is served under its own first folder (/dev/, /latest/)

    def rewriter_of(self, text: str) -> str | None:
        """Who rewrites a page with this text as the site builds, if anyone does."""
        return next((hook.who for hook in self.rewriters if hook.touches(text)), None)

    def site_paths(self, url: str) -> list[str]:
        """A site-absolute URL path as paths inside the site: without site_url's path, and
        for a versioned site without the version folder too."""
        path = url.strip("/")
        found = [path]
        if self.base and (path == self.base or path.startswith(self.base + "/")):
            path = path[len(self.base) :].strip("/")
            found.append(path)
        if self.versioned and "/" in path:
            found.append(path.split("/", 1)[1])
        return found

    def renders(self, rel: str) -> bool:
        return rel.startswith(self.docs_dir + "/") and not self.excluded(rel)

    def excluded(self, rel: str) -> bool:
        """A file exclude_docs leaves out of the build (MkDocs also drops dot-files and templates)."""
        from deploy_actions.docs.rules import matches

        inside = rel.removeprefix(self.docs_dir + "/")
        if any(part.startswith(".") for part in inside.split("/")):
            return True
        patterns = [p.strip().lstrip("/") for p in self.exclude if p.strip() and not p.strip().startswith(("#", "!"))]
        return any(matches(inside, [p, f"**/{p}", f"{p.rstrip('/')}/**", f"**/{p.rstrip('/')}/**"]) for p in patterns)

    def url(self, rel: str) -> str:
        """The URL path (no leading /) MkDocs serves a page at."""
        inside = rel.removeprefix(self.docs_dir + "/")
        stem, name = posixpath.split(posixpath.splitext(inside)[0])
        if name in ("index", "README"):
            return f"{stem}/" if stem else ""
        page = posixpath.join(stem, name)
        return f"{page}/" if self.directory_urls else f"{page}.html"

    def page_at(self, url: str) -> list[str]:
        """The repository files a site URL path may be: a page's source or a file of docs_dir."""
        path = posixpath.normpath(url.strip("/")) if url.strip("/") else ""
        if path.startswith(".."):
            return []
        base = f"{self.docs_dir}/{path}" if path else self.docs_dir
        if path.endswith(".html"):
            return [base[: -len(".html")] + ".md", base[: -len("index.html")] + "index.md"]
        return [base, base + ".md", base + "/index.md", base + "/README.md"]


def _loader() -> type:
    """A safe loader that reads MkDocs' `!!python/name:…` and `!ENV` tags as plain text:
    the tag names a slugify function; nothing is imported or run."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        if suffix == "ENV":  # `!ENV [NAME, default]`: the default, as on a machine without NAME
            values = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else []
            return values[-1] if len(values) > 1 else None
        if isinstance(node, yaml.ScalarNode):
            return f"{suffix} {loader.construct_scalar(node)}".strip()
        if isinstance(node, yaml.SequenceNode):
            return {"__tag__": suffix, "args": loader.construct_sequence(node, deep=True)}
        return {"__tag__": suffix, **loader.construct_mapping(node, deep=True)}

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", tagged)
    Loader.add_multi_constructor("!", tagged)
    return Loader


def _entries(listed: Any) -> list[tuple[str, Any]]:
    """markdown_extensions or plugins as (name, configuration): each entry is a name, or a
    mapping of one name to its options (a mapping of several, as some configs write it)."""
    found: list[tuple[str, Any]] = []
    for entry in listed if isinstance(listed, list) else [listed] if listed else []:
        if isinstance(entry, str):
            found.append((entry, {}))
        elif isinstance(entry, dict):
            found += [(str(name), value if isinstance(value, dict) else {}) for name, value in entry.items()]
    return found


def _options(entries: list[tuple[str, Any]], name: str) -> dict:
    return next((config for entry, config in entries if entry == name), {})


def _config(text: str, file: str, problems: list[str] | None = None) -> dict:
    """The config as data; one that cannot be read is the defaults, and a problem said."""
    from deploy_actions import yamlpos
    from deploy_actions.errors import UsageError

    try:
        config = yamlpos.parse(text, file, "root", loader=_loader())[0] or {}
    except UsageError as exc:  # MkDocs could not build it either: the defaults, and say so
        if problems is not None:
            problems.append(f"{exc.args[0]}; the site is checked with MkDocs' defaults")
        config = {}
    return config if isinstance(config, dict) else {}


def _merged(parent: dict, child: dict) -> dict:
    """INHERIT as MkDocs merges: mappings key by key, the child winning; lists replaced,
    but markdown_extensions and plugins merged entry by entry."""
    merged = dict(parent)
    for key, value in child.items():
        if key in ("markdown_extensions", "plugins") and key in merged:
            entries = dict(_entries(merged[key]))
            for name, config in _entries(value):
                entries[name] = _merged(entries.get(name) or {}, config) if isinstance(config, dict) else config
            merged[key] = [{name: config} for name, config in entries.items()]
            continue
        merged[key] = (
            _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def read(
    text: str,
    file: str = "mkdocs.yml",
    parents: dict | None = None,
    problems: tuple[str, ...] = (),
    read_file: Callable[[str], str | None] | None = None,
) -> Site:
    """The site a config describes; `parents`, the merged configs it INHERITs from;
    `read_file(rel)`, a repository file's text (None when it cannot be read), to read what
    the site's hooks do — without it, a hook counts as doing anything."""
    found = list(problems)
    config = _merged(parents or {}, _config(text, file, found))
    extensions = _entries(config.get("markdown_extensions"))
    base = _options(extensions, "pymdownx.snippets").get("base_path", ".")
    snippet_paths = tuple(_base_path(b) for b in (base if isinstance(base, list) else [base]))
    plugins = dict(_entries(config.get("plugins")))
    code = _code(config, plugins, read_file)
    redirects = (plugins.get("redirects") or {}).get("redirect_maps") or {}
    docs_dir = str(config.get("docs_dir", "docs")).strip("/").removeprefix("./") or "docs"
    exclude = config.get("exclude_docs") or ""
    return Site(
        docs_dir=docs_dir,
        snippet_paths=snippet_paths or (".",),
        directory_urls=config.get("use_directory_urls", True) is not False,
        exclude=tuple(str(exclude).splitlines()) if isinstance(exclude, str) else (),
        extensions=tuple(extensions),
        plugins=tuple(name for name, _ in _entries(config.get("plugins"))),
        rewriters=tuple(hook for hook in code if hook.rewrites),
        page_writers=tuple(hook.who for hook in code if hook.writes_pages),
        redirects=frozenset(str(k).strip("/") for k in redirects) if isinstance(redirects, dict) else frozenset(),
        problems=tuple(found),
        base=urlsplit(str(config.get("site_url") or "")).path.strip("/"),
        versioned="mike" in [name for name, _ in _entries(config.get("plugins"))]
        or str(((config.get("extra") or {}).get("version") or {}).get("provider", "")) == "mike",
    )


def _code(config: dict, plugins: dict[str, Any], read_file: Callable[[str], str | None] | None) -> list[Hook]:
    """The site's own code that runs as it builds: its hooks, simple-hooks' functions (read
    from their files), and the plugins that rewrite or write pages."""
    found = []
    hooks = config.get("hooks") or []
    for hook in [str(h) for h in hooks] if isinstance(hooks, list) else [str(hooks)]:
        who = f"hook {hook}"
        found.append(mkdocs_hooks.read(who, hook.strip("/"), read_file) if read_file else mkdocs_hooks.unknown(who))
    for name, options in plugins.items():
        who = f"plugin {name}"
        if name in ("simple-hooks", "mkdocs-simple-hooks") and isinstance(options.get("hooks"), dict):
            events = frozenset(str(event) for event in options["hooks"])
            modules = {str(target).split(":")[0] for target in options["hooks"].values()}
            markers: set[str] | None = set()
            for module in modules:
                hook = mkdocs_hooks.read(who, module.replace(".", "/") + ".py", read_file) if read_file else None
                markers = None if hook is None or hook.markers is None or markers is None else markers | hook.markers
            found.append(mkdocs_hooks.Hook(who, events, frozenset(markers) if markers else None))
        elif name in REWRITING_PLUGINS:
            found.append(mkdocs_hooks.Hook(who, mkdocs_hooks.REWRITE_EVENTS, frozenset(("{{", "{%"))))
        elif name in PAGE_PLUGINS:
            found.append(mkdocs_hooks.Hook(who, mkdocs_hooks.PAGE_EVENTS))
    return found


def _base_path(value: Any) -> str:
    """A snippets base path relative to the root; MkDocs' `!relative $config_dir` is the root."""
    text = str(value).strip()
    if text.startswith("relative"):
        text = text.removeprefix("relative").strip().replace("$config_dir", ".")
    return text.strip("/").removeprefix("./") or "."


def load(root: Path) -> Site | None:
    """The repository's site: mkdocs.yml, else the one mkdocs*.yml (built with `-f`)."""
    from deploy_actions import inputfiles
    from deploy_actions.errors import UsageError

    names = [name for name in NAMES if (root / name).is_file()]
    if not names:
        names = sorted(p.name for p in root.glob("mkdocs*.y*ml") if p.is_file())[:1]
    if not names:
        return None
    path = root / names[0]
    text = inputfiles.read_text(path, "root", what="MkDocs config", root=root)
    parents: dict = {}
    problems: list[str] = []
    chain = [path]
    inherit = _config(text, names[0]).get("INHERIT")
    while isinstance(inherit, str) and len(chain) <= MAX_INHERIT:
        parent = (chain[-1].parent / inherit).resolve()
        if parent in chain or not inputfiles.inside(parent, root) or not parent.is_file():
            # a loop, or a parent outside the repository or missing: what is here is the site
            problems.append(
                f"{chain[-1].name}: INHERIT: {inherit} is not a config file in the repository; "
                "the site is checked without it"
            )
            break
        chain.append(parent)
        config = _config(inputfiles.read_text(parent, "root", what="MkDocs config", root=root), parent.name, problems)
        parents = _merged(config, parents)
        inherit = config.get("INHERIT")

    def read_file(rel: str) -> str | None:
        try:
            return inputfiles.read_text(root / rel, "root", what="MkDocs hook", root=root)
        except (UsageError, OSError):
            return None  # not read: the hook counts as doing anything

    return read(text, names[0], parents, tuple(problems), read_file)
