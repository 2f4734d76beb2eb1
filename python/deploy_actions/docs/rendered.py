"""A rendered page read back: the HTML a real Markdown renderer made (cmark-gfm for GitHub,
Python-Markdown for an MkDocs site) becomes what the rules check — links and images, the
ids a link may jump to, tables, code spans — each with the source line it came from. The
renderer decides what is a link, a heading or code; this module only reads its output,
which is regular (the renderer wrote it), plus whatever raw HTML the page carried. Pure."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote

# A comment, or a tag with its attributes (quoted values may hold `>`).
_TOKEN = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
_ATTR = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_SOURCEPOS = re.compile(r"(\d+):\d+-(\d+):\d+")
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_LINKING = {"a": "href", "img": "src", "source": "srcset"}
# A block directive left as text: mkdocstrings' `::: package.module` (its identifier), or
# another extension's (`::: mkdocs-click`) whose output is not known here.
_AUTODOC = re.compile(r":::\s+([A-Za-z_][\w.]*)(\S*)")


@dataclass
class Table:
    line: int  # the header row
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells)

    def column(self, *names: str) -> int | None:
        """Index of the first column whose header matches one of `names` (case-insensitive)."""
        wanted = [n.lower() for n in names]
        for index, title in enumerate(self.header):
            if title.replace("`", "").strip().lower() in wanted:
                return index
        return None


class CodeSpan(NamedTuple):
    line: int
    text: str
    before: str  # the text of its block before it (a sentence's start: "If you create")


@dataclass
class Link:
    line: int  # 0: not in the page's own text — it came with a file the page includes
    target: str  # as the reader's browser sees it: entities and %-escapes decoded
    image: bool
    generated: bool = False  # inside a section a tool writes ("do not modify"), e.g. all-contributors


@dataclass
class Document:
    lines: list[str]
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    code_spans: list[CodeSpan] = field(default_factory=list)
    autodoc: list[str] = field(default_factory=list)  # mkdocstrings identifiers rendered here
    directives: list[str] = field(default_factory=list)  # `::: name` blocks of other extensions, unrendered
    includes: list[tuple[str, str]] = field(default_factory=list)  # (snippet | include-markdown, path)
    front_matter: bool = False  # a static site's page (Jekyll, Hugo, Docusaurus…), not a GitHub README
    rewritten_by: str | None = None  # the site's own code that rewrites this page as it builds

    def has_anchor(self, anchor: str) -> bool:
        """An id on the rendered page, or one mkdocstrings generates under an identifier this
        page renders (`pkg.mod.Class`, and `pkg.mod--usage` for a heading in a docstring)."""
        if anchor in self.anchors or anchor.lower() in self.anchors:
            return True
        return any(anchor == ident or anchor.startswith((ident + ".", ident + "--")) for ident in self.autodoc)


def github_slug(text: str, seen: dict[str, int]) -> str:
    """GitHub's id for a heading from its rendered text: lowercase; letters, marks, numbers,
    `_`, `-` and spaces kept, spaces become `-`; a repeat gets -1, -2."""
    kept = "".join(
        ch
        for ch in text.lower()
        if ch in "-_ " or ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc")
    )
    base = kept.replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


class _Locator:
    """The source line an element of the rendered page came from. cmark-gfm says which lines
    each block spans (data-sourcepos); inside it, or on a page Python-Markdown rendered, the
    element is found by its text, reading forward from the last one found."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.cursor = 1

    def find(self, needles: list[str], first: int | None, last: int | None, link: bool = False) -> int:
        """The line; for a link found nowhere in the page's own text (it came with an
        included file), 0."""
        needles = [n for n in needles if n]
        if first is not None:  # the block cmark-gfm named: the line in it that holds the text
            for number in range(first, min(last or first, len(self.lines)) + 1):
                if _holds(self.lines[number - 1], needles, link):
                    return number
            return first
        for start, stop in ((self.cursor, len(self.lines)), (1, self.cursor - 1)):
            for number in range(start, stop + 1):
                if _holds(self.lines[number - 1], needles, link):
                    self.cursor = number
                    return number
        return 0 if link and needles else self.cursor


