"""docs-drift on fixture repositories: the seed document's workflow and gate tables next to
matching and non-matching workflows, action tables, links, paths, variables, endpoints."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import read_outputs
from deploy_actions.cli import main

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "docs" / "seed"


@pytest.fixture
def repo(tmp_path):
    dest = tmp_path / "repo"
    shutil.copytree(SEED, dest)
    return dest


def drift(gha_env, capsys, root, *args):
    code = main(["docs-drift", "--root", str(root), *args], env=gha_env)
    out = capsys.readouterr().out
    outputs = read_outputs(Path(gha_env["GITHUB_OUTPUT"]))
    Path(gha_env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
    return code, out, outputs


def report(outputs):
    return json.loads(outputs["report"])


def test_matching_tables_are_clean(gha_env, capsys, repo):
    code, out, outputs = drift(gha_env, capsys, repo)
    assert code == 0, out
    assert outputs["drift-count"] == "0" and report(outputs) == []


def test_missing_unlisted_and_wrong_trigger(gha_env, capsys, repo):
    workflows = repo / ".github" / "workflows"
    (workflows / "deploy-production.yml").unlink()
    (workflows / "nightly.yml").write_text("on:\n  schedule:\n    - cron: '0 3 * * *'\njobs: {}\n")
    (workflows / "backend-ci.yml").write_text("on:\n  push:\n    branches: [main]\njobs: {}\n")
    (workflows / "release-images.yml").write_text("on:\n  push:\n    tags: ['release-*']\njobs: {}\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    found = {(d["line"], d["says"]) for d in report(outputs)}
    assert code == 1
    lines = (repo / "README.md").read_text().splitlines()

    def line(text):
        return next(n for n, t in enumerate(lines, 1) if text in t)

    assert (line("`deploy-production.yml`"), "lists deploy-production.yml") in found
    assert (line("| Workflow | Trigger"), "does not list nightly.yml") in found
    assert (line("`backend-ci.yml` | PRs"), "backend-ci.yml: PRs") in found
    assert (line("| `release-images.yml` | Tag push"), "release-images.yml: tag push `v*`") in found
    annotation = next(a for a in out.splitlines() if "backend-ci.yml: PRs" in a)
    assert annotation.startswith("::error title=docs-drift%3A workflow-table,file=") and "runs on `push`" in annotation
    assert "#### workflow-table" in Path(gha_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_contract_maps_its_own_trigger_words_and_excludes(gha_env, capsys, repo):
    (repo / ".github/workflows/nightly.yml").write_text("on:\n  schedule:\n    - cron: '0 3 * * *'\njobs: {}\n")
    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace("| `backend-ci.yml` | PRs |", "| `backend-ci.yml` | Every change |"))
    (repo / ".docs-contract.yml").write_text(
        "version: 1\nworkflows:\n  exclude: [nightly.yml]\n  triggers: {Every change: pull_request}\n"
    )
    code, out, _ = drift(gha_env, capsys, repo)
    assert code == 0, out


def test_malformed_workflow_is_an_annotation_not_a_crash(gha_env, capsys, repo):
    (repo / ".github/workflows/backend-ci.yml").write_text("on: [pull_request\njobs: {}\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    assert code == 1 and "Traceback" not in out
    bad = [d for d in report(outputs) if d["file"].endswith("backend-ci.yml")]
    assert bad and all("not valid YAML" in d["actual"] and d["line"] >= 1 for d in bad)


ACTION = """name: hello
description: says hello
inputs:
  who:
    description: "Who to greet | anyone"
    required: false
    default: world
outputs:
  said:
    description: What was said
    value: x
runs: {using: composite, steps: []}
"""
README = """# hello

Some words the fix must never touch. <!-- docs-drift:inputs --> in prose is not a marker.

<!-- docs-drift:inputs -->
| Input | Description | Required | Default |
| --- | --- | --- | --- |
| `who` | old words | no | `nobody` |
<!-- /docs-drift:inputs -->

Between the tables.

