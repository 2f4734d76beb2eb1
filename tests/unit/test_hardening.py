"""The security review's findings on pure logic: each test failed before its fix."""

import io
import json
import os
from pathlib import Path

import httpx
import pytest

from deploy_actions import inputfiles, yamlpos
from deploy_actions.cli import main
from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.images.reference import parse_ref
from deploy_actions.images.registry import Registry
from deploy_actions.migrations.database_url import check_url, with_database


# -- alembic-preflight's throwaway database -------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@127.0.0.1/postgres?dbname=production",
        "postgresql://u:p@127.0.0.1/postgres?sslmode=disable&host=10.0.0.9",
        "postgresql://u:p@127.0.0.1/postgres?service=prod",
        "postgresql://u:p@127.0.0.1/postgres?port=6432",
    ],
)
def test_query_parameters_that_override_the_database_are_refused(url):
    with pytest.raises(UsageError, match="database-url: the query parameter") as caught:
        check_url(url, "database-url")
    assert ":p@" not in str(caught.value)


def test_the_throwaway_url_is_rebuilt_from_parts():
    url = "postgresql+psycopg://u:p%40ss@127.0.0.1:5433/app?sslmode=require#frag"
    assert (
        with_database(url, "preflight_ab12")
        == "postgresql+psycopg://u:p%40ss@127.0.0.1:5433/preflight_ab12?sslmode=require"
    )


@pytest.mark.parametrize(
    "url,expected",
    [
        ("postgresql://u:secret-pw@127.0.0.1:99999/db", "database-url: is not a usable URL"),
        ("mysql://u:secret-pw@127.0.0.1/db", "database-url: expected a postgresql:// URL"),
    ],
)
def test_bad_database_urls_are_usage_errors_without_the_password(url, expected, gha_env, capsys):
    code = main(["alembic-preflight", "--database-url", url], env=gha_env)
    out = "\n".join(line for line in capsys.readouterr().out.splitlines() if not line.startswith("::add-mask::"))
    assert code == 2 and expected in out and "secret-pw" not in out


# -- usage errors never echo values -----------------------------------------------------------
def test_an_unknown_flag_is_named_without_its_value(gha_env, capsys):
    code = main(
        ["smoke-ready", "--url", "http://127.0.0.1:1", "--secrets", "token=hunter2-secret", "--tokn=other-secret"],
        env=gha_env,
    )
    out = capsys.readouterr().out
    assert code == 2 and "--secrets" in out and "--tokn" in out
    assert "hunter2" not in out and "other-secret" not in out


@pytest.mark.parametrize(
    "url", ["http://user:pa55word@127.0.0.1:8000", "http://127.0.0.1:8000/\n/x", "http://127.0.0.1:80\t00"]
)
def test_smoke_urls_with_credentials_or_control_characters_are_refused(url, gha_env, capsys):
    code = main(["smoke-ready", "--url", url], env=gha_env)
    out = capsys.readouterr().out
    assert code == 2 and "url: expected a URL without" in out and "pa55word" not in out


def test_control_characters_in_a_path_are_refused(gha_env, capsys):
    code = main(["smoke-ready", "--url", "http://127.0.0.1:1", "--ready-path", "/ready\x00x"], env=gha_env)
    assert code == 2 and "ready-path: expected a path" in capsys.readouterr().out


# -- files named in inputs ---------------------------------------------------------------------
def test_input_files_must_be_small_regular_utf8_files(tmp_path):
    for path, expected in [
        ("/dev/zero", "not a regular file"),
        (str(tmp_path), "not a regular file"),
        (str(tmp_path / "missing"), "cannot read"),
    ]:
        with pytest.raises(UsageError, match=expected):
            inputfiles.read_text(path, "spec")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        inputfiles.read_text(fifo, "spec")  # no writer: a blocking open would hang here
    big = tmp_path / "big.yml"
    big.write_bytes(b"#" * (inputfiles.LIMIT + 1))
    with pytest.raises(UsageError, match="at most"):
        inputfiles.read_text(big, "spec")
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"calls:\xff\xfe")
    with pytest.raises(UsageError, match="not UTF-8 text"):
        inputfiles.read_text(binary, "spec")


BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _nested(depth: int) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    "read",
    [
        lambda text: yamlpos.load(text, "spec.yml", "spec", "smoke-spec.schema.json", what="smoke spec"),
        lambda text: __import__("deploy_actions.swarm.stackfile").swarm.stackfile.parse(text, "spec.yml"),
        lambda text: yamlpos.parse(text, "spec.yml", "workflow"),
    ],
    ids=["smoke spec", "stack file", "any YAML"],
)
def test_one_yaml_policy_refuses_alias_bombs_and_deep_nesting_quickly(read):
    import time

    assert len(BOMB) < 600
    started = time.monotonic()
    with pytest.raises(UsageError, match=r"spec\.yml:\d+: YAML aliases \(\*name\) here expand to more than"):
        read(BOMB)
    with pytest.raises(UsageError, match=r"spec\.yml:1: nested more than 64 levels deep"):
        read(_nested(500))
    with pytest.raises(UsageError, match=r"spec\.yml:1: nested more than 64 levels deep"):
        read(_nested(200_000))  # a 400 KB file: refused as fast as the small one
    assert time.monotonic() - started < 5


def test_anchors_within_the_limits_are_read():
    from deploy_actions.swarm import stackfile

    text = (
        "x-common: &common\n  image: r/web:${TAG}\n  environment: {A: '1'}\n"
        "services:\n  web:\n    <<: *common\n  worker:\n    <<: *common\n    command: work\n"
    )
    data, lines = stackfile.parse(text, "stack.yml")
    assert data["services"]["worker"]["image"] == "r/web:${TAG}" and data["services"]["worker"]["command"] == "work"
    assert lines[("services", "worker")] == 7


def test_repository_files_are_read_inside_the_root_and_bounded(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside\n")
    (root / "zero.md").symlink_to("/dev/zero")
    (root / "out.md").symlink_to(tmp_path / "secret.txt")
    (root / "in.md").symlink_to(root / "real.md")
    (root / "real.md").write_text("# Real\n")
    os.mkfifo(root / "pipe.md")
    (root / "latin.md").write_bytes(b"# Title\n\ncaf\xe9\n")
    assert inputfiles.read_text(root / "in.md", "root", root=root) == "# Real\n"
    with pytest.raises(UsageError, match=r"^root: zero\.md: the file is a symlink that leads outside the repository"):
        inputfiles.read_text(root / "zero.md", "root", root=root)
    with pytest.raises(UsageError, match=r"out\.md: the page is a symlink that leads outside") as caught:
        inputfiles.read_text(root / "out.md", "root", what="page", root=root)
    assert "secret" not in str(caught.value)
    with pytest.raises(UsageError, match="pipe.md is not a regular file"):
        inputfiles.read_text(root / "pipe.md", "root", root=root)
    with pytest.raises(UsageError, match=r"latin\.md:3: the file is not UTF-8 text") as caught:
        inputfiles.read_text(root / "latin.md", "root", root=root)
    assert caught.value.line == 3 and caught.value.file == "latin.md"
    with pytest.raises(UsageError, match="leads outside the repository; it is not read"):
        inputfiles.write_text(root / "out.md", "overwritten", root, "root", what="README")
    assert (tmp_path / "secret.txt").read_text() == "outside\n"
    inputfiles.write_text(root / "in.md", "# New\n", root, "root", what="README")
    assert (root / "real.md").read_text() == "# New\n" and (root / "in.md").is_symlink()


def test_a_private_key_given_as_a_spec_is_not_printed_back():
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        + "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" * 8
        + "\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    with pytest.raises(UsageError) as caught:
        yamlpos.load(key, "id_ed25519", "spec", "smoke-spec.schema.json", what="smoke spec")
    assert "b3BlbnNzaC1rZXkt" not in str(caught.value) and "a string of" in str(caught.value)


# -- the registry -------------------------------------------------------------------------------
def test_credentials_stay_with_the_registry_origin():
    seen = []

    def handler(request):
        seen.append((str(request.url), request.headers.get("Authorization")))
        if request.url.host == "storage.example":
            return httpx.Response(201)
        if "Authorization" not in request.headers:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "http://storage.example/upload/1"})
        return httpx.Response(200, content=b"blob")

    with Registry("reg.example", username="u", password="p", transport=httpx.MockTransport(handler)) as reg:
        reg.copy_blob("org/app", "sha256:" + "a" * 64, "org/src")
    upload = [auth for url, auth in seen if url.startswith("http://storage.example/")]
    assert upload == [None]
    assert any(auth and auth.startswith("Basic ") for url, auth in seen if "reg.example" in url)