def _holds(line: str, needles: list[str], link: bool) -> bool:
    """`line` has one of `needles`; for a link target, where a destination starts — after
    `(`, `<`, a quote, `=` or a space — not inside other text (`{#id}` is not `(#id)`)."""
    for needle in needles:
        at = line.find(needle)
        while at >= 0:
            if not link or at == 0 or line[at - 1] in "(<\"'= \t":
                return True
            at = line.find(needle, at + 1)
    return False


@dataclass
class _Capture:
    kind: str  # heading | code | cell | para
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _attrs(raw: str) -> dict[str, str]:
    found = {}
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        found.setdefault(name, html.unescape(value))
    return found


_INTEREST = frozenset(("pre", "code", "p", "table", "thead", "tr", "th", "td", "a", "img", "source", *_HEADINGS))
_BLOCKS = frozenset(("p", "li", "td", "th", "dd", "dt", "blockquote", "div", *_HEADINGS))
# `<!-- ALL-CONTRIBUTORS-LIST:START - Do not remove or modify this section -->` … `:END -->`
_SECTION = re.compile(r"<!--\s*([\w.-]+):(START|END)\b(.*)", re.I | re.S)
_TOOL_WRITES = re.compile(r"do not (?:remove|modify|edit)|generated|auto", re.I)
_POSITION = re.compile(r'data-sourcepos="(\d+):\d+-(\d+):')


def read(
    page: str,
    lines: list[str],
    heading_id: Callable[[str, dict[str, str]], str | None],
    sourcepos: bool,
) -> Document:
    """The Document of a rendered page. `heading_id(text, attrs)`: the id a heading gets (GitHub
    makes it from the text; Python-Markdown's toc wrote it in `attrs`). `sourcepos`: the HTML
    carries cmark-gfm's data-sourcepos."""
    reader = _Reader(Document(lines), heading_id, page)
    position = 0
    for token in _TOKEN.finditer(page):
        if reader.captures and token.start() > position:
            reader.text(page[position : token.start()])
        position = token.end()
        tag = token.group(2)
        if tag is None:  # a comment: it may open or close a section a tool writes
            reader.comment(token.group(0))
            continue
        tag = tag.lower()
        if token.group(1):
            reader.close(tag)
            continue
        raw = token.group(3)
        if sourcepos and "data-sourcepos" in raw and not raw.rstrip().endswith("/"):
            span = _POSITION.search(raw)
            if span:
                first = int(span.group(1))
                reader.blocks.append((tag, first, max(first, int(span.group(2)))))
        if tag in _BLOCKS:
            reader.block_start = token.end()
        if tag in _INTEREST or "id" in raw:
            wanted = tag in _LINKING or tag in _HEADINGS or "id=" in raw or "name=" in raw
            reader.open(tag, _attrs(raw) if wanted else {}, token.start())
    if reader.captures:
        reader.text(page[position:])
    return reader.doc