<!-- docs-drift:outputs -->
<!-- /docs-drift:outputs -->
trailing text without a newline"""


def test_action_tables_diff_fix_round_trip(gha_env, capsys, repo):
    (repo / "hello").mkdir()
    (repo / "hello/action.yml").write_text(ACTION)
    (repo / "hello/README.md").write_text(README)
    code, out, outputs = drift(gha_env, capsys, repo)
    assert code == 1 and [d["rule"] for d in report(outputs)] == ["action-table"]
    assert report(outputs)[0]["line"] == 5  # the marker alone on its line, not the one in prose
    code = main(["docs-drift", "--root", str(repo), "--diff"], env={})
    diff = capsys.readouterr().out
    assert code == 1 and "-| `who` | old words | no | `nobody` |" in diff
    assert "+| `who` | Who to greet \\| anyone | no | `world` |" in diff
    assert (repo / "hello/README.md").read_text() == README  # --diff wrote nothing
    main(["docs-drift", "--root", str(repo), "--diff"], env={"GITHUB_ACTIONS": "true"})
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    end = lines.index(f"::{lines[start].split('::')[2]}::")  # the diff is the files' text: no workflow commands
    assert any(line.startswith("-| `who` | old words") for line in lines[start:end])
    code, out, outputs = drift(gha_env, capsys, repo, "--fix")
    assert code == 0 and outputs["fixed-count"] == "1" and outputs["drift-count"] == "0"
    fixed = (repo / "hello/README.md").read_text()
    section = "<!-- docs-drift:inputs -->\n| Input"
    assert README.split(section)[0] == fixed.split(section)[0]  # every byte before the section is the same
    assert fixed.endswith("<!-- /docs-drift:outputs -->\ntrailing text without a newline")
    assert "| `said` | What was said |" in fixed and "Between the tables." in fixed
    assert drift(gha_env, capsys, repo)[0] == 0


def test_links_anchors_images_and_paths(gha_env, capsys, repo):
    (repo / "docs").mkdir()
    (repo / "scripts").mkdir()
    (repo / "scripts" / "build.sh").write_text("#!/bin/sh\n")
    (repo / "docs/guide.md").write_text(
        "# Guide\n\n## Set up\n\nBack to [readme](../README.md#service).\n"
        "[setup](#set-up) [gone](#nowhere) [missing](../nope.md)\n"
        "![logo](img/logo.png) [other](../README.md#no-such-heading)\n"
        "Run `scripts/deploy.sh`, see `.github/workflows/backend-ci.yml`, "
        "use `actions/checkout` and `/health`.\n"
        "```\n[not a link](nowhere.md) `fake/path.txt`\n```\n"
        "In your project, create `app/main.py`.\n"
    )
    code, out, outputs = drift(gha_env, capsys, repo)
    said = sorted((d["rule"], d["line"], d["says"]) for d in report(outputs))
    assert said == [
        ("links", 6, "link to #nowhere"),
        ("links", 6, "link to ../nope.md"),
        ("links", 7, "image to img/logo.png"),
        ("links", 7, "link to ../README.md#no-such-heading"),
        ("paths", 8, "`scripts/deploy.sh`"),  # scripts/ is this repository's: a claim about it
    ]
    # `app/main.py` names no folder here: the reader's file, checked only with check-paths: all.
    (repo / ".docs-contract.yml").write_text("version: 1\nlinks: {check-paths: all}\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    assert ("paths", 12, "`app/main.py`") in {(d["rule"], d["line"], d["says"]) for d in report(outputs)}


def test_environment_variables_both_directions(gha_env, capsys, repo):
    (repo / "docker-compose.yml").write_text(
        "services:\n  app:\n    image: app:${IMAGE_TAG}\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n"
    )
    (repo / ".env.example").write_text("IMAGE_TAG=v0.1.0\nSENTRY_DSN=\n")
    (repo / ".github/workflows/deploy-stage.yml").write_text(
        "on:\n  workflow_dispatch: {}\njobs:\n  d:\n    runs-on: x\n    env:\n      DEPLOY_PATH: /opt/app\n"
        "    steps:\n      - run: echo\n        env:\n          KEY: ${{ secrets.DEPLOY_SSH_KEY }}\n"
    )
    (repo / "docs").mkdir()
    (repo / "docs/configuration.md").write_text(
        "# Configuration\n\n| Variable | Meaning |\n| --- | --- |\n"
        "| `IMAGE_TAG` | the release |\n| `DATABASE_URL` | the database |\n"
        "| `DEPLOY_PATH` | folder |\n| `DEPLOY_SSH_KEY` | key |\n"
        "| `KEY` | alias |\n| `OLD_FLAG` | gone |\n"
    )
    (repo / ".docs-contract.yml").write_text("version: 1\nenv:\n  doc: docs/configuration.md\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    said = sorted((d["line"], d["says"]) for d in report(outputs) if d["rule"] == "env")
    assert said == [(3, "does not document SENTRY_DSN"), (10, "documents OLD_FLAG")]


def test_endpoints_against_openapi(gha_env, capsys, repo):
    (repo / "openapi.yaml").write_text("openapi: 3.0.0\npaths:\n  /health: {}\n  /items/{item_id}: {}\n")
    (repo / "API.md").write_text("Check `/health`, `GET /items/{id}` and `/ready`.\n")
    (repo / ".docs-contract.yml").write_text("version: 1\nendpoints:\n  openapi: openapi.yaml\n  docs: [API.md]\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    assert [(d["rule"], d["says"]) for d in report(outputs)] == [("endpoints", "names /ready")]


@pytest.mark.parametrize(
    "contract,expected",
    [
        (
            "version: 1\nworkflows:\n  exlude: [a.yml]\n",
            ".docs-contract.yml:3: workflows.exlude: Additional properties",
        ),
        ("version: 1\ndocs: README.md\n", ".docs-contract.yml:2: docs: 'README.md' is not of type 'array'"),
        ("version: 1\ndocs: [missing.md]\n", "docs lists 'missing.md', which does not exist"),
        ("version: 1\nenv:\n  doc: docs/nope.md\n", "env.doc: 'docs/nope.md' does not exist"),
        ("version: [\n", "not valid YAML"),
    ],
)
def test_bad_contract(gha_env, capsys, repo, contract, expected):
    (repo / ".docs-contract.yml").write_text(contract)
    code, out, _ = drift(gha_env, capsys, repo)
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert code == 2 and len(errors) == 1 and expected in errors[0], out


def test_explicit_contract_that_does_not_exist(gha_env, capsys, repo):
    code, out, _ = drift(gha_env, capsys, repo, "--contract", "docs/contract.yml")
    assert code == 2 and "contract: no contract file at" in out


def test_two_workflow_folders_each_checked_against_their_own_doc(gha_env, capsys, repo):
    examples = repo / "examples-wf"
    examples.mkdir()
    (examples / "nightly.yml").write_text("on:\n  schedule:\n    - cron: '0 3 * * *'\njobs: {}\n")
    (examples / "README.md").write_text(
        "| Workflow | Trigger | Purpose |\n| --- | --- | --- |\n| `nightly.yml` | Schedule | clean-up |\n"
    )
    (repo / ".docs-contract.yml").write_text(
        "version: 1\ndocs: [README.md, examples-wf/README.md]\n"
        "workflows:\n  - dir: .github/workflows\n  - dir: examples-wf\n    docs: [examples-wf/README.md]\n"
    )
    code, out, _ = drift(gha_env, capsys, repo)
    assert code == 0, out
    (examples / "nightly.yml").rename(examples / "cleanup.yml")
    code, out, outputs = drift(gha_env, capsys, repo)
    assert code == 1
    said = {(d["file"], d["says"]) for d in report(outputs)}
    assert said == {
        ("examples-wf/README.md", "lists nightly.yml"),
        ("examples-wf/README.md", "does not list cleanup.yml"),
    }


def test_an_mkdocs_site_is_checked_by_mkdocs_rules_and_the_readme_by_githubs(gha_env, capsys, tmp_path):
    """A site with mkdocs.yml: toc slugs (runs of - collapsed, `_1` for repeats, ASCII only,
    code spans and inline HTML rendered), mkdocstrings anchors under the identifiers a page
    renders, admonitions' indented fences, the headings of files a page includes (snippets
    from their base_path, include-markdown, setext). Exactly the real mistakes are reported."""
    root = tmp_path / "site"
    shutil.copytree(SEED.parent / "mkdocs_site", root)
    code, out, outputs = drift(gha_env, capsys, root)
    found = sorted((d["file"], d["line"], d["says"]) for d in report(outputs))
    assert found == [
        ("README.md", 8, "link to #nothing-here"),
        ("docs/index.md", 23, "link to #usage-1"),
        ("docs/index.md", 23, "link to guide/old.md"),
        ("docs/index.md", 24, "link to reference.md#otherpkg.Thing"),
        ("docs/index.md", 25, "link to guide/setup.md#nowhere"),
        ("docs/index.md", 29, "link to changelog.md#900"),
    ]
    assert code == 1
    hint = next(line for line in out.splitlines() if "#usage-1" in line)
    assert "the site's toc makes it from the heading" in hint


def test_a_github_readme_as_github_renders_it(gha_env, capsys, tmp_path):
    """Links that climb to the repository's GitHub pages (`../../issues`), HTML images and
    links, setext headings, indented code and titled links: the real mistakes only."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "logo.png").write_bytes(b"")
    (root / "docs" / "guide (v2).md").write_text("# Guide\n")
    (root / "README.md").write_text(
        '<p align="center"><img src="docs/logo.png" alt="logo"></p>\n\n'
        "Report bugs in [issues](../../issues), read the [wiki](../../wiki) and the\n"
        "[guide](<docs/guide (v2).md> 'the guide'); jump to [setup](#setup).\n\n"
        "Setup\n-----\n\n"
        "    [example](not/a/path.md)\n\n"
        '<img src="docs/banner.png"> and [above the root](../other-repo/README.md).\n'
    )
    code, out, outputs = drift(gha_env, capsys, root)
    found = sorted((d["file"], d["line"], d["says"]) for d in report(outputs))
    assert found == [
        ("README.md", 11, "image to docs/banner.png"),
        ("README.md", 11, "link to ../other-repo/README.md"),
    ], out
    assert code == 1