@pytest.mark.parametrize(
    "text", ["reg..example/app", "-reg.example/app", "reg.example:99999/app", "reg_example.com/app"]
)
def test_registry_hosts_are_validated(text):
    with pytest.raises(UsageError, match="is not a registry host"):
        parse_ref(text, "image")


def test_ipv6_and_ports_are_registry_hosts():
    assert parse_ref("[::1]:5000/app:v1", "image").registry == "[::1]:5000"
    assert parse_ref("localhost:5000/app", "image").registry == "localhost:5000"


# -- foreign output -----------------------------------------------------------------------------
def test_foreign_output_cannot_issue_workflow_commands():
    out = io.StringIO()
    reporter = Reporter(stream=out, env={"GITHUB_ACTIONS": "true"})
    reporter.foreign("::set-output name=x::1\n::add-mask::y")
    lines = out.getvalue().splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and lines[1:] == ["::set-output name=x::1", "::add-mask::y", f"::{token}::"]
    plain = io.StringIO()
    Reporter(stream=plain, env={}).foreign("line\n")
    assert plain.getvalue() == "line\n"


# -- bad inputs that used to end in "internal error" ---------------------------------------------
@pytest.mark.parametrize(
    "argv,expected",
    [
        (
            ["smoke-ready", "--url", "http://127.0.0.1:1", "--timeout", "9" * 400 + "s"],
            "timeout: expected a duration of at most",
        ),
        (
            ["smoke-ready", "--url", "http://127.0.0.1:1", "--ca-bundle", "/etc/hostname"],
            "ca-bundle: '/etc/hostname' holds no PEM",
        ),
        (["alembic-preflight", "--alembic-command", "alembic 'x"], "alembic-command: cannot split it into words"),
        (["alembic-preflight", "--sql-path", "/"], "sql-path: '/' is a folder"),
        (["pin", "--remote", "https://example.invalid/{repo}/{0}"], "remote: only {repo}, {owner} and {name}"),
        (["pin", "--remote", "https://example.invalid/{repo}/{x}"], "remote: only {repo}, {owner} and {name}"),
    ],
)
def test_bad_input_is_a_clear_usage_error(argv, expected, gha_env, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[0] == "alembic-preflight":
        (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    code = main(argv, env=gha_env)
    out = capsys.readouterr().out
    assert code == 2 and expected in out, out
    assert "internal error" not in out


def test_a_pull_request_number_is_ascii_digits():
    from deploy_actions.act_plan import pull_request

    with pytest.raises(UsageError, match="pr: expected a pull request number"):
        pull_request("²", "b", "a" * 40, "main", "b" * 40)


def test_binary_files_and_option_like_refs_are_usage_errors(gha_env, capsys, tmp_path, monkeypatch):
    import os
    import subprocess

    monkeypatch.chdir(tmp_path)
    (tmp_path / "alembic.ini").write_bytes(os.urandom(64) + b"\xff\xfe")
    code = main(["alembic-preflight"], env=gha_env)
    assert code == 2 and "alembic.ini is not UTF-8 text" in capsys.readouterr().out
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "entry.sh").write_bytes(b"\xff\xfe\x00binary")
    code = main(["alembic-preflight", "--entrypoint", "entry.sh"], env=gha_env)
    assert code == 2 and "entrypoint: entry.sh:1: the entrypoint is not UTF-8 text" in capsys.readouterr().out
    subprocess.run(["git", "init", "-q"], check=True)
    code = main(["alembic-preflight"], env={**gha_env, "INPUT_CHANGED_SINCE": f"--output={tmp_path / 'written'}"})
    assert code == 2 and "changed-since: expected a git ref" in capsys.readouterr().out
    assert not (tmp_path / "written").exists()
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "x.yml").write_bytes(b"\xff\xfe\x00binary")
    code = main(["local-run", "--repo", str(tmp_path), "--workflow", "x.yml"], env=gha_env)
    assert code == 2 and "workflow: .github/workflows/x.yml:1: the workflow is not UTF-8" in capsys.readouterr().out


