"""An MkDocs site in the repository (`mkdocs.yml`): which pages it renders (its docs_dir)
and how it turns headings into anchors (the toc extension's slugify and separator), so
links inside the site are checked by MkDocs' rules and the rest by GitHub's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAMES = ("mkdocs.yml", "mkdocs.yaml")


@dataclass(frozen=True)
class Site:
    docs_dir: str  # relative to the repository root, no trailing /
    slugs: str  # "toc" (Python-Markdown's default) or "github" (pymdownx.slugs: GitHub-like)
    separator: str = "-"
    snippet_paths: tuple[str, ...] = (".",)  # pymdownx.snippets' base_path, relative to the root

    def renders(self, rel: str) -> bool:
        return rel.startswith(self.docs_dir + "/")


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


def read(text: str, file: str = "mkdocs.yml") -> Site:
    from deploy_actions import yamlpos
    from deploy_actions.errors import UsageError

    try:
        config = yamlpos.parse(text, file, "root", loader=_loader())[0] or {}
    except UsageError:  # a config MkDocs could not build either: the defaults, as before it was read
        config = {}
    if not isinstance(config, dict):
        config = {}
    toc = _options(config.get("markdown_extensions") or [], "toc")
    base = _options(config.get("markdown_extensions") or [], "pymdownx.snippets").get("base_path", ".")
    snippet_paths = tuple(str(b).strip("/") or "." for b in (base if isinstance(base, list) else [base]))
    slugify = str(toc.get("slugify", ""))
    slugs = "github" if "pymdownx.slugs" in slugify or "gfm" in slugify else "toc"
    separator = str(toc.get("separator", "-")) or "-"
    docs_dir = str(config.get("docs_dir", "docs")).strip("/").removeprefix("./") or "docs"
    return Site(docs_dir=docs_dir, slugs=slugs, separator=separator, snippet_paths=snippet_paths or (".",))


def load(root: Path) -> Site | None:
    for name in NAMES:
        path = root / name
        if path.is_file():
            from deploy_actions import inputfiles

            return read(inputfiles.read_text(path, "root", what="MkDocs config", root=root), name)
    return None