def test_paths_git_ignores_are_build_outputs_not_drift(gha_env, capsys, tmp_path):
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\ndocs/_build/\n")
    (root / "README.md").write_text(
        "Run `src/app.py`; the docs build into `docs/_build/html/index.html`,\n"
        "Python caches into `src/__pycache__/` and `src/app.pyc`. But `src/gone.py` is gone.\n"
    )
    code, out, outputs = drift(gha_env, capsys, root)
    assert [(d["line"], d["says"]) for d in report(outputs)] == [(2, "`src/gone.py`")], out


def test_example_file_names_in_prose_are_not_repository_paths(gha_env, capsys, tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "Makefile").write_text("")
    (root / "docs" / "hooks.md").write_text(
        "If both `./foo.mjs` and `./bar.mjs` define a hook, `./resource.js` and `../resource.js` are read;\n"
        "`some-library/lib/some-library.js` is an example. Build with `./Makefile`; configure `./pyproject.toml`.\n"
    )
    code, out, outputs = drift(gha_env, capsys, root)
    assert [(d["line"], d["says"]) for d in report(outputs)] == [(2, "`pyproject.toml`")], out


def test_pages_of_a_static_site_link_by_url_not_by_file(gha_env, capsys, tmp_path):
    """Pages with front matter belong to a static site (Jekyll, Hugo, Docusaurus, npm's docs):
    `/commands/install` and `../guide/setup` are URLs of pages the site builds from .md files."""
    root = tmp_path / "repo"
    for folder in ("docs/content/commands", "docs/content/guide/setup"):
        (root / folder).mkdir(parents=True)
    (root / "docs" / "content" / "commands" / "install.md").write_text("---\ntitle: install\n---\n\n## Synopsis\n")
    (root / "docs" / "content" / "guide" / "setup" / "index.md").write_text("---\ntitle: setup\n---\n")
    (root / "docs" / "content" / "commands" / "publish.md").write_text(
        "---\ntitle: publish\nsection: 1\n---\n\n"
        "See [install](/commands/install#synopsis), [setup](../guide/setup), [gone](/commands/unpublish)\n"
        "and [bad anchor](/commands/install#nope).\n"
    )
    (root / "README.md").write_text("A GitHub README: [install](docs/content/commands/install) is broken here.\n")
    code, out, outputs = drift(gha_env, capsys, root)
    found = sorted((d["file"], d["line"], d["says"]) for d in report(outputs))
    assert found == [
        ("README.md", 1, "link to docs/content/commands/install"),
        ("docs/content/commands/publish.md", 6, "link to /commands/unpublish"),
        ("docs/content/commands/publish.md", 7, "link to /commands/install#nope"),
    ], out