def test_a_glob_of_many_stars_ends():
    """3,000 stars used to hang docs-drift (catastrophic backtracking); a run of stars counts once."""
    from deploy_actions.docs.rules import matches

    assert not matches("docs/" + "b" * 200 + ".md", ["*" * 3000 + "a"])
    assert matches("docs/guide/a", ["***/a"]) and matches("a", ["**/a"]) and not matches("x/a", ["*a"])


def test_mkdocs_conventions_are_not_drift_and_real_drift_still_is(tmp_path, gha_env, capsys):
    """From issue 13: attr_list anchors, footnotes, fences indented in lists, generated
    (git-ignored) pages, `./file` and placeholder paths; a broken anchor and link remain."""
    import subprocess

    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nmarkdown_extensions: [attr_list, footnotes]\n")
    (tmp_path / ".gitignore").write_text("docs/reference/cli.md\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (docs / "index.md").write_text(
        "# Home\n\n## Field validators {#field-validator}\n\n"
        "See [validators](#field-validator) and [the CLI](reference/cli.md).\n\n"
        "A claim.[^1]\n\n[^1]: Footnote text.\n\n"
        "- Item\n\n    ```python\n    x = [a](b)\n    ```\n\n"
        "Configure `./pyproject.toml`, not `some/path/to/file.py`.\n\n"
        "[broken](#no-such-anchor) and [missing](missing.md).\n"
    )
    (tmp_path / ".docs-contract.yml").write_text('version: 1\ndocs:\n  - "docs/**/*.md"\n')
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    code = main(["--json", "docs-drift", "--root", str(tmp_path)], env=gha_env)
    report = json.loads(capsys.readouterr().out)["report"]
    assert code == 1
    assert sorted((d["line"], d["says"]) for d in report) == [
        (19, "link to #no-such-anchor"),
        (19, "link to missing.md"),
    ]


