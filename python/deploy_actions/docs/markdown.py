"""Just enough Markdown for drift checks, line by line and fast: tables (with the line of
every row), links and images, headings as GitHub anchors, and code spans — all outside
fenced code blocks. Pure: text in, structures out."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

# Fences at any indentation: inside list items, admonitions and content tabs they are indented.
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ATTR_ID = re.compile(r"\s*\{:?\s*#([\w.:-]+)[^}]*\}\s*$")  # `## Title {#id}` (MkDocs attr_list)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_CODE = re.compile(r"(`+)(.+?)\1")
_SLUG_DROP = re.compile(r"[^\w\- ]")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_AUTODOC = re.compile(r"^:::\s+([A-Za-z_][\w.]*)")  # mkdocstrings: `::: package.module`
_ANCHOR_TAG = re.compile(r'<a\s+(?:name|id)="([^"]+)"')
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


@dataclass
class Table:
    line: int  # the header row
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells)

    def column(self, *names: str) -> int | None:
        """Index of the first column whose header matches one of `names` (case-insensitive)."""
        wanted = [n.lower() for n in names]
        for index, title in enumerate(self.header):
            if strip_markup(title).lower() in wanted:
                return index
        return None


@dataclass
class Link:
    line: int
    target: str
    image: bool


@dataclass
class Document:
    lines: list[str]
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    code_spans: list[tuple[int, str]] = field(default_factory=list)
    autodoc: list[str] = field(default_factory=list)  # mkdocstrings identifiers rendered here

    def has_anchor(self, anchor: str) -> bool:
        """A heading's anchor, or one mkdocstrings generates under an identifier this page renders."""
        if anchor in self.anchors or anchor.lower() in self.anchors:
            return True
        return any(anchor == ident or anchor.startswith(ident + ".") for ident in self.autodoc)


def split_row(line: str) -> list[str]:
    """Cells of a table row; `|` inside code spans or escaped does not split."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells, current, in_code = [], [], False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    cells.append("".join(current).strip())
    return cells


def strip_markup(text: str) -> str:
    """A heading or cell as rendered text: links and images become their text, inline HTML
    tags go, emphasis markers go — but a code span's content stays as written (`__init__`)."""
    if "[" not in text and "`" not in text and "*" not in text and "_" not in text and "<" not in text:
        return text.strip()
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    parts = re.split(r"(`+)(.+?)\1", text)  # [prose, ticks, code, prose, ticks, code, …]
    rendered = []
    for index in range(0, len(parts), 3):
        prose = _TAG.sub("", parts[index]).replace("**", "").replace("__", "")
        rendered.append(prose)
        if index + 2 < len(parts):
            rendered.append(parts[index + 2].strip())
    return "".join(rendered).strip()


def slug(heading: str, seen: dict[str, int]) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to '-', -1, -2 for repeats."""
    text = _SLUG_DROP.sub("", strip_markup(heading).lower()).replace(" ", "-")
    count = seen.get(text, 0)
    seen[text] = count + 1
    return text if count == 0 else f"{text}-{count}"


def toc_slug(heading: str, seen: dict[str, int], separator: str = "-") -> str:
    """Python-Markdown's toc (MkDocs' default): ASCII only, punctuation dropped, runs of spaces
    and separators become one separator, and repeats get `_1`, `_2`."""
    text = unicodedata.normalize("NFKD", html.unescape(strip_markup(heading)))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    text = re.sub(rf"[{re.escape(separator)}\s]+", separator, text)
    count = seen.get(text, 0)
    seen[text] = count + 1
    return text if count == 0 else f"{text}_{count}"


def parse(text: str, slugs: str = "github", separator: str = "-") -> Document:
    """`slugs`: how headings become anchors — `github`, or `toc` (Python-Markdown, MkDocs,
    with its `separator`)."""
    lines = text.splitlines()
    doc = Document(lines)
    fence: str | None = None
    seen: dict[str, int] = {}
    table: Table | None = None
    for number, line in enumerate(lines, 1):
        # Cheap substring tests gate every regex: most lines are plain prose.
        opened = _FENCE.match(line) if ("```" in line or "~~~" in line) else None
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence, table = opened.group(1), None
            continue
        stripped = line.strip()
        if not stripped:
            table = None
            continue
        if table is not None:
            if "|" in stripped:
                table.rows.append((number, split_row(line)))
                continue
            table = None
        if "|" in stripped and number < len(lines) and "-" in lines[number] and _SEPARATOR.match(lines[number]):
            table = Table(number, split_row(line))
            doc.tables.append(table)
            continue
        if stripped[0] == "#":
            heading = _HEADING.match(line)
            if heading:
                title = heading.group(2)
                explicit = _ATTR_ID.search(title) if "{" in title else None
                if explicit:
                    doc.anchors.add(explicit.group(1))
                    title = title[: explicit.start()]
                doc.anchors.add(toc_slug(title, seen, separator) if slugs == "toc" else slug(title, seen))
        if stripped.startswith(":::"):
            autodoc = _AUTODOC.match(stripped)
            if autodoc:
                doc.autodoc.append(autodoc.group(1))
        if "<a" in line:
            doc.anchors.update(m.group(1) for m in _ANCHOR_TAG.finditer(line))
        code_free = line
        if "`" in line:
            for match in _CODE.finditer(line):
                doc.code_spans.append((number, match.group(2).strip()))
                code_free = code_free.replace(match.group(0), " " * len(match.group(0)), 1)
        if "](" in code_free:
            for match in _LINK.finditer(code_free):
                doc.links.append(Link(number, match.group(3), bool(match.group(1))))
        if stripped[0] == "[" and "]:" in code_free:
            ref = _REF_DEF.match(code_free)
            if ref and not ref.group(1).startswith("^"):  # `[^1]: …` is a footnote, not a link
                doc.links.append(Link(number, ref.group(2), False))
    # A table's separator row was consumed as a row; drop it.
    for t in doc.tables:
        t.rows = [(n, cells) for n, cells in t.rows if not _SEPARATOR.match(doc.lines[n - 1])]
    return doc
