"""An MkDocs site in the repository (`mkdocs.yml`, or the one `mkdocs*.yml` a site is built
from with `-f`, with its `INHERIT` merged): which pages it renders (its docs_dir less
`exclude_docs`), the URL each page gets (`use_directory_urls`) and how it turns headings
into anchors (the toc extension's slugify and separator), so links inside the site are
checked by MkDocs' rules and the rest by GitHub's."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAMES = ("mkdocs.yml", "mkdocs.yaml")
MAX_INHERIT = 5  # INHERIT chains deeper than this are a loop or a mistake


@dataclass(frozen=True)
class Site:
    docs_dir: str  # relative to the repository root, no trailing /
    slugs: str  # "toc" (Python-Markdown's default) or "github" (pymdownx.slugs: GitHub-like)
    separator: str = "-"
    snippet_paths: tuple[str, ...] = (".",)  # pymdownx.snippets' base_path, relative to the root
    directory_urls: bool = True  # use_directory_urls: guide/setup.md is served at guide/setup/
    exclude: tuple[str, ...] = ()  # exclude_docs: gitignore-style patterns, relative to docs_dir

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
        if isinstance(node, yaml.ScalarNode):
            return f"{suffix} {loader.construct_scalar(node)}".strip()
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return {"__tag__": suffix, **loader.construct_mapping(node, deep=True)}

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", tagged)
    Loader.add_multi_constructor("!", tagged)
    return Loader


def _options(extensions: Any, name: str) -> dict:
    for entry in extensions if isinstance(extensions, list) else [extensions]:
        if isinstance(entry, dict) and isinstance(entry.get(name), dict):
            return entry[name]
    return {}


def _config(text: str, file: str) -> dict:
    from deploy_actions import yamlpos
    from deploy_actions.errors import UsageError

    try:
        config = yamlpos.parse(text, file, "root", loader=_loader())[0] or {}
    except UsageError:  # a config MkDocs could not build either: the defaults, as before it was read
        config = {}
    return config if isinstance(config, dict) else {}


def _merged(parent: dict, child: dict) -> dict:
    """INHERIT as MkDocs merges: mappings key by key, the child winning; lists replaced."""
    merged = dict(parent)
    for key, value in child.items():
        merged[key] = (
            _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def read(text: str, file: str = "mkdocs.yml", parents: dict | None = None) -> Site:
    """The site a config describes; `parents`, the merged configs it INHERITs from."""
    config = _merged(parents or {}, _config(text, file))
    toc = _options(config.get("markdown_extensions") or [], "toc")
    base = _options(config.get("markdown_extensions") or [], "pymdownx.snippets").get("base_path", ".")
    snippet_paths = tuple(str(b).strip("/") or "." for b in (base if isinstance(base, list) else [base]))
    slugify = str(toc.get("slugify", ""))
    slugs = "github" if "pymdownx.slugs" in slugify or "gfm" in slugify else "toc"
    separator = str(toc.get("separator", "-")) or "-"
    docs_dir = str(config.get("docs_dir", "docs")).strip("/").removeprefix("./") or "docs"
    exclude = config.get("exclude_docs") or ""
    return Site(
        docs_dir=docs_dir,
        slugs=slugs,
        separator=separator,
        snippet_paths=snippet_paths or (".",),
        directory_urls=config.get("use_directory_urls", True) is not False,
        exclude=tuple(str(exclude).splitlines()) if isinstance(exclude, str) else (),
    )


def load(root: Path) -> Site | None:
    """The repository's site: mkdocs.yml, else the one mkdocs*.yml (built with `-f`)."""
    from deploy_actions import inputfiles

    names = [name for name in NAMES if (root / name).is_file()]
    if not names:
        names = sorted(p.name for p in root.glob("mkdocs*.y*ml") if p.is_file())[:1]
    if not names:
        return None
    path = root / names[0]
    text = inputfiles.read_text(path, "root", what="MkDocs config", root=root)
    parents: dict = {}
    chain = [path]
    inherit = _config(text, names[0]).get("INHERIT")
    while isinstance(inherit, str) and len(chain) <= MAX_INHERIT:
        parent = (chain[-1].parent / inherit).resolve()
        if parent in chain or not inputfiles.inside(parent, root) or not parent.is_file():
            break  # a loop, or a parent outside the repository or missing: what is here is the site
        chain.append(parent)
        config = _config(inputfiles.read_text(parent, "root", what="MkDocs config", root=root), parent.name)
        parents = _merged(config, parents)
        inherit = config.get("INHERIT")
    return read(text, names[0], parents)
