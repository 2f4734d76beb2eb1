"""One rule for what a release is, used by tags, pinning, release checks, local runs and
deploys (local-run used to accept v01.2.3 through a second, looser pattern)."""

import pytest

from deploy_actions import act_plan
from deploy_actions.errors import UsageError
from deploy_actions.versions import is_prerelease, is_release, precedence


@pytest.mark.parametrize(
    "tag,release",
    [
        ("v1.2.3", True),
        ("v0.1.0-rc.1", True),
        ("v10.20.30", True),
        ("v01.2.3", False),
        ("v1.02.3", False),
        ("v1.2", False),
        ("1.2.3", False),
        ("v1.2.3+build.5", False),
        ("v1.2.3-", False),
        ("v1.2.3-01", False),
    ],
)
def test_one_rule_everywhere(tag, release):
    assert is_release(tag) is release
    if release:
        assert act_plan.tag_push(tag, "a" * 40).payload["ref"] == f"refs/tags/{tag}"
    else:
        with pytest.raises(UsageError, match="expected a release tag"):
            act_plan.tag_push(tag, "a" * 40)


def test_prerelease_and_order():
    assert is_prerelease("v1.0.0-rc.1") and not is_prerelease("v1.0.0") and not is_prerelease("v1-0")
    assert sorted(["v1.10.0", "v1.9.3", "v1.9.10"], key=precedence) == ["v1.9.3", "v1.9.10", "v1.10.0"]


def test_release_check_orders_prereleases_as_semver_does(tmp_path):
    """One ordering for the whole library: rc.10 comes after rc.2 (a string sort put it first)."""
    import subprocess

    from deploy_actions.commands.release_check import major_points_at

    who = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *who, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    for tag in ("v1.0.0-rc.2", "v1.0.0-rc.10", "v1"):
        subprocess.run(["git", "-C", str(tmp_path), "tag", tag], check=True)
    assert major_points_at(tmp_path, "v1") == "v1.0.0-rc.10"
