"""Markdown as GitHub renders it: cmark-gfm, GitHub's own parser (tables, footnotes, raw
HTML kept), with GitHub's heading ids made from each heading's rendered text. What a page
includes when a site renders it (pymdownx.snippets, include-markdown) is read from its raw
lines, as those tools read it. Pure: text in, a Document out."""

from __future__ import annotations

import re

from deploy_actions.docs.rendered import CodeSpan, Document, Link, Table, github_slug, read

__all__ = ["CodeSpan", "Document", "Link", "Table", "parse", "strip_markup", "includes", "front_matter_end"]

# Files a page includes when a site renders it: pymdownx.snippets (`--8<-- "README.md"`, or a
# block of paths between two `--8<--` lines) and mkdocs-include-markdown-plugin.
_SNIPPET = re.compile(r"^\s*-{1,}8<-{1,}\s+([\"'])(.+?)\1\s*$")
_SNIPPET_BLOCK = re.compile(r"^\s*-{1,}8<-{1,}\s*$")
_INCLUDE = re.compile(r"\{%\s*include(?:-markdown)?\s+([\"'])(.+?)\1")
_TAG = re.compile(r"<[^>]*>")


def front_matter_end(lines: list[str]) -> int:
    """The number of lines YAML front matter (`---` … `---`) takes at the top, or 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for number, line in enumerate(lines[1:], 2):
        if line.strip() in ("---", "..."):
            return number
    return 0


def without_front_matter(text: str, lines: list[str]) -> tuple[str, bool]:
    """The text with its front matter blanked (line numbers kept), and whether it had one."""
    end = front_matter_end(lines)
    if not end:
        return text, False
    return "\n" * end + "\n".join(lines[end:]), True


def includes(lines: list[str]) -> list[tuple[str, str]]:
    """(kind, path) of every file the page includes: snippets read raw lines, fences or not
    (`;--8<--` escapes one), and so does include-markdown."""
    found: list[tuple[str, str]] = []
    block = False
    for line in lines:
        if "8<" in line:
            snippet = _SNIPPET.match(line)
            if snippet:
                found.append(("snippet", snippet.group(2)))
                continue
            if _SNIPPET_BLOCK.match(line):
                block = not block
                continue
        if block and line.strip() and not line.strip().startswith(";"):
            found.append(("snippet", line.strip()))
    text = "\n".join(lines)
    if "{%" in text:
        found += [("include-markdown", match.group(2)) for match in _INCLUDE.finditer(text)]
    return found


def _render(text: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    options = Options.CMARK_OPT_SOURCEPOS | Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
    return cmarkgfm.github_flavored_markdown_to_html(text, options=options)


def parse(text: str) -> Document:
    """A file as GitHub shows it. Footnotes get GitHub's ids with and without the
    `user-content-` prefix its HTML sanitizer adds (links work either way)."""
    lines = text.split("\n")
    body, front = without_front_matter(text, lines)
    seen: dict[str, int] = {}
    doc = read(_render(body), lines, lambda heading, attrs: github_slug(heading, seen), sourcepos=True)
    doc.anchors |= {f"user-content-{anchor}" for anchor in doc.anchors if anchor.startswith(("fn-", "fnref-"))}
    doc.front_matter = front
    doc.includes = includes(lines)
    return doc


def strip_markup(text: str) -> str:
    """A table cell or heading as plain text: code marks and tags gone."""
    return _TAG.sub("", text).replace("`", "").strip()
