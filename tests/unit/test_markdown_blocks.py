"""What a real renderer makes of a page, read back: cmark-gfm (GitHub) for READMEs and
Python-Markdown with the site's extensions for MkDocs pages. Which lines hold links,
what is code, which ids a link may jump to."""

from pathlib import Path

import pytest

from deploy_actions.docs import markdown, mkdocs_render, mkdocs_site

SITE = (
    "markdown_extensions:\n  - admonition\n  - attr_list\n  - footnotes\n  - pymdownx.details\n"
    "  - pymdownx.superfences\n  - pymdownx.tabbed:\n      alternate_style: true\n"
)


def mkdocs(text: str, config: str = SITE, root: Path = Path("/nonexistent")) -> markdown.Document:
    site = mkdocs_site.read(config)
    renderer = mkdocs_render.Renderer(site, root, lambda rel: (root / rel).read_text())
    doc = renderer.parse(text)
    assert doc is not None
    return doc


def targets(doc: markdown.Document) -> list[tuple[int, str]]:
    return [(link.line, link.target) for link in doc.links]


def test_setext_headings_are_anchors_and_thematic_breaks_are_not():
    doc = markdown.parse("Intro\n\nSetext Title\n------------\n\nBig One\n=======\n\n---\n\nafter: [x](a.md)\n")
    assert {"setext-title", "big-one"} <= doc.anchors
    assert not any(anchor.startswith("after") for anchor in doc.anchors)
    # a heading over two lines: GitHub drops the line break; Python-Markdown has no such heading
    # (a paragraph and a rule), so an MkDocs page has no anchor for it
    assert markdown.parse("Two line\nheading\n---\n").anchors == {"two-lineheading"}
    assert mkdocs("Two line\nheading\n---\n").anchors == set()


def test_front_matter_is_not_a_heading_nor_links():
    doc = markdown.parse("---\ntitle: Home\nsee: [x](gone.md)\n---\n\n# Home\n")
    assert doc.anchors == {"home"} and doc.links == [] and doc.front_matter
    assert mkdocs("---\ntitle: Home\n---\n\n# Home\n").anchors == {"home"}


def test_indented_code_holds_no_links_but_list_content_does():
    text = (
        "Text.\n\n"
        "    [code](in-code.md)\n"  # indented code at top level
        "\n"
        "- item with [a](a.md)\n\n"
        "  continued [b](b.md)\n\n"  # the item's own paragraph (2 columns in)
        "      [code in item](in-item-code.md)\n\n"  # item content column 2 + 4
        "1.  ordered\n\n"
        "    para [c](c.md)\n\n"  # content column 4
        "Back at the top.\n"
        "    lazy continuation [d](d.md)\n"  # not after a blank: still the paragraph
    )
    assert targets(markdown.parse(text)) == [(5, "a.md"), (7, "b.md"), (13, "c.md"), (16, "d.md")]


def test_mkdocs_admonitions_tabs_and_lists_keep_their_links():
    """What GitHub shows as code (4 spaces in) is content in an MkDocs block, and the reverse."""
    text = (
        '!!! note "Read"\n'
        "    See [setup](setup.md).\n\n"
        "        [code](admonition-code.md)\n\n"
        '=== "pip"\n\n'
        "    Install from [pypi](install.md).\n\n"
        '??? tip "More"\n'
        "    - a list in it: [x](x.md)\n\n"
        "- item\n\n"
        "    four spaces in, the item's paragraph: [y](y.md)\n\n"
        "        [code](list-code.md)\n"
    )
    assert targets(mkdocs(text)) == [(2, "setup.md"), (8, "install.md"), (11, "x.md"), (15, "y.md")]
    assert "install.md" not in [t for _, t in targets(markdown.parse(text))]  # GitHub: indented code


def test_includes_are_read_and_their_lines_are_not_prose():
    doc = markdown.parse(
        '--8<-- "README.md"\n'
        ';--8<-- "escaped.md"\n'
        "--8<--\nfooter.md\n;skipped.md\nsnippets/part.md:section\n--8<--\n\n"
        '{%\n   include-markdown "../CONTRIBUTING.md"\n   start="<!--s-->"\n%}\n'
        "{% include 'raw.md' %}\n"
    )
    assert doc.includes == [
        ("snippet", "README.md"),
        ("snippet", "footer.md"),
        ("snippet", "snippets/part.md:section"),
        ("include-markdown", "../CONTRIBUTING.md"),
        ("include-markdown", "raw.md"),
    ]
    assert doc.links == [] and doc.anchors == set()


