"""The pure parts of building with BuildKit: reading a Dockerfile, reading BuildKit's plain
progress of two generations, the docker command line, the inputs, the cache source."""

import pytest

from deploy_actions.errors import UsageError
from deploy_actions.images import build_options, buildkit, dockerfile
from deploy_actions.images.docker_cli import Cli, major
from deploy_actions.images.progress import Progress
from deploy_actions.images.tags import cache_source
from deploy_actions.versions import precedence

MULTI = """# syntax=docker/dockerfile:1
# escape=\\
FROM python:3.12 AS build
RUN pip install \\
      --no-cache-dir \\
    # a comment inside the continuation
      -r requirements.txt
COPY <<EOF /etc/app.conf
RUN this is heredoc text, not an instruction
EOF
FROM scratch
RUN pip install \\
      --no-cache-dir \\
      -r requirements.txt
COPY --link --from=build /app /app
RUN --mount=type=cache,target=/root/.cache make
"""


def test_dockerfile_lines_continuations_heredocs_and_stages():
    parsed = dockerfile.parse(MULTI)
    assert parsed.directives == {"syntax": "docker/dockerfile:1", "escape": "\\"}
    keywords = [(i.line, i.keyword, i.stage) for i in parsed.instructions]
    assert keywords == [
        (3, "FROM", 0),
        (4, "RUN", 0),
        (8, "COPY", 0),
        (11, "FROM", 1),
        (12, "RUN", 1),
        (15, "COPY", 1),
        (16, "RUN", 1),
    ]
    assert parsed.instructions[1].text == "RUN pip install --no-cache-dir -r requirements.txt"
    # The same instruction in both stages: BuildKit's stage name or index tells them apart.
    assert dockerfile.line_of(parsed, "[build 2/3] RUN pip install --no-cache-dir -r requirements.txt") == 4
    assert dockerfile.line_of(parsed, "[stage-1 2/4] RUN pip install --no-cache-dir -r requirements.txt") == 12
    assert dockerfile.line_of(parsed, "RUN pip install    --no-cache-dir -r requirements.txt") == 4  # classic
    assert dockerfile.line_of(parsed, "[stage-1 4/4] RUN --mount=type=cache,target=/root/.cache make") == 16
    assert dockerfile.line_of(parsed, "RUN nowhere") is None
    assert dockerfile.parse("FROM a\nRUN one `\n  two\n".replace("FROM", "# escape=`\nFROM")).instructions[1].text == (
        "RUN one two"
    )


def test_buildkit_only_syntax_is_named_with_its_line():
    found = dockerfile.buildkit_only(dockerfile.parse(MULTI))
    assert (1, "the `# syntax=docker/dockerfile:1` directive") in found
    assert (8, "a heredoc in `COPY`") in found
    assert (15, "`COPY --link`") in found
    assert (16, "`RUN --mount`") in found
    classic = "FROM scratch\nCOPY --chown=1:1 a /a\nRUN echo '<<' && x=$((1<<2))\n"
    assert dockerfile.buildkit_only(dockerfile.parse(classic)) == []


OLD_FAILURE = """#1 [internal] load build definition from Dockerfile
#1 sha256:336eef
#1 DONE 0.0s
#9 importing cache manifest from 127.0.0.1:5443/app:v1
#9 ERROR: pulling from host 127.0.0.1:5443 failed with status code [manifests v1]: 400 Bad Request
#5 [stage-0 2/3] RUN make
#5 0.051 compiling
#5 0.052 make: *** [all] Error 2
#6 [stage-1 1/2] RUN sleep 5
#5 ERROR: executor failed running [/bin/sh -c make]: exit code: 2
#6 ERROR: context canceled
------
 > [stage-0 2/3] RUN make:
------
executor failed running [/bin/sh -c make]: exit code: 2
"""

NEW_FAILURE = """#7 [build 3/4] RUN make
#7 0.101 make: *** [all] Error 2
#7 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2
------
 > [build 3/4] RUN make:
0.101 make: *** [all] Error 2
------
Dockerfile:12
--------------------
  10 |     COPY . .
  11 |     # build it
  12 | >>> RUN make
--------------------
ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2
"""


