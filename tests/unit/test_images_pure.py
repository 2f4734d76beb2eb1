import httpx
import pytest

from deploy_actions.errors import UsageError
from deploy_actions.images.reference import parse_ref
from deploy_actions.images.registry import Manifest, Registry, RegistryError, _challenge
from deploy_actions.images.tags import GitContext, compute, oci_labels, parse_labels, sanitise

SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.mark.parametrize(
    "text,registry,repo,tag,digest",
    [
        ("ghcr.io/org/app", "ghcr.io", "org/app", None, None),
        ("127.0.0.1:5000/team/app:v1.2.3", "127.0.0.1:5000", "team/app", "v1.2.3", None),
        ("localhost/app@sha256:" + "a" * 64, "localhost", "app", None, "sha256:" + "a" * 64),
        ("nginx", "docker.io", "library/nginx", None, None),
        ("org/app:1", "docker.io", "org/app", "1", None),
    ],
)
def test_references(text, registry, repo, tag, digest):
    ref = parse_ref(text, "image")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "expected an image name"),
        ("ghcr.io/Org/App", "must be lowercase: use 'org/app'"),
        ("ghcr.io/org/app@sha256:xyz", "expected a digest"),
        ("ghcr.io/org/a b", "not a valid image name"),
    ],
)
def test_bad_references(text, message):
    with pytest.raises(UsageError, match=message):
        parse_ref(text, "image")


def test_tag_not_allowed_where_tags_are_computed():
    with pytest.raises(UsageError, match="without a tag"):
        parse_ref("ghcr.io/org/app:v1", "image", allow_tag=False)


def test_release_tag_push():
    tags = compute(
        GitContext(event="push", ref="refs/tags/v1.2.3", sha=SHA),
        aliases=("minor", "major", "latest"),
        require_release=True,
    )
    assert tags.tags == ("v1.2.3", "v1.2", "v1", "latest", "sha-0123456")
    assert tags.version == "v1.2.3" and tags.immutable == {"v1.2.3", "sha-0123456"}


def test_prerelease_never_moves_aliases():
    tags = compute(GitContext(event="push", ref="refs/tags/v2.0.0-rc.1", sha=SHA), aliases=("major", "latest"))
    assert tags.tags == ("v2.0.0-rc.1", "sha-0123456")


@pytest.mark.parametrize("tag", ["1.2.3", "v1.2", "v01.2.3", "release-5"])
def test_non_semver_tag_refused_in_push_mode(tag):
    with pytest.raises(UsageError, match="version: expected a release version like v1.2.3"):
        compute(GitContext(event="push", ref=f"refs/tags/{tag}", sha=SHA), require_release=True)


def test_build_metadata_refused():
    with pytest.raises(UsageError, match="build metadata"):
        compute(GitContext(sha=SHA), version="v1.0.0+build.5")


def test_branch_and_pull_request():
    assert compute(GitContext(event="push", ref="refs/heads/feature/Login_2", sha=SHA)).tags == (
        "feature-Login_2",
        "sha-0123456",
    )
    pr = GitContext(event="pull_request", ref="refs/pull/7/merge", sha=SHA, pr_number=7, pr_head_sha=HEAD)
    assert compute(pr).tags == ("pr-7", "sha-fedcba9")
    assert compute(pr, sha_source="merge").tags == ("pr-7", "sha-0123456")


def test_explicit_version_and_extra_tags():
    tags = compute(
        GitContext(event="workflow_dispatch", ref="refs/heads/main", sha=SHA),
        version="v0.4.0",
        extra=("stable", "v0.4.0"),
    )
    assert tags.tags == ("v0.4.0", "sha-0123456", "stable")
    with pytest.raises(UsageError, match="tags: '-bad' is not a valid tag"):
        compute(GitContext(sha=SHA), extra=("-bad",))


def test_sanitise():
    assert sanitise("dependabot/pip/x==1.0") == "dependabot-pip-x-1.0"
    assert sanitise("..") == "branch"
    assert len(sanitise("a" * 300)) == 128


def test_labels():
    ctx = GitContext(repository="org/app", sha=SHA, server_url="https://github.com")
    tags = compute(ctx, version="v1.0.0")
    labels = oci_labels(
        ctx,
        tags,
        created="2026-01-01T00:00:00Z",
        title="app",
        user={"org.opencontainers.image.title": "App", "team": "core"},
    )
    assert labels["org.opencontainers.image.source"] == "https://github.com/org/app"
    assert labels["org.opencontainers.image.revision"] == SHA
    assert labels["org.opencontainers.image.version"] == "v1.0.0"
    assert labels["org.opencontainers.image.title"] == "App" and labels["team"] == "core"
    assert parse_labels("a.b=1\n\nc=two words") == {"a.b": "1", "c": "two words"}
    with pytest.raises(UsageError, match="labels: line 1: expected `key=value`"):
        parse_labels("Not A Key=1")


def test_www_authenticate_parsing():
    scheme, params = _challenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"')
    assert scheme == "bearer" and params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a:pull",
    }


def test_bearer_token_flow_with_basic_credentials_to_the_token_service():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, str(request.url), request.headers.get("Authorization")))
        if request.url.path == "/token":
            assert request.url.params["scope"] == "repository:org/app:pull"
            assert request.headers["Authorization"].startswith("Basic ")
            return httpx.Response(200, json={"token": "tok-1"})
        if request.headers.get("Authorization") != "Bearer tok-1":
            return httpx.Response(
                401, headers={"WWW-Authenticate": 'Bearer realm="https://reg.example/token",service="reg"'}
            )
        return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "b" * 64})

    with Registry("reg.example", username="u", password="p", transport=httpx.MockTransport(handler)) as reg:
        assert reg.digest("org/app", "v1") == "sha256:" + "b" * 64
        assert reg.digest("org/app", "v2") == "sha256:" + "b" * 64  # token reused for the same scope
    assert [s[1].split("?")[0] for s in seen] == [
        "https://reg.example/v2/org/app/manifests/v1",
        "https://reg.example/token",
        "https://reg.example/v2/org/app/manifests/v1",
        "https://reg.example/v2/org/app/manifests/v2",
    ]


def test_refused_token_and_forbidden_are_clear():
    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(401)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="https://reg.example/token"'})

    with (
        Registry("reg.example", username="u", password="wrong", transport=httpx.MockTransport(handler)) as reg,
        pytest.raises(RegistryError, match="refused the credentials"),
    ):
        reg.digest("org/app", "v1")
    forbidden = httpx.MockTransport(lambda request: httpx.Response(403))
    with Registry("reg.example", transport=forbidden) as reg, pytest.raises(RegistryError, match="packages: write"):
        reg.put_manifest("org/app", "v1", Manifest("application/vnd.oci.image.manifest.v1+json", "sha256:x", b"{}"))
