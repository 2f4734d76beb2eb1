"""Heading anchors as each renderer makes them: GitHub's from cmark-gfm's rendered text,
MkDocs' from Python-Markdown's toc with the site's own options."""

from pathlib import Path

from deploy_actions.docs import markdown, mkdocs_render, mkdocs_site


def github_one(heading: str) -> str:
    (anchor,) = markdown.parse(f"## {heading}\n").anchors
    return anchor


def mkdocs_one(heading: str, config: str = "") -> str:
    site = mkdocs_site.read(config)
    doc = mkdocs_render.Renderer(site, Path("/nonexistent"), lambda rel: "").parse(f"## {heading}\n")
    (anchor,) = doc.anchors
    return anchor


def test_github_and_toc_slugs_differ_where_real_docs_differ():
    cases = {
        "Install - quick start": ("install---quick-start", "install-quick-start"),
        "`__init__` method": ("__init__-method", "__init__-method"),
        '<span class="b">Beta</span> features': ("beta-features", "beta-features"),
        "Über uns & mehr": ("über-uns--mehr", "uber-uns-mehr"),
        "A [link](x.md) here": ("a-link-here", "a-link-here"),
    }
    for heading, (on_github, on_mkdocs) in cases.items():
        assert (github_one(heading), mkdocs_one(heading)) == (on_github, on_mkdocs), heading
    assert markdown.parse("## Usage\n\n## Usage\n").anchors == {"usage", "usage-1"}
    assert mkdocs_one("Two words", "markdown_extensions:\n  - toc:\n      separator: _\n") == "two_words"


def test_mkdocstrings_anchors_are_the_rendered_identifiers_and_below():
    site = mkdocs_site.read("")
    doc = mkdocs_render.Renderer(site, Path("/nonexistent"), lambda rel: "").parse(
        "# Ref\n\n::: pkg.mod\n    options: {}\n\n## Notes\n"
    )
    assert doc.autodoc == ["pkg.mod"]
    assert doc.has_anchor("pkg.mod") and doc.has_anchor("pkg.mod.Class.method") and doc.has_anchor("notes")
    assert doc.has_anchor("pkg.mod--usage")  # a heading inside a docstring
    assert not doc.has_anchor("pkg.model") and not doc.has_anchor("other.mod")


def test_mkdocs_yml_docs_dir_extensions_and_what_runs_code(tmp_path):
    default = mkdocs_site.read("site_name: x\n")
    assert default.docs_dir == "docs" and default.rewriters == default.page_writers == ()
    site = mkdocs_site.read(
        "docs_dir: ./site-src/\nmarkdown_extensions:\n  - toc:\n      separator: _\n  - pymdownx.superfences\n"
        "plugins:\n  - search\n  - macros\nhooks:\n  - hooks/ids.py\n"
    )
    assert site.docs_dir == "site-src" and site.renders("site-src/a.md") and not site.renders("README.md")
    assert [name for name, _ in site.extensions] == ["toc", "pymdownx.superfences"]
    # a hook that was not read may do anything; macros rewrites pages, gen-files writes them
    assert [hook.who for hook in site.rewriters] == ["hook hooks/ids.py", "plugin macros"]
    assert site.page_writers == ("hook hooks/ids.py",)
    assert site.rewriter_of("plain text") == "hook hooks/ids.py"  # not read: it may touch any page
    assert mkdocs_site.read("plugins: [search, gen-files]\n").page_writers == ("plugin gen-files",)
    (tmp_path / "hooks.py").write_text("def on_files(files, config):\n    return files\n")
    (tmp_path / "mkdocs.yml").write_text(
        "hooks: [hooks.py]\nplugins:\n  - redirects:\n      redirect_maps:\n        old.md: new.md\n"
    )
    read = mkdocs_site.load(tmp_path)  # the hook is read: it only adds pages
    assert (read.rewriters, read.page_writers, read.redirects) == ((), ("hook hooks.py",), {"old.md"})


def test_a_rewriting_hook_touches_only_pages_that_hold_its_markers(tmp_path):
    """Read as source, never run: its events, and the literals it (or a module beside it that
    it imports) looks for — `CHANGELOG.md)`, a comment directive — not plain words."""
    hooks = tmp_path / "docs" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "links.py").write_text(
        '"""Rewrites links."""\nimport re\nfrom options import expand\n\n'
        "def on_page_markdown(markdown, **kwargs):\n"
        '    """Not a marker."""\n    return markdown.replace("CHANGELOG.md)", "changelog.md)")\n'
    )
    (hooks / "options.py").write_text('import re\nPATTERN = re.compile(r"<!-- md:option (\\w+) -->")\nWORD = "title"\n')
    (hooks / "config.py").write_text("def on_config(config):\n    config.markdown_extensions.append('x')\n")
    (hooks / "broken.py").write_text("def on_page_markdown(:\n")
    (tmp_path / "mkdocs.yml").write_text("hooks:\n  - docs/hooks/links.py\n")
    site = mkdocs_site.load(tmp_path)
    assert site.rewriter_of("See [it](CHANGELOG.md).") == "hook docs/hooks/links.py"
    assert site.rewriter_of("<!-- md:option color -->") == "hook docs/hooks/links.py"
    assert site.rewriter_of("A title, a [link](guide.md#setup) and Rewrites links.") is None
    for hook in ("config.py", "broken.py"):  # adds extensions / cannot be read: any page
        (tmp_path / "mkdocs.yml").write_text(f"hooks:\n  - docs/hooks/{hook}\n")
        assert mkdocs_site.load(tmp_path).rewriter_of("plain") == f"hook docs/hooks/{hook}"
    env_tag = mkdocs_site.read("site_name: !ENV [SITE, x]\ndocs_dir: !ENV [DOCS, pages]\n")
    assert env_tag.docs_dir == "pages"
    broken = mkdocs_site.read(": not yaml [")
    assert broken.docs_dir == "docs" and "MkDocs' defaults" in broken.problems[0]


def test_inherit_merges_extensions_entry_by_entry(tmp_path):
    (tmp_path / "base.yml").write_text("markdown_extensions:\n  - toc:\n      separator: _\n  - admonition\n")
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nmarkdown_extensions:\n  - toc:\n      permalink: true\n")
    site = mkdocs_site.load(tmp_path)
    assert dict(site.extensions) == {"toc": {"separator": "_", "permalink": True}, "admonition": {}}
    (tmp_path / "mkdocs.yml").write_text("INHERIT: missing.yml\n")
    assert "INHERIT: missing.yml is not a config file" in mkdocs_site.load(tmp_path).problems[0]


def test_code_spans_and_escapes_render_as_github_shows_them():
    """Node's `emitter[Symbol.for('nodejs.rejection')](err, eventName[, ...args])` heading, its
    `_(optional)_` emphasis and `\\<nodejs.org>` escape."""
    heading = "`emitter[Symbol.for('nodejs.rejection')](err, eventName[, ...args])`"
    assert github_one(heading) == "emittersymbolfornodejsrejectionerr-eventname-args"
    assert github_one("7.1 Updating the release _(optional)_") == "71-updating-the-release-optional"
    assert github_one("The snake_case_name and _x") == "the-snake_case_name-and-_x"
    assert github_one("2. \\<nodejs.org> access") == "2-nodejsorg-access"
    assert github_one("a \\_not emphasis\\_ b") == "a-_not-emphasis_-b"
    assert mkdocs_one("__Bold__ and _em_") == "bold-and-em"