def test_template_links_are_filled_in_at_build_time(gha_env, capsys, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text(
        "[Docs]({{site.baseurl}}/docs/setup), [ref]({% link _posts/x.md %}) and [gone](nothing.md).\n"
    )
    code, out, outputs = drift(gha_env, capsys, root)
    assert [d["says"] for d in report(outputs)] == ["link to nothing.md"], out


def test_an_mkdocs_site_links_by_its_urls_and_skips_what_it_does_not_build(gha_env, capsys, repo):
    """Links written as the site's URLs work on the site: relative to the page's own URL
    (use_directory_urls) or to the site's root. Pages exclude_docs leaves out and fragments
    other pages include are not checked on their own. The config may be another mkdocs*.yml
    that INHERITs the site's settings."""
    (repo / "mkdocs-base.yml").write_text("site_name: x\ndocs_dir: site\nexclude_docs: |\n  drafts/\n")
    (repo / "mkdocs-online.yml").write_text("INHERIT: mkdocs-base.yml\nmarkdown_extensions: [toc]\n")
    site = repo / "site"
    (site / "guide").mkdir(parents=True)
    (site / "drafts").mkdir()
    (site / "index.md").write_text(
        "# Home\n\n[setup](guide/setup/) [abs](/guide/setup/#install) [file](guide/setup.md#install)\n"
        '[gone](guide/missing/) [gone too](/nowhere/)\n\n--8<-- "site/guide/part.md"\n'
    )
    (site / "guide" / "setup.md").write_text("# Setup\n\n## Install\n\n[home](../../) [sibling](../other/)\n")
    (site / "guide" / "other.md").write_text("# Other\n")
    (site / "guide" / "part.md").write_text("[relative to the including page](guide/other.md)\n")
    (site / "drafts" / "wip.md").write_text("# WIP\n\n[not yet](nowhere.md)\n")
    code, out, outputs = drift(gha_env, capsys, repo)
    said = sorted((d["file"], d["line"], d["says"]) for d in report(outputs))
    assert said == [
        ("site/index.md", 4, "link to /nowhere/"),
        ("site/index.md", 4, "link to guide/missing/"),
    ], out


def test_a_page_that_cannot_be_read_is_one_warning_and_the_rest_is_checked(gha_env, capsys, tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "latin.md").write_bytes(b"# Title\n\ncaf\xe9 [x](gone.md)\n")
    (root / "README.md").write_text("See [the guide](docs/guide.md).\n")
    code, out, outputs = drift(gha_env, capsys, root)
    assert code == 1 and [d["says"] for d in report(outputs)] == ["link to docs/guide.md"]
    warning = next(line for line in out.splitlines() if line.startswith("::warning"))
    assert "latin.md,line=3::" in warning and "not UTF-8 text" in warning
    (root / "README.md").write_bytes(b"\xff\xfe")
    code, out, _ = drift(gha_env, capsys, root)
    assert code == 2 and "none of the 2 doc(s) can be read" in out and "Traceback" not in out
