"""What an MkDocs site's own code does to its pages, read from its source and never run:
the events a hook file handles (a page event whose function never returns a value
changes nothing), and the markers it looks for in a page — the strings it searches for,
replaces, splits on or compiles as patterns, in the hook and in the modules beside it
that it imports, where they hold more than words (`<!-- md:option `, `CHANGELOG.md)`).
A page that holds none of a rewriting hook's markers is one the hook leaves as it is; a
hook whose markers cannot be known (not readable, not Python, only plain words) counts as
touching every page."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

REWRITE_EVENTS = frozenset(("on_page_markdown", "on_page_content", "on_post_page", "on_page_read_source"))
PAGE_EVENTS = frozenset(("on_files",))
# on_config can add Markdown extensions or preprocessors: then it rewrites pages too
_EXTENDS = re.compile(r"markdown_extensions|preprocessors|treeprocessors|postprocessors|inlinePatterns")
_REGEX_SYNTAX = re.compile(r"(?:\\[a-zA-Z]|[\\^$*+?()\[\]|{}])+")
_MIN_MARKER = 3


@dataclass(frozen=True)
class Hook:
    who: str  # "hook docs/hooks.py", "plugin macros"
    events: frozenset[str]
    markers: frozenset[str] | None = None  # None: may touch any page

    @property
    def rewrites(self) -> bool:
        return bool(self.events & REWRITE_EVENTS)

    @property
    def writes_pages(self) -> bool:
        return bool(self.events & PAGE_EVENTS)

    def touches(self, text: str) -> bool:
        return self.markers is None or any(marker in text for marker in self.markers)


def unknown(who: str) -> Hook:
    """A hook that could not be read: it may do anything."""
    return Hook(who, REWRITE_EVENTS | PAGE_EVENTS)


def read(who: str, rel: str, read_file: Callable[[str], str | None]) -> Hook:
    """The hook at repository path `rel`; `read_file(rel)` gives a file's text or None."""
    text = read_file(rel)
    tree = _parse(text)
    if tree is None:
        return unknown(who)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    events = {
        name
        for name, node in functions.items()
        if name.startswith("on_") and (name not in REWRITE_EVENTS or _returns_value(node))
    }
    if "on_config" in events and _EXTENDS.search(text or ""):
        events |= {"on_page_markdown"}
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    searched = _searched(tree)
    for module in _sibling_imports(tree):
        sibling = _parse(read_file(f"{folder}/{module}.py" if folder else f"{module}.py"))
        if sibling is not None:
            searched |= _searched(sibling)
    markers = frozenset(
        fragment
        for text, pattern in searched
        for fragment in (_REGEX_SYNTAX.split(text) if pattern else [text])
        if len(fragment.strip()) >= _MIN_MARKER and re.search(r"[^\w\s]", fragment)
    )
    return Hook(who, frozenset(events), markers or None)


def _parse(text: str | None) -> ast.Module | None:
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# Calls whose first argument is a string the code looks for in a page: as it is, or as a
# regular expression (whose literal runs are the markers).
_SEARCHING = frozenset(("replace", "startswith", "endswith", "find", "rfind", "index", "count", "split", "partition"))
_PATTERNS = frozenset(("search", "match", "fullmatch", "sub", "subn", "compile", "findall", "finditer"))


def _returns_value(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A page event changes the page only by returning it: `return` alone or none at all keeps it."""
    return any(
        isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value)
        for node in ast.walk(function)
    )


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _searched(tree: ast.Module) -> set[tuple[str, bool]]:
    """(text, is a pattern) the code searches a page for: first arguments of str and re
    searches and replacements, `"x" in text` tests — directly, or through a module-level name."""
    named = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def value(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return named.get(node.id) if isinstance(node, ast.Name) else None

    found: set[tuple[str | None, bool]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in _SEARCHING or name in _PATTERNS:
                found.add((value(node.args[0]), name in _PATTERNS))
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            found.add((value(node.left), False))
    return {(text, pattern) for text, pattern in found if text is not None}


def _sibling_imports(tree: ast.Module) -> set[str]:
    """Plain module names it imports (`from expand_blocks import X`): maybe files beside it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return {name for name in found if re.fullmatch(r"[A-Za-z_]\w*", name)}