def test_snippets_render_inside_the_page_through_the_one_reader(tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "part.md").write_text("## From The Part\n\nSee [far](far.md).\n")
    (root / "outside.md").write_text("## Beside The Base\n")
    (tmp_path / "secret.md").write_text("## Secret Heading\n")
    (root / "docs" / "leak.md").symlink_to(tmp_path / "secret.md")  # a link out of the repository
    config = "markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [docs]\n"
    seen = []

    def reader(rel: str) -> str:
        seen.append(rel)
        return (root / rel).read_text()

    site = mkdocs_site.read(config)
    doc = mkdocs_render.Renderer(site, root, reader).parse(
        '# Page\n\n--8<-- "part.md"\n\n--8<-- "../outside.md"\n\n--8<-- "leak.md"\n'
    )
    assert doc.anchors == {"page", "from-the-part"}  # not beside the base path, not outside the root
    assert [link.target for link in doc.links] == ["far.md"] and seen == ["docs/part.md"]


def test_snippet_base_paths_come_from_mkdocs_yml():
    site = mkdocs_site.read("markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [docs/snippets, .]\n")
    assert site.snippet_paths == ("docs/snippets", ".")
    assert mkdocs_site.read("markdown_extensions: [pymdownx.snippets]\n").snippet_paths == (".",)
    relative = mkdocs_site.read(
        "markdown_extensions:\n  - pymdownx.snippets:\n      base_path: !relative $config_dir\n"
    )
    assert relative.snippet_paths == (".",)


def test_link_destinations_as_commonmark_writes_them():
    text = (
        "[t](a.md 'single'), [p](b.md (paren)), [n](c_(1).md), [s](<d e.md>), [e](), [w]( f.md )\n"
        '<p align="center"><img src="logo.png" width="80"></p> <a href="docs/x.md#y">x</a>\n'
        '<picture><source srcset="dark.png 2x" media="(prefers-color-scheme: dark)"></picture>\n'
        '\n`<img src="in-code.png">`\n\n'
        "Uses [r] and [q][].\n\n"
        '[r]: <g h.md> "title"\n'
        "[q]: i.md\n"
        "[unused]: never-rendered.md\n"
    )
    assert targets(markdown.parse(text)) == [
        (1, "a.md"),
        (1, "b.md"),
        (1, "c_(1).md"),
        (1, "d e.md"),
        (1, "f.md"),
        (2, "logo.png"),
        (2, "docs/x.md#y"),
        (3, "dark.png"),
        (7, "g h.md"),  # where the reference is used
        (7, "i.md"),
    ]
    images = {link.target for link in markdown.parse(text).links if link.image}
    assert images == {"logo.png", "dark.png"}


def test_html_elements_with_an_id_or_name_are_anchors():
    doc = markdown.parse(
        '<a name="legacy"></a>\n<a href="https://example.invalid" id=\'both\'>x</a>\n'
        '<h2 id="custom-title">Title</h2>\n<span id="here"></span> <div class="x" id="box">\n'
        '<img src="a.png" alt="no id">\n'
    )
    assert {"legacy", "both", "custom-title", "here", "box"} <= doc.anchors
    assert not any("png" in anchor for anchor in doc.anchors)


def test_a_fence_closes_only_on_a_line_indented_at_most_three_spaces():
    """CommonMark: `    ```` is content of the fence, not its end. One such line used to end
    the fence early, and every later heading of the page was lost."""
    doc = markdown.parse("```python\ncode\n    ```\n## Inside\n```\n\n## After\n")
    assert "after" in doc.anchors and "inside" not in doc.anchors
    doc = markdown.parse("- item\n\n  ```\n  x\n  ```\n\n## After\n")  # a fence in a list item closes there
    assert "after" in doc.anchors
    doc = markdown.parse("```\n```js\n## Inside\n```\n## After\n")  # an info string opens, never closes
    assert doc.anchors == {"after"}