class _Reader:
    """The state of one pass over a rendered page: the open blocks with their source lines,
    what is being gathered (a heading's text, a code span, a table cell), the current table."""

    def __init__(self, doc: Document, heading_id: Callable[[str, dict[str, str]], str | None], page: str):
        self.doc = doc
        self.page = page
        self.block_start = 0  # where the innermost block's content starts in the page
        self.code_before = ""
        self.generated: str | None = None  # the section a tool writes that this is in
        self.heading_id = heading_id
        self.where = _Locator(doc.lines)
        self.blocks: list[tuple[str, int, int]] = []  # elements with a source position, innermost last
        self.captures: list[_Capture] = []
        self.table: Table | None = None
        self.row: tuple[int, list[str]] | None = None
        self.in_head = False
        self.pre = 0

    def comment(self, text: str) -> None:
        marker = _SECTION.match(text)
        if marker is None:
            return
        name, edge, rest = marker.groups()
        if edge.upper() == "START" and _TOOL_WRITES.search(rest):
            self.generated = name
        elif edge.upper() == "END" and name == self.generated:
            self.generated = None

    def span(self) -> tuple[int | None, int | None]:
        return (self.blocks[-1][1], self.blocks[-1][2]) if self.blocks else (None, None)

    def text(self, chunk: str) -> None:
        value = html.unescape(chunk) if "&" in chunk else chunk
        for capture in self.captures:
            capture.parts.append(value)

    def open(self, tag: str, attrs: dict[str, str], at: int) -> None:
        doc, first_last = self.doc, self.span()
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                doc.anchors.add(attrs[name])
        if tag == "pre":
            self.pre += 1
        elif tag in _HEADINGS:
            self.captures.append(_Capture("heading", attrs))
        elif tag == "code" and not self.pre:
            before = html.unescape(_TOKEN.sub("", self.page[max(self.block_start, at - 400) : at]))
            self.code_before = before[-160:]
            self._mark_code()  # a cell keeps its code spans as written: `v*`
            self.captures.append(_Capture("code", attrs))
        elif tag == "p" and not self.captures:
            self.captures.append(_Capture("para", attrs))
        elif tag == "table":
            self.table, self.in_head = Table(0, []), False
            doc.tables.append(self.table)
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and self.table is not None:
            self.row = (first_last[0] or 0, [])
        elif tag in ("th", "td") and self.row is not None:
            self.captures.append(_Capture("cell", attrs))
        if tag in _LINKING and attrs.get(_LINKING[tag], "").strip():
            value = attrs[_LINKING[tag]].strip()
            if tag == "source":
                value = value.split()[0]  # srcset: "dark.png 2x, …"
            target = unquote(value) if "%" in value else value
            line = self.where.find([value, target], *first_last, link=True)
            doc.links.append(Link(line, target, tag != "a", generated=self.generated is not None))

    def close(self, tag: str) -> None:
        if self.blocks and self.blocks[-1][0] == tag:
            self.blocks.pop()
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag == "thead":
            self.in_head = False
        elif tag == "tr" and self.table is not None and self.row is not None:
            self._end_row(self.table, self.row)
            self.row = None
        if not self.captures:
            return
        done = next((c for c in reversed(self.captures) if _closes(c, tag)), None)
        if done is None:
            return
        self.captures.remove(done)
        first, last = self.span()
        if done.kind == "heading":
            ident = self.heading_id(done.text.strip(), done.attrs)
            if ident:
                self.doc.anchors.add(ident)
        elif done.kind == "code":
            code = done.text.strip()
            if code:
                self.doc.code_spans.append(CodeSpan(self.where.find([code], first, last), code, self.code_before))
            self._mark_code()
        elif done.kind == "para":
            autodoc = _AUTODOC.match(done.text.strip())
            if autodoc and not autodoc.group(2):
                self.doc.autodoc.append(autodoc.group(1))
            elif autodoc:
                self.doc.directives.append(autodoc.group(1) + autodoc.group(2))
        elif done.kind == "cell" and self.row is not None:
            self.row[1].append(done.text.strip())

    def _end_row(self, table: Table, row: tuple[int, list[str]]) -> None:
        if not row[0]:  # no source position: the line with the row's first cell
            row = (self.where.find([c.replace("`", "") for c in row[1] if c][:1], None, None), row[1])
        if self.in_head or not table.header and not table.rows:
            table.line, table.header = row
        else:
            table.rows.append(row)

    def _mark_code(self) -> None:
        for capture in self.captures:
            if capture.kind == "cell":
                capture.parts.append("`")


def _closes(capture: _Capture, tag: str) -> bool:
    return {"heading": tag in _HEADINGS, "code": tag == "code", "cell": tag in ("th", "td"), "para": tag == "p"}[
        capture.kind
    ]
