"""The release a remote deploy puts on its hosts: the tag (a release unless told
otherwise), the variable that carries it, the user's variables beside it, and the overall
deadline — declared and checked alike by ssh-compose-deploy and swarm-deploy."""

from __future__ import annotations

from collections.abc import Mapping

from deploy_actions.errors import UsageError
from deploy_actions.images.reference import TAG
from deploy_actions.options import Option
from deploy_actions.values import ENV_NAME, parse_bool, parse_pairs, refuse_reserved
from deploy_actions.versions import is_release

IMAGE_TAG = Option("image-tag", "Tag to deploy: an existing, already-tested tag such as v1.2.3.", required=True)
REQUIRE_RELEASE_TAG = Option(
    "require-release-tag", "Refuse tags that are not vX.Y.Z[-pre].", default="true", switch=True
)
TIMEOUT = Option("timeout", "Overall deadline for the deploy.", default="30m")


def parse_tag(raw: Mapping[str, str]) -> tuple[str, str]:
    """(image-tag, tag-variable): an existing tag, a release unless told otherwise."""
    tag = raw["image-tag"].strip()
    if not TAG.match(tag):
        raise UsageError(f"{tag!r} is not a valid image tag", input="image-tag")
    if parse_bool(raw["require-release-tag"], "require-release-tag") and not is_release(tag):
        raise UsageError(
            f"expected a release tag like v1.2.3 (production deploys an existing, tested release), "
            f"got {tag!r}; set require-release-tag: false to deploy other tags",
            input="image-tag",
        )
    tag_variable = raw["tag-variable"].strip()
    if not ENV_NAME.match(tag_variable):
        raise UsageError(f"expected a variable name, got {tag_variable!r}", input="tag-variable")
    refuse_reserved(tag_variable, "tag-variable")
    return tag, tag_variable


def user_env(raw: str, tag_variable: str) -> dict[str, str]:
    env = parse_pairs(raw, "env", key=ENV_NAME, secret=True)
    for name in env:
        if name == tag_variable:
            raise UsageError(f"{name} is the tag variable: the deploy sets it from image-tag", input="env")
        refuse_reserved(name, "env")
    return env