def feed(text: str) -> Progress:
    progress = Progress()
    for line in text.splitlines():
        progress.feed(line)
    return progress


def test_progress_of_docker_20_10_names_the_step_not_the_cache_import():
    progress = feed(OLD_FAILURE)
    failure = progress.failure()
    assert failure.message == "executor failed running [/bin/sh -c make]: exit code: 2"
    assert failure.step == "[stage-0 2/3] RUN make"  # not the cache import, not the cancelled stage
    assert failure.line is None  # this generation does not say; the Dockerfile is searched instead
    assert failure.tail == ["compiling", "make: *** [all] Error 2"]
    assert progress.side_errors == [
        "pulling from host 127.0.0.1:5443 failed with status code [manifests v1]: 400 Bad Request"
    ]


def test_progress_of_newer_buildkit_takes_its_line():
    failure = feed(NEW_FAILURE).failure()
    assert failure.line == 12 and failure.step == "[build 3/4] RUN make"
    assert failure.message == 'failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2'
    parse = feed(
        "#1 DONE 0.0s\n"
        "failed to solve with frontend dockerfile.v0: dockerfile parse error line 7: unknown instruction: RUNN\n"
    )
    assert parse.failure().line == 7 and parse.failure().step is None


def test_progress_cached_and_ran_steps():
    progress = feed("#4 [2/3] RUN heavy\n#4 CACHED\n#5 [3/3] COPY app /app\n#5 DONE 0.1s\n")
    assert progress.step_state("RUN heavy") == "cached" and progress.step_state("COPY app /app") == "ran"


LEGACY = Cli("/usr/bin/docker", "20.10.24", buildx=False)
BUILDX = Cli("/usr/bin/docker", "27.3.1", buildx=True)


def test_command_keeps_every_value_that_could_be_secret_off_the_argv():
    request = buildkit.Request(
        context="ctx",
        dockerfile="ctx/Dockerfile",
        tags=("reg/app:v1",),
        build_args={"PIP_INDEX_URL": "https://user:tok@pypi.example/simple", "DOCKER_HOST_HINT": "x"},
        secrets={"npm": "npm-token-value"},
        secret_files={"netrc": "/home/u/.netrc"},
        cache_from=("reg/app:v0", "type=registry,ref=reg/app:cache"),
    )
    argv, env = buildkit.command(request, LEGACY, "/tmp/iid")
    joined = " ".join(argv)
    assert "npm-token-value" not in joined and "tok@" not in joined
    assert env["DOCKER_BUILDKIT"] == "1" and env["PIP_INDEX_URL"].endswith("/simple")
    assert "--secret id=npm,env=DEPLOY_ACTIONS_BUILD_SECRET_0" in joined
    assert env["DEPLOY_ACTIONS_BUILD_SECRET_0"] == "npm-token-value"
    assert "--secret id=netrc,src=/home/u/.netrc" in joined
    assert "--build-arg DOCKER_HOST_HINT=x" in joined  # would steer the CLI itself as a variable
    assert "--cache-from reg/app:v0 --cache-from reg/app:cache" in joined  # the engine's BuildKit takes refs
    assert "--build-arg BUILDKIT_INLINE_CACHE=1" in joined and "--cache-to" not in joined
    assert argv[-2:] == ["--", "ctx"]


def test_command_for_buildx():
    request = buildkit.Request(
        context=".",
        dockerfile="Dockerfile",
        tags=("reg/app:v1", "reg/app:sha-1"),
        cache_from=("reg/app:v0",),
        platforms=("linux/amd64", "linux/arm64"),
        provenance="mode=max",
        sbom="true",
        build_contexts={"base": "docker-image://reg/base:1"},
        builder_name="ci",
        output="push",
    )
    argv, env = buildkit.command(request, BUILDX, "/tmp/iid", "/tmp/meta.json")
    joined = " ".join(argv)
    assert argv[1:5] == ["buildx", "build", "--builder", "ci"] and "DOCKER_BUILDKIT" not in env
    assert "--cache-from type=registry,ref=reg/app:v0" in joined and "--cache-to type=inline" in joined
    assert "--platform linux/amd64,linux/arm64" in joined and "--provenance=mode=max" in joined
    assert "--sbom=true" in joined and "--build-context base=docker-image://reg/base:1" in joined
    assert "--metadata-file /tmp/meta.json" in joined and "--push" in joined and "--load" not in joined
    none = buildkit.Request(context=".", dockerfile="D", tags=("a:b",), output="none")
    assert "--load" not in buildkit.command(none, BUILDX, "/i")[0]


