"""An MkDocs site's pages rendered as MkDocs renders them: Python-Markdown with toc, tables
and fenced_code (MkDocs always adds them) and the extensions the site's config lists, with
their options — so ids come from the site's own toc slugify, attr_list, footnotes, tabs…,
and what is a link or code follows Python-Markdown's rules (4-space lists, admonitions).

Only extensions of Python-Markdown and pymdown-extensions, as installed with this package,
are loaded, and a `!!python/name:` option is resolved only inside those two: a repository's
config never makes this process import its code. An extension that is not there, or one
that would hide what the check reads (b64 inlines images, pathconverter rewrites paths), is
left out with one notice naming it. Snippets are read through the one file reader."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deploy_actions.docs.markdown import includes, without_front_matter
from deploy_actions.docs.mkdocs_site import Site
from deploy_actions.docs.rendered import Document, read

ALWAYS = ("toc", "tables", "fenced_code")  # MkDocs' own, before the config's
TRUSTED = ("markdown.", "pymdownx.")  # where an extension or an option's function may come from
LEFT_OUT = {
    "pymdownx.b64": "it inlines images, and the check reads their links",
    "pymdownx.pathconverter": "it rewrites the link paths the check resolves",
}
MAX_PAGE = 1 << 20  # a larger page is read as GitHub would show it: Python-Markdown is ~100x slower
_UNSET = object()


def _builtin() -> frozenset[str]:
    return frozenset(e.name for e in importlib.metadata.entry_points(group="markdown.extensions"))


def _function(dotted: str) -> Any:
    """The function a `!!python/name:` tag names, from Python-Markdown or pymdown-extensions."""
    import markdown  # noqa: F401 — imported first, so their submodules resolve in the installed packages
    import pymdownx  # noqa: F401

    module, _, name = dotted.strip().rpartition(".")
    if not module.startswith(TRUSTED) and module not in ("markdown", "pymdownx"):
        return _UNSET
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return _UNSET


def _resolved(value: Any) -> Any:
    """An option with its tags made real: `name:mod.f` (from `!!python/name:`) is the
    function, `{__tag__: object/apply:mod.f, kwds}` its result; what cannot be is _UNSET,
    and a mapping or list drops such entries (a custom fence whose formatter is elsewhere)."""
    if isinstance(value, str) and value.startswith("name:"):
        return _function(value[len("name:") :])
    if isinstance(value, dict) and "__tag__" in value:
        tag = str(value["__tag__"])
        if not tag.startswith("object/apply:"):
            return _UNSET
        function = _function(tag[len("object/apply:") :])
        args, kwds = _resolved(value.get("args") or []), _resolved(value.get("kwds") or {})
        if function is _UNSET or args is _UNSET or kwds is _UNSET:
            return _UNSET
        try:
            return function(*args, **kwds)
        except Exception:  # noqa: BLE001 — a third party's function given the config's arguments
            return _UNSET
    if isinstance(value, dict):
        items = {key: _resolved(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item is not _UNSET}
    if isinstance(value, list):
        return [item for item in map(_resolved, value) if item is not _UNSET]
    return value


class Renderer:
    """One Python-Markdown instance for the site, reset between pages."""

    def __init__(self, site: Site, root: Path, read_file: Callable[[str], str]):
        self.notices: list[str] = []
        self.missing: list[str] = []  # extensions the site lists that are not here
        self.unknown_ids: str | None = None  # why no id can be known here: a slugify of the project's
        self._site = site
        self._root = root
        self._read_file = read_file  # a repository path → its text, through the one reader
        self._md = self._build(site)

    def _build(self, site: Site) -> Any:
        import markdown

        builtin = _builtin()
        chosen: dict[str, dict] = {name: {} for name in ALWAYS}
        for name, config in site.extensions:
            short = name.removeprefix("markdown.extensions.")
            if name in LEFT_OUT:
                self.notices.append(f"Markdown extension {name} is left out: {LEFT_OUT[name]}")
                continue
            if short not in builtin and not name.startswith("pymdownx."):
                self.notices.append(f"Markdown extension {name} is not available here: pages render without it")
                self.missing.append(name)
                continue
            options = _resolved(config or {})
            if short == "toc" and isinstance(config, dict) and "slugify" in config and "slugify" not in options:
                self.unknown_ids = self.unknown_ids or f"own toc slugify ({config['slugify']})"
            chosen[short if short in builtin else name] = self._safe(name, options, site)
        working = {}
        for name, options in chosen.items():
            try:
                markdown.Markdown(extensions=[name], extension_configs={name: options})
            except Exception as exc:  # noqa: BLE001 — a third party's extension given the site's options
                self.notices.append(f"Markdown extension {name} does not load here ({_first_line(exc)}): left out")
                continue
            working[name] = options
        md = markdown.Markdown(extensions=list(working), extension_configs=working)
        snippets = md.preprocessors["snippet"] if "snippet" in md.preprocessors else None  # noqa: SIM401 — a Registry: no .get
        if snippets is not None:
            snippets.read_lines = self._snippet_lines  # the one reader: inside the root, bounded, UTF-8
        return md

    def _safe(self, name: str, options: dict, site: Site) -> dict:
        """Options that keep rendering inside the repository: snippets only from base paths
        in the root and never from the network."""
        if name == "pymdownx.snippets":
            bases = [self._root / base for base in site.snippet_paths]
            return {
                **options,
                "base_path": [str(b) for b in bases if b.resolve().is_relative_to(self._root.resolve())],
                "restrict_base_path": True,
                "url_download": False,
                "check_paths": False,
            }
        return options  # highlighting stays as configured: `use_pygments: false` would refuse `hl_lines`

    def _snippet_lines(self, path: str) -> list[str]:
        try:
            rel = Path(path).resolve().relative_to(self._root.resolve()).as_posix()
            text = self._read_file(rel)
        except (ValueError, OSError):
            return []
        except Exception as exc:  # noqa: BLE001 — the reader's UsageError: note it, render on
            self.notices.append(_first_line(exc))
            return []
        return text.split("\n") if text else []

    def parse(self, text: str) -> Document | None:
        """A page as the site shows it; None when it is too large to render here."""
        if len(text) > MAX_PAGE:
            return None
        lines = text.split("\n")
        body, front = without_front_matter(text, lines)
        self._md.reset()
        page = self._md.convert(body)
        doc = read(page, lines, lambda heading, attrs: attrs.get("id"), sourcepos=False)
        doc.front_matter = front
        doc.includes = includes(lines)
        doc.rewritten_by = self._site.rewriter_of(text)
        return doc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