HOSTILE = {
    "README.md -> /dev/zero": ("README.md", "/dev/zero"),
    "README.md -> a file outside": ("README.md", "OUTSIDE"),
    "docs/guide.md is a FIFO": ("docs/guide.md", "FIFO"),
    "workflow -> /dev/zero": (".github/workflows/ci.yml", "/dev/zero"),
    "pyproject.toml -> /dev/zero": ("pyproject.toml", "/dev/zero"),
    "CHANGELOG.md is a FIFO": ("CHANGELOG.md", "FIFO"),
    "revision -> /dev/zero": ("migrations/versions/0001_x.py", "/dev/zero"),
    "alembic.ini is a FIFO": ("alembic.ini", "FIFO"),
}


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize(
    "argv",
    [
        ["docs-drift", "--root", "{root}"],
        ["pin", "--root", "{root}", "--check"],
        ["release-check", "--root", "{root}", "--tag", "v1.0.0"],
        ["alembic-preflight", "--working-directory", "{root}"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_hostile_repository_file_ends_the_run_with_one_line(case, argv, tmp_path, gha_env, capsys):
    """A pull request controls the repository: a committed symlink to /dev/zero, to a file
    outside, or a FIFO is refused at once with a line naming it (exit 2) by every command
    that would read it, and never read, blocked on or quoted."""
    import subprocess
    import time

    rel, kind = HOSTILE[case]
    root = tmp_path / "repo"
    for name, text in {
        "README.md": "# Project\n",
        "docs/guide.md": "# Guide\n",
        ".github/workflows/ci.yml": "on: push\njobs: {}\n",
        "pyproject.toml": '[project]\nname = "x"\nversion = "1.0.0"\n',
        "CHANGELOG.md": "# Changelog\n\n## [1.0.0] - 2026-01-01\n- first\n",
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/versions/0001_x.py": 'revision = "1"\ndown_revision = None\n',
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "private.txt").write_text("secret-outside-the-repository\n")
    (root / rel).unlink()
    if kind == "FIFO":
        os.mkfifo(root / rel)
    else:
        (root / rel).symlink_to(tmp_path / "private.txt" if kind == "OUTSIDE" else kind)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    started = time.monotonic()
    code = main([part.replace("{root}", str(root)) for part in argv], env=gha_env)
    out = capsys.readouterr().out
    assert time.monotonic() - started < 5
    assert "secret-outside" not in out and "Traceback" not in out and "internal error" not in out
    reads_it = {
        "docs-drift": rel in ("README.md", "docs/guide.md"),
        "pin": rel.endswith(".yml"),
        "release-check": rel in ("pyproject.toml", "CHANGELOG.md"),
        "alembic-preflight": rel.endswith(".py") or rel == "alembic.ini",
    }[argv[0]]
    if reads_it:
        # docs-drift checks the other pages and warns about this one; the rest cannot go on
        assert code == (0 if argv[0] == "docs-drift" else 2), out
        assert rel in out and ("not a regular file" in out or "leads outside the repository" in out), out


# -- round 2: names, digits, lines, credentials ---------------------------------------------------
def test_multi_line_inputs_end_lines_at_lf_only():
    from deploy_actions.remote.release import user_env
    from deploy_actions.values import ENV_NAME, parse_pairs

    for sep in ("\v", "\x85", "\u2028", "\f", "\x1c"):
        assert user_env(f"X=a{sep}COMPOSE_FILE=/etc/passwd", "IMAGE_TAG") == {"X": f"a{sep}COMPOSE_FILE=/etc/passwd"}
    assert parse_pairs("A=1\r\nB=2\n", "env", key=ENV_NAME) == {"A": "1", "B": "2"}


@pytest.mark.parametrize("text", ["{host}:٣١٨٣١", ":３０００", "[::1]:8٠80"])
def test_a_port_is_ascii_digits(text):
    from deploy_actions.compose.settings import _blue_green

    raw = {"strategy": "blue-green", "proxy-listen": text, "upstream-ports": "8001,8002"}
    with pytest.raises(UsageError, match="proxy-listen: expected"):
        _blue_green(raw, "IMAGE_TAG")


def test_numbers_durations_hosts_and_versions_are_ascii_digits():
    from deploy_actions.remote.hosts import parse_hosts
    from deploy_actions.values import parse_duration, parse_int
    from deploy_actions.versions import is_release

    for bad in ("٣", "²", "1_000", "9" * 5000):
        with pytest.raises(UsageError, match="replicas: expected a whole number"):
            parse_int(bad, "replicas")
    with pytest.raises(UsageError, match="timeout"):
        parse_duration("٣s", "timeout")
    with pytest.raises(UsageError, match="hosts"):
        parse_hosts("deploy@127.0.0.2:٢٢")
    assert not is_release("v١.0.0") and is_release("v1.0.0")


@pytest.mark.parametrize("name", ["LD_PRELOAD", "PATH", "BASH_ENV", "DOCKER_HOST", "GIT_SSH_COMMAND"])
def test_names_that_change_which_programs_run_are_refused_everywhere(name, tmp_path):
    from deploy_actions.act_plan import read_pairs_file
    from deploy_actions.compose.settings import _blue_green
    from deploy_actions.remote.release import parse_tag, user_env
    from deploy_actions.swarm.settings import _env_file

    with pytest.raises(UsageError, match=f"tag-variable: {name} changes which programs run"):
        parse_tag({"image-tag": "v1.0.0", "tag-variable": name, "require-release-tag": "true"})
    raw = {"strategy": "blue-green", "proxy-listen": ":8080", "upstream-ports": "8001,8002", "port-variable": name}
    raw["upstream-host"] = "127.0.0.1"
    with pytest.raises(UsageError, match=f"port-variable: {name} changes"):
        _blue_green(raw, "IMAGE_TAG")
    with pytest.raises(UsageError, match=f"env: {name} changes"):
        user_env(f"{name}=/tmp/x", "IMAGE_TAG")
    env_file = tmp_path / "stack.env"
    env_file.write_text(f"A=1\n{name}=/tmp/x\n")
    with pytest.raises(UsageError, match=rf"env-file: .*stack\.env:2: {name} changes"):
        _env_file(str(env_file))
    with pytest.raises(UsageError, match=rf"vars: .*vars\.env:1: {name} changes"):
        read_pairs_file(f"{name}=x\n", tmp_path / "vars.env", "vars")


def test_build_args_that_would_go_on_the_command_line_are_refused(tmp_path, gha_env, capsys):
    from deploy_actions.images.buildkit import check_build_args

    check_build_args(["BUILDKIT_INLINE_CACHE", "APP_VERSION", "BUILDKIT_CONTEXT_KEEP_GIT_DIR"])
    for name in ("DOCKER_HUB_TOKEN", "HOME", "LD_PRELOAD", "BUILDX_BUILDER"):
        with pytest.raises(UsageError, match=f"build-args: {name}: a build argument of this name"):
            check_build_args([name])
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    argv = ["build-push", "--image", "127.0.0.1:1/x/y", "--context", str(tmp_path)]
    code = main([*argv, "--build-args", "DOCKER_HUB_TOKEN=hunter2-token"], env=gha_env)
    out = capsys.readouterr().out
    assert code == 2 and "DOCKER_HUB_TOKEN: a build argument" in out and "hunter2" not in out


def test_an_image_name_with_credentials_is_refused_without_printing_them(gha_env, capsys):
    with pytest.raises(UsageError) as caught:
        parse_ref("u:s3cr3t-pw@127.0.0.1:5000/x/bp", "image")
    assert "s3cr3t" not in str(caught.value) and "registry-password" in str(caught.value)
    assert parse_ref("127.0.0.1:5000/x/bp@sha256:" + "a" * 64, "image").digest == "sha256:" + "a" * 64
    code = main(["build-push", "--image", "u:s3cr3t-pw@127.0.0.1:5000/x/bp"], env=gha_env)
    out = capsys.readouterr().out
    assert code == 2 and "s3cr3t" not in out
    summary = gha_env["GITHUB_STEP_SUMMARY"]
    assert not os.path.exists(summary) or "s3cr3t" not in Path(summary).read_text()


def test_pin_remote_is_never_an_option_nor_a_program(tmp_path, gha_env, capsys):
    from deploy_actions.pin_refs import Resolver

    marker = tmp_path / "ran"
    code = main(
        ["pin", "--root", str(tmp_path), "--remote", f"--upload-pack=touch {marker}; git-upload-pack {{repo}}"],
        env=gha_env,
    )
    assert code == 2 and "remote: expected a URL template, not an option" in capsys.readouterr().out
    # Below the input check too: git is told the URL is a URL.
    assert Resolver(f"--upload-pack=touch {marker}; git-upload-pack {{repo}}").refs("o/n") == {}
    assert Resolver(f"ext::sh -c touch% {marker}%; echo {{repo}}").refs("o/n") == {}
    assert not marker.exists()


def test_pin_names_an_unresolvable_ref_with_any_template(tmp_path, gha_env, capsys):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/n@v9\n")
    code = main(
        ["pin", "--root", str(tmp_path), "--remote", f"file://{tmp_path}/none/{{owner}}/{{name}}.git"], env=gha_env
    )
    out = capsys.readouterr().out
    assert code == 2 and "1 reference(s) do not resolve" in out and "internal error" not in out


def test_a_history_field_cannot_forge_rows_or_fields():
    from deploy_actions.values import history_field

    assert history_field("bot\n2026-01-01T00:00:00Z\tdeploy\tv9") == "bot?2026-01-01T00:00:00Z?deploy?v9"
    assert history_field("a\u2028b\x85c") == "a?b?c" and len(history_field("x" * 10_000)) == 100


def test_deploy_status_wraps_what_the_hosts_say(monkeypatch, gha_env, capsys):
    from deploy_actions.compose import status

    host = {
        "host": "deploy@127.0.0.2:2222",
        "ok": True,
        "tag": "v1.0.0",
        "running": [{"service": "::error::INJ-service", "image": "x", "image_id": "sha256:1"}],
        "history": [{"time": "t", "action": "::error::INJ-history", "tag": "v1", "result": "ok"}],
    }
    monkeypatch.setattr(status, "fetch", lambda spec: [host])
    argv = [
        "deploy-status",
        "--hosts",
        "deploy@127.0.0.2:2222",
        "--deploy-path",
        "/srv/x",
        "--insecure-skip-host-key-check",
    ]
    code = main(argv, env={**gha_env, "INPUT_SSH_KEY": "k"})
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    open_token = None
    for line in lines:
        if line.startswith("::stop-commands::"):
            open_token = line.removeprefix("::stop-commands::")
        elif open_token and line == f"::{open_token}::":
            open_token = None
        elif "INJ" in line:
            assert open_token, f"{line!r} is outside ::stop-commands::"


def test_a_deep_glob_on_a_deep_path_ends_at_once():
    import time

    from deploy_actions.docs.rules import matches

    deep = "/".join(["d"] * 25) + "/x.md"
    started = time.monotonic()
    assert matches(deep, ["/".join(["**"] * 12) + "/*.md"]) and not matches(deep, ["/".join(["**"] * 12) + "/*.txt"])
    assert not matches("a/" * 40 + "b", ["*a*a*a*a*a*a*a*a*a*a*a*a*c"])
    assert time.monotonic() - started < 1


def test_stack_files_with_unicode_replicas_or_integer_service_names(tmp_path):
    from deploy_actions.swarm import stackfile

    with pytest.raises(UsageError, match="deploy.replicas must be a whole number"):
        stackfile.load({"s.yml": "services:\n  web:\n    image: r/w\n    deploy: {replicas: '²'}\n"}, {})
    stack = stackfile.load({"s.yml": "services:\n  1:\n    image: r/w\n"}, {})
    assert list(stack.services) == ["1"]


@pytest.mark.parametrize("spec", ["inputs: 5", "inputs: [a, b]", "inputs: {a: 5}", "outputs: 5", "- 1"])
def test_a_wrongly_typed_action_file_is_drift_not_an_internal_error(spec, tmp_path, gha_env, capsys):
    (tmp_path / "act").mkdir()
    (tmp_path / "act" / "README.md").write_text("# A\n\n<!-- docs-drift:inputs -->\n<!-- /docs-drift:inputs -->\n")
    (tmp_path / "act" / "action.yml").write_text(spec + "\n")
    code = main(["docs-drift", "--root", str(tmp_path)], env=gha_env)
    out = capsys.readouterr().out
    assert code == 1 and "act/action.yml" in out and "internal error" not in out


@pytest.mark.parametrize(
    "workflow",
    [
        {"on": "push", "jobs": {"a": {"steps": 5}}},
        {"on": {"workflow_dispatch": 5}, "jobs": {"a": {"runs-on": 5, "steps": [{"uses": 5}]}}},
        {"on": {"workflow_dispatch": {"inputs": {"a": 5}}}, "jobs": {"a": {"steps": [{"uses": "./x", "with": 5}]}}},
        {"on": ["push"], "jobs": {"a": 5, "b": {"uses": "o/r/.github/workflows/x.yml@v1", "with": [1]}}},
    ],
)
def test_a_wrongly_typed_workflow_is_read_without_an_internal_error(workflow):
    from deploy_actions.act_plan import read_workflow

    read_workflow(workflow, "org/deploy-actions")


def test_a_link_with_an_anchor_to_a_generated_page_is_not_an_error(tmp_path, gha_env, capsys):
    """A page the docs build writes (git ignores it, it is not in the checkout), linked with an
    anchor: nothing to check, and certainly no internal error (it was FileNotFoundError)."""
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("docs/reference/cli.md\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the options](reference/cli.md#options).\n")
    (tmp_path / "README.md").write_text("# Project\n")
    code = main(["docs-drift", "--root", str(tmp_path)], env=gha_env)
    out = capsys.readouterr().out
    assert code == 0, out