def test_attr_list_ids_in_every_form_and_footnotes_are_anchors():
    text = (
        '## Install { #setup }\n\n## Version { id="9.7.0" }\n\n## Other {: #other-id .wide }\n\n'
        "- an item\n{ #item-id }\n\nParagraph.\n{: id='para-id' }\n\nA claim[^note].\n\n[^note]: The note.\n"
    )
    doc = mkdocs(text)
    assert {"setup", "9.7.0", "other-id", "para-id", "fn:note", "fnref:note"} <= doc.anchors
    assert "install" not in doc.anchors  # an explicit id replaces the slug
    github = markdown.parse(text)
    assert {"user-content-fn-note", "user-content-fnref-note"} <= github.anchors
    assert "item-id" not in github.anchors and "setup" not in github.anchors  # GitHub renders no attr_list


def test_tables_give_each_row_its_line_and_cells_keep_code_marks():
    text = "Intro\n\n| Workflow | Trigger |\n| --- | --- |\n| `ci.yml` | PRs |\n| `release.yml` | Tag push (`v*`) |\n"
    for doc in (markdown.parse(text), mkdocs(text)):
        (table,) = doc.tables
        assert (table.line, table.header) == (3, ["Workflow", "Trigger"])
        assert table.rows == [(5, ["`ci.yml`", "PRs"]), (6, ["`release.yml`", "Tag push (`v*`)"])]
        assert table.column("trigger") == 1
        assert (6, "v*", "Tag push (") in doc.code_spans


@pytest.mark.parametrize("name", ["material.extensions.emoji", "mdx_truly_sane_lists", "os", "subprocess"])
def test_an_extension_not_shipped_here_is_left_out_with_one_notice_and_never_imported(name):
    site = mkdocs_site.read(f"markdown_extensions:\n  - {name}\n  - toc:\n      permalink: true\n")
    renderer = mkdocs_render.Renderer(site, Path("/nonexistent"), lambda rel: "")
    assert renderer.notices == [f"Markdown extension {name} is not available here: pages render without it"]
    assert renderer.parse("## A B\n").anchors == {"a-b"}


def test_option_functions_resolve_only_inside_python_markdown_and_pymdownx():
    config = (
        "markdown_extensions:\n  - toc:\n      slugify: !!python/object/apply:pymdownx.slugs.slugify\n"
        "        kwds: {case: lower}\n  - pymdownx.superfences:\n      custom_fences:\n"
        "        - name: mermaid\n          class: mermaid\n"
        "          format: !!python/name:pymdownx.superfences.fence_code_format\n"
        "        - name: evil\n          class: x\n          format: !!python/name:os.system\n"
    )
    doc = mkdocs("## Über Uns\n\n```mermaid\n[x](in-fence.md)\n```\n", config)
    assert doc.anchors == {"über-uns"}  # pymdownx.slugs keeps Unicode, as the site does
    assert doc.links == []
    custom = mkdocs_site.read("markdown_extensions:\n  - toc:\n      slugify: !!python/name:my_project.slug\n")
    renderer = mkdocs_render.Renderer(custom, Path("/nonexistent"), lambda rel: "")
    assert renderer.unknown_ids == "own toc slugify (name:my_project.slug)"


def test_a_section_a_tool_writes_is_marked_and_its_links_kept():
    text = (
        "## Contributors\n\n<!-- ALL-CONTRIBUTORS-LIST:START - Do not remove or modify this section -->\n"
        '<table><tr><td><a href="#code-someone" title="Code">💻</a> <a href="docs/x.md">x</a></td></tr></table>\n'
        "<!-- ALL-CONTRIBUTORS-LIST:END -->\n\n[after](#contributors)\n"
    )
    links = {link.target: link.generated for link in markdown.parse(text).links}
    assert links == {"#code-someone": True, "docs/x.md": True, "#contributors": False}


def test_a_code_span_knows_the_start_of_its_sentence():
    doc = markdown.parse("Done. If you create `src/lib.so`, it is kept.\n\n- `scripts/x.sh`: deploys\n")
    assert [(span.text, span.before) for span in doc.code_spans] == [
        ("src/lib.so", "Done. If you create "),
        ("scripts/x.sh", ""),
    ]


def test_a_directive_of_an_extension_not_here_makes_its_page_ids_unknown():
    site = mkdocs_site.read("markdown_extensions:\n  - mkdocs-click\n")
    renderer = mkdocs_render.Renderer(site, Path("/nonexistent"), lambda rel: "")
    doc = renderer.parse("# CLI\n\n::: mkdocs-click\n    :module: app.cli\n\n::: app.module\n")
    assert renderer.missing == ["mkdocs-click"]
    assert doc.directives == ["mkdocs-click"] and doc.autodoc == ["app.module"]