RAW = {
    "builder": "",
    "network": "",
    "secrets": "",
    "secret-files": "",
    "ssh": "",
    "cache-from": "",
    "cache-to": "",
    "no-cache": "false",
    "platforms": "",
    "build-contexts": "",
    "provenance": "",
    "sbom": "",
}


def options(**given):
    return build_options.parse({**RAW, **{k.replace("_", "-"): v for k, v in given.items()}}, {})


def test_build_options_and_what_needs_buildx():
    parsed = options(secrets="npm=abc=def\n\ngh=x", platforms="linux/amd64", cache_to="type=inline")
    assert parsed.secrets == {"npm": "abc=def", "gh": "x"}
    assert parsed.buildx_only() == ["platforms"]
    assert options(cache_from="reg/app:v1\ntype=registry,ref=reg/app:c").buildx_only() == []
    assert options(cache_from="type=gha").buildx_only() == ["cache-from"]
    assert options(builder="my-builder").builder_name == "my-builder"
    assert options(cache_from="none").auto_cache is False and options().auto_cache is True
    assert options(no_cache="true").auto_cache is False
    assert options(secrets="a=b").buildkit_only() == ["secrets"]


@pytest.mark.parametrize(
    "given, message",
    [
        ({"secrets": "token-without-id"}, "secrets: line 1: expected `id=value`"),
        ({"secrets": "a=1\na=2"}, "secrets: line 2: secret id 'a' given twice"),
        ({"cache_from": "type=registry"}, "cache-from: type=registry needs ref="),
        ({"cache_from": "type=inline"}, "cache-from: expected an image reference"),
        ({"cache_from": "UPPER/Case"}, "cache-from: repository names must be lowercase"),
        ({"cache_to": "reg/app:cache"}, "cache-to: expected type=inline"),
        ({"platforms": "linux"}, "platforms: expected os/arch"),
        ({"build_contexts": "=x"}, "build-contexts: line 1: expected `name=path-or-url`"),
        ({"ssh": "default"}, "SSH_AUTH_SOCK is not set"),
        ({"ssh": "key=/nonexistent"}, "ssh: line 1: 'key': no agent socket or key file"),
        ({"network": "bridge"}, "network: expected one of default, host, none"),
        ({"provenance": "mode=max\nx"}, "provenance: expected true, false"),
    ],
)
def test_bad_build_options(given, message):
    with pytest.raises(UsageError) as caught:
        options(**given)
    assert message in str(caught.value)
    assert "token-without-id" not in str(caught.value)


def test_cache_source_is_the_newest_earlier_release():
    tags = ["latest", "sha-1234567", "v1.2.0", "v1.10.0", "v1.10.1-rc.2", "v1.10.1-rc.10", "main"]
    assert cache_source(tags, "v1.10.1") == "v1.10.1-rc.10"
    assert cache_source(tags, "v1.10.0") == "v1.2.0"
    assert cache_source(tags, None) == "v1.10.1-rc.10"
    assert cache_source(tags, "v1.0.0") is None and cache_source([], None) is None
    assert precedence("v1.0.0-rc.2") < precedence("v1.0.0-rc.10") < precedence("v1.0.0")
    assert precedence("v1.0.0-alpha") < precedence("v1.0.0-alpha.1") < precedence("v1.0.0-beta")


def test_cli_version_major():
    assert major("20.10.24+dfsg1") == 20 and major("28.2.2") == 28 and major("") is None
