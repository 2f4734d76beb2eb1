"""Just enough Markdown for drift checks, line by line and fast: tables (with the line of
every row), links and images, headings (ATX and setext) as anchors, and code spans — all
outside code blocks, fenced or indented, and outside YAML front matter. Pure: text in,
structures out."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

# Fences at any indentation: inside list items, admonitions and content tabs they are indented.
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# MkDocs' attr_list at the end of a heading or a block's line, in every form the extension
# takes: `{#id}`, `{ #id .class }`, `{: #id }`, `{ id="9.7.0" }`, `{: id='x' key=v }`.
_ATTR_LIST = re.compile(r"\s*\{:?([^{}]*)\}\s*$")
_ATTR_ID = re.compile(r"""(?:^|\s)(?:#([\w.:-]+)|id=(?:"([^"]*)"|'([^']*)'|([^\s"']+)))""")
_FOOTNOTE = re.compile(r"\[\^([^\]\s]+)\](:)?")


def attr_id(text: str) -> tuple[str, int] | None:
    """(id, where its attr list starts) when `text` ends with an attr list that sets one."""
    found = _ATTR_LIST.search(text)
    if not found:
        return None
    ident = _ATTR_ID.search(found.group(1))
    if not ident:
        return None
    return next(g for g in ident.groups() if g is not None), found.start()


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](<a b.md>), [text](file_(1).md "title"), titles in "", '' or ().
_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]"
    r"\(\s*(?:<([^<>\n]*)>|((?:[^()\s]|\([^()\s]*\))+))"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
