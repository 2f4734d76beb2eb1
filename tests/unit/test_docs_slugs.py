"""Heading anchors as each renderer makes them, and what an mkdocs.yml says about them."""

from deploy_actions.docs import markdown, mkdocs_site


def slugs(make, *headings, **kwargs):
    seen: dict[str, int] = {}
    return [make(h, seen, **kwargs) for h in headings]


def test_github_and_toc_slugs_differ_where_real_docs_differ():
    headings = ("Install - quick start", "Usage", "Usage", "`__init__` method", '<span class="b">Beta</span> features')
    assert slugs(markdown.slug, *headings) == [
        "install---quick-start",
        "usage",
        "usage-1",
        "__init__-method",
        "beta-features",
    ]
    assert slugs(markdown.toc_slug, *headings) == [
        "install-quick-start",
        "usage",
        "usage_1",
        "__init__-method",
        "beta-features",
    ]
    assert slugs(markdown.toc_slug, "Über uns & mehr", "A [link](x.md) here") == ["uber-uns-mehr", "a-link-here"]
    assert slugs(markdown.slug, "Über uns") == ["über-uns"]
    assert slugs(markdown.toc_slug, "Two words", separator="_") == ["two_words"]


def test_strip_markup_keeps_code_spans_as_written():
    assert markdown.strip_markup("**Bold** and `__dunder__` and __strong__") == "Bold and __dunder__ and strong"
    assert markdown.strip_markup("![alt](a.png) <em>x</em>") == "alt x"


def test_mkdocstrings_anchors_are_the_rendered_identifiers_and_below():
    doc = markdown.parse("# Ref\n\n::: pkg.mod\n    options: {}\n\n## Notes\n", "toc")
    assert doc.autodoc == ["pkg.mod"]
    assert doc.has_anchor("pkg.mod") and doc.has_anchor("pkg.mod.Class.method") and doc.has_anchor("notes")
    assert not doc.has_anchor("pkg.model") and not doc.has_anchor("other.mod")


def test_mkdocs_yml_slugify_and_docs_dir():
    default = mkdocs_site.read("site_name: x\n")
    assert (default.docs_dir, default.slugs, default.separator) == ("docs", "toc", "-")
    pymdownx = mkdocs_site.read(
        "docs_dir: ./site-src/\nmarkdown_extensions:\n  - toc:\n      slugify: !!python/object/apply:"
        "pymdownx.slugs.slugify {kwds: {case: lower}}\n      separator: _\n  - pymdownx.superfences\n"
    )
    assert (pymdownx.docs_dir, pymdownx.slugs, pymdownx.separator) == ("site-src", "github", "_")
    assert pymdownx.renders("site-src/a.md") and not pymdownx.renders("README.md")
    env_tag = mkdocs_site.read("site_name: !ENV [SITE, x]\nmarkdown_extensions: [toc]\n")
    assert env_tag.slugs == "toc"
    assert mkdocs_site.read(": not yaml [").docs_dir == "docs"


def test_link_syntax_inside_a_code_span_heading_is_code():
    """Node's `emitter[Symbol.for('nodejs.rejection')](err, eventName[, ...args])` heading."""
    heading = "`emitter[Symbol.for('nodejs.rejection')](err, eventName[, ...args])`"
    assert markdown.slug(heading, {}) == "emittersymbolfornodejsrejectionerr-eventname-args"
    assert markdown.slug("See [the guide](guide.md) `a[b](c)`", {}) == "see-the-guide-abc"


def test_underscore_emphasis_is_rendered_away_but_snake_case_stays():
    """Node's `#### 7.1 Updating the release _(optional)_` → `#71-updating-the-release-optional`."""
    assert markdown.slug("7.1 Updating the release _(optional)_", {}) == "71-updating-the-release-optional"
    assert markdown.slug("The snake_case_name and _x", {}) == "the-snake_case_name-and-_x"  # no pair: literal
    assert markdown.toc_slug("__Bold__ and _em_", {}) == "bold-and-em"
    assert markdown.slug("`__init__` method", {}) == "__init__-method"  # code keeps its underscores


def test_backslash_escapes_are_literal_text_not_markup():
    """Node's `### 2. \\<nodejs.org> access` → `#2-nodejsorg-access`: an escaped `<` opens no tag."""
    assert markdown.slug("2. \\<nodejs.org> access", {}) == "2-nodejsorg-access"
    assert markdown.slug("a \\_not emphasis\\_ b", {}) == "a-_not-emphasis_-b"
