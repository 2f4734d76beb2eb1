"""Which lines of a Markdown file hold links and headings: setext headings, indented code
blocks (not links) beside list items, admonitions and tabs (links), and front matter."""

from deploy_actions.docs import markdown


def targets(text: str, slugs: str = "github") -> list[tuple[int, str]]:
    return [(link.line, link.target) for link in markdown.parse(text, slugs).links]


def test_setext_headings_are_anchors_and_thematic_breaks_are_not():
    doc = markdown.parse("Intro\n\nSetext Title\n------------\n\nBig One\n=======\n\n---\n\nafter: [x](a.md)\n")
    assert {"setext-title", "big-one"} <= doc.anchors
    assert not any(anchor.startswith("after") for anchor in doc.anchors)
    # a heading over two lines: GitHub drops the line break, Python-Markdown makes it a separator
    assert markdown.parse("Two line\nheading\n---\n").anchors == {"two-lineheading"}
    assert markdown.parse("Two line\nheading\n---\n", "toc").anchors == {"two-line-heading"}


def test_front_matter_is_not_a_heading_nor_links():
    doc = markdown.parse("---\ntitle: Home\nsee: [x](gone.md)\n---\n\n# Home\n")
    assert doc.anchors == {"home"} and doc.links == []


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
    found = [target for _, target in targets(text)]
    assert found == ["a.md", "b.md", "c.md", "d.md"]


def test_mkdocs_admonitions_tabs_and_lists_keep_their_links():
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
    found = [target for _, target in targets(text, "toc")]
    assert found == ["setup.md", "install.md", "x.md", "y.md"]


def test_includes_are_read_and_their_lines_are_not_prose():
    doc = markdown.parse(
        '--8<-- "README.md"\n'
        ';--8<-- "escaped.md"\n'
        "--8<--\nfooter.md\n;skipped.md\nsnippets/part.md:section\n--8<--\n\n"
        '{%\n   include-markdown "../CONTRIBUTING.md"\n   start="<!--s-->"\n%}\n'
        "{% include 'raw.md' %}\n",
        "toc",
    )
    assert doc.includes == [
        ("snippet", "README.md"),
        ("snippet", "footer.md"),
        ("snippet", "snippets/part.md:section"),
        ("include-markdown", "../CONTRIBUTING.md"),
        ("include-markdown", "raw.md"),
    ]
    assert doc.links == [] and doc.anchors == set()


def test_snippet_base_paths_come_from_mkdocs_yml():
    from deploy_actions.docs import mkdocs_site

    site = mkdocs_site.read("markdown_extensions:\n  - pymdownx.snippets:\n      base_path: [docs/snippets, .]\n")
    assert site.snippet_paths == ("docs/snippets", ".")
    assert mkdocs_site.read("markdown_extensions: [pymdownx.snippets]\n").snippet_paths == (".",)


def test_link_destinations_as_commonmark_writes_them():
    text = (
        "[t](a.md 'single'), [p](b.md (paren)), [n](c_(1).md), [s](<d e.md>), [e](), [w]( f.md )\n"
        '<p align="center"><img src="logo.png" width="80"></p> <a href="docs/x.md#y">x</a>\n'
        '<picture><source srcset="dark.png 2x" media="(prefers-color-scheme: dark)"></picture>\n'
        '`<img src="in-code.png">`\n\n'
        '[r]: <g h.md> "title"\n'
        "[q]: i.md\n"
    )
    assert targets(text) == [
        (1, "a.md"),
        (1, "b.md"),
        (1, "c_(1).md"),
        (1, "d e.md"),
        (1, "f.md"),
        (2, "logo.png"),
        (2, "docs/x.md#y"),
        (3, "dark.png"),
        (6, "g h.md"),
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
    doc = markdown.parse(text, "toc")
    assert {"setup", "9.7.0", "other-id", "item-id", "para-id", "fn:note", "fnref:note"} <= doc.anchors
    assert "install" not in doc.anchors  # an explicit id replaces the slug
    github = markdown.parse(text)
    assert {"user-content-fn-note", "user-content-fnref-note"} <= github.anchors
    assert "item-id" not in github.anchors  # GitHub renders no attr_list