_REF_DEF = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*(?:<([^<>]*)>|(\S+))(?:\s+.*)?$")
# Inline HTML that links: <a href>, <img src>, <source srcset> (a README's centred logo).
_HTML_LINK = re.compile(r"<(a|img|source)\b[^>]*?\s(?:href|src|srcset)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_CODE = re.compile(r"(`+)(.+?)\1")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark's backslash escapes of ASCII punctuation
_HIDDEN = 0xE000  # a private-use offset that keeps an escaped character away from the markup rules
# `_optional_`, `__bold__`: emphasis, gone once rendered; `snake_case` inside a word stays.
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![^\W_])(_{1,3})(?=\S)(.+?)(?<=\S)\1(?![^\W_])")
_SLUG_DROP = re.compile(r"[^\w\- ]")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_AUTODOC = re.compile(r"^:::\s+([A-Za-z_][\w.]*)")  # mkdocstrings: `::: package.module`
# An HTML element a link can jump to: <a name="x">, <a href="…" id='x'>, <h2 id="x">, <span id="x">.
_ANCHOR_TAG = re.compile(r"<[A-Za-z][\w-]*(?:\s[^>]*?)?\s(?:name|id)\s*=\s*[\"']([^\"']+)[\"']")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# Files a page includes when MkDocs renders it: pymdownx.snippets (`--8<-- "README.md"`, or a
# block of paths between two `--8<--` lines) and mkdocs-include-markdown-plugin.
_SNIPPET = re.compile(r"^\s*-{1,}8<-{1,}\s+([\"'])(.+?)\1\s*$")
_SNIPPET_BLOCK = re.compile(r"^\s*-{1,}8<-{1,}\s*$")
_INCLUDE = re.compile(r"\{%\s*include(?:-markdown)?\s+([\"'])(.+?)\1")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
# A list item, or a block whose content is indented: MkDocs admonitions, collapsible blocks, tabs.
_CONTAINER = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)]|!!!|\?\?\?\+?|===)(\s+|$)")
_NOT_PARAGRAPH = re.compile(r"^\s*([-*+>|<#]|\d{1,9}[.)]|!!!|\?\?\?|===|:::)")
_BLOCK_STARTS = frozenset("-*+!?=0123456789")  # the first characters of list items and MkDocs blocks
_NOT_PARAGRAPH_STARTS = _BLOCK_STARTS | frozenset(">|<#:")


class _Containers:
    """Where indented code starts: 4 columns past the content of the list item, admonition or
    tab a line sits in (CommonMark's rule, and Python-Markdown's 4-space lists in MkDocs)."""

    def __init__(self, toc: bool):
        self.toc = toc
        self.columns: list[int] = []  # content columns of the open containers, innermost last

    def code_column(self) -> int:
        return (self.columns[-1] if self.columns else 0) + 4

    def see(self, line: str, first: str, indent: int, after_blank: bool) -> None:
        """Update the open containers with a non-blank line that is not code (`first`: its
        first non-blank character, a cheap test before the regexes)."""
        if after_blank:  # a line less indented than a container's content closes it
            while self.columns and indent < self.columns[-1]:
                self.columns.pop()
        if first not in _BLOCK_STARTS:
            return
        item = _CONTAINER.match(line)
        if item is None:
            return
        while self.columns and indent < self.columns[-1]:
            self.columns.pop()  # a sibling item replaces the one before it
        if self.toc or item.group(2) in ("!!!", "???", "???+", "==="):
            self.columns.append(indent + 4)
        else:
            spacing = len(item.group(3).expandtabs(4)) if item.group(3) else 1
            self.columns.append(indent + len(item.group(2)) + (spacing if 1 <= spacing <= 4 else 1))


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def _front_matter_end(lines: list[str]) -> int:
    """The number of lines YAML front matter (`---` … `---`) takes at the top, or 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for number, line in enumerate(lines[1:], 2):
        if line.strip() in ("---", "..."):
            return number
    return 0


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
    includes: list[tuple[str, str]] = field(default_factory=list)  # (snippet | include-markdown, path)
    front_matter: bool = False  # a static site's page (Jekyll, Hugo, Docusaurus…), not a GitHub README

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
    if not any(c in text for c in "[`*_<\\"):
        return text.strip()
    parts = re.split(r"(`+)(.+?)\1", text)  # [prose, ticks, code, prose, ticks, code, …]
    rendered = []
    for index in range(0, len(parts), 3):
        # `\<`, `\_`: escaped characters are literal text, hidden from the markup rules below.
        prose = _ESCAPED.sub(lambda m: chr(_HIDDEN + ord(m.group(1))), parts[index])
        prose = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", prose)  # not in code: `a[b](c)` is code
        prose = _EMPHASIS_UNDERSCORE.sub(r"\2", _TAG.sub("", prose).replace("**", ""))
        prose = re.sub(f"[{chr(_HIDDEN + 33)}-{chr(_HIDDEN + 126)}]", lambda m: chr(ord(m.group(0)) - _HIDDEN), prose)
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
    fence_limit = 4  # a closing fence is indented less than this (≤ 3 past its container's content)
    seen: dict[str, int] = {}
    table: Table | None = None
    containers = _Containers(slugs == "toc")
    skip = _front_matter_end(lines)
    doc.front_matter = skip > 0
    snippets: bool = False  # inside a `--8<--` block of paths
    paragraph: list[str] = []  # the lines of the paragraph so far (a setext heading's text)
    blank, code = True, False  # the line before was blank / indented code
    for number, line in enumerate(lines, 1):
        if number <= skip:
            continue
        # Cheap substring tests gate every regex: most lines are plain prose.
        opened = _FENCE.match(line) if ("```" in line or "~~~" in line) else None
        if fence:
            if (
                opened
                and opened.group(1)[0] == fence[0]
                and len(opened.group(1)) >= len(fence)
                and _indent(line) < fence_limit
                and not line.strip().strip(fence[0])  # a closing fence has no info string
            ):
                fence = None
            continue
        stripped = line.strip()
        if "8<" in stripped:
            snippet = _SNIPPET.match(line)
            if snippet:
                doc.includes.append(("snippet", snippet.group(2)))
                continue
            if _SNIPPET_BLOCK.match(line):
                snippets = not snippets
                continue
        if snippets:
            if stripped and not stripped.startswith(";"):
                doc.includes.append(("snippet", stripped))
            continue
        if not stripped:
            table, paragraph, blank = None, [], True
            continue
        indent = _indent(line) if line[0] in " \t" else 0
        if (blank or code) and not paragraph and indent >= containers.code_column():
            blank, code = False, True  # an indented code block: nothing in it is a link
            continue
        if containers.columns or stripped[0] in _BLOCK_STARTS:  # most lines: prose outside any list
            containers.see(line, stripped[0], indent, blank)
        blank, code = False, False
        if opened:
            fence, table, paragraph = opened.group(1), None, []
            fence_limit = containers.code_column()
            continue
        if paragraph and ("=" in stripped or "-" in stripped) and _SETEXT.match(line):
            title = "\n".join(part.strip() for part in paragraph)  # GitHub drops the line break
            doc.anchors.add(toc_slug(title, seen, separator) if slugs == "toc" else slug(title, seen))
            paragraph = []
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
                explicit = attr_id(title) if "{" in title and slugs == "toc" else None
                if explicit:  # MkDocs: the id given replaces the slug (GitHub shows the braces as text)
                    doc.anchors.add(explicit[0])
                else:
                    doc.anchors.add(toc_slug(title, seen, separator) if slugs == "toc" else slug(title, seen))
        elif slugs == "toc" and stripped.endswith("}"):  # attr_list on a paragraph, a list item…
            explicit = attr_id(stripped)
            if explicit:
                doc.anchors.add(explicit[0])
        if "[^" in line:  # footnotes: where each note is and where it is cited
            for note in _FOOTNOTE.finditer(line):
                label, definition = note.group(1), note.group(2)
                if slugs == "toc":
                    doc.anchors.add(f"fn:{label}" if definition else f"fnref:{label}")
                else:
                    kind = "fn" if definition else "fnref"
                    doc.anchors.update({f"{kind}-{label}", f"user-content-{kind}-{label}"})
        if stripped.startswith(":::"):
            autodoc = _AUTODOC.match(stripped)
            if autodoc:
                doc.autodoc.append(autodoc.group(1))
        if "<" in line and ("id" in line or "name" in line):
            doc.anchors.update(m.group(1) for m in _ANCHOR_TAG.finditer(line))
        code_free = line
        if "`" in line:
            for match in _CODE.finditer(line):
                doc.code_spans.append((number, match.group(2).strip()))
                code_free = code_free.replace(match.group(0), " " * len(match.group(0)), 1)
        if "](" in code_free:
            for match in _LINK.finditer(code_free):
                target = match.group(3) if match.group(3) is not None else match.group(4)
                if target.strip():
                    doc.links.append(Link(number, target.strip(), bool(match.group(1))))
        if "<" in code_free and ("href" in code_free or "src" in code_free):
            for match in _HTML_LINK.finditer(code_free):
                target = match.group(2).strip().split()[0] if match.group(2).strip() else ""
                if target:
                    doc.links.append(Link(number, html.unescape(target), match.group(1).lower() != "a"))
        if stripped[0] == "[" and "]:" in code_free:
            ref = _REF_DEF.match(code_free)
            if ref and not ref.group(1).startswith("^"):  # `[^1]: …` is a footnote, not a link
                target = ref.group(2) if ref.group(2) is not None else ref.group(3)
                if target.strip():
                    doc.links.append(Link(number, target.strip(), False))
        if stripped[0] in _NOT_PARAGRAPH_STARTS and _NOT_PARAGRAPH.match(line):
            paragraph = []
        else:
            paragraph.append(line)
    if "{%" in text:
        doc.includes += [("include-markdown", match.group(2)) for match in _INCLUDE.finditer(text)]
    # A table's separator row was consumed as a row; drop it.
    for t in doc.tables:
        t.rows = [(n, cells) for n, cells in t.rows if not _SEPARATOR.match(doc.lines[n - 1])]
    return doc
