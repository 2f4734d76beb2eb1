"""Registry credentials for one docker CLI process, without writing them anywhere.

BuildKit reads registry credentials through the CLI (cache import, buildx --push), and the
CLI only knows a config file. So the build gets a private DOCKER_CONFIG for its lifetime:
the user's own config folder mirrored (buildx builders, plugins, contexts and other logins
keep working) plus a `credHelpers` entry for this one registry, pointing at a helper that
prints the credentials from the CLI's environment. The password is never in a file, an
argv or the user's config; the folder is removed when the build ends."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping

HELPER = "deploy-actions-build"
SECRET_VARIABLE = "DEPLOY_ACTIONS_REGISTRY_CREDENTIALS"

# The helper protocol: `get`, the server on stdin, JSON on stdout. Only `get` is offered;
# `store` and `erase` fail, so `docker login` inside the build cannot persist anything.
HELPER_SCRIPT = f"""#!/bin/sh
[ "$1" = get ] || exit 1
printf '%s' "${SECRET_VARIABLE}"
"""


def _user_config_dir(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def _user_config(folder: str) -> dict:
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            config = json.load(fh)
        return config if isinstance(config, dict) else {}
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def registry_login(
    registry: str, username: str, password: str, env: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """Yield the environment additions that log one CLI process in to `registry`."""
    env = env if env is not None else os.environ
    if not password:
        yield {}
        return
    user_dir = _user_config_dir(env)
    base = env.get("RUNNER_TEMP") or None
    folder = tempfile.mkdtemp(prefix="deploy-actions-docker-", dir=base)
    try:
        os.chmod(folder, 0o700)
        if os.path.isdir(user_dir):
            for name in os.listdir(user_dir):
                if name != "config.json":
                    os.symlink(os.path.join(user_dir, name), os.path.join(folder, name))
        config = _user_config(user_dir)
        helpers = dict(config.get("credHelpers") or {})
        helpers[registry] = HELPER
        config["credHelpers"] = helpers
        (config.get("auths") or {}).pop(registry, None)  # ours wins over a stored login
        bin_dir = os.path.join(folder, "bin")
        os.mkdir(bin_dir, 0o700)
        helper = os.path.join(bin_dir, f"docker-credential-{HELPER}")
        with open(helper, "w", encoding="utf-8") as fh:
            fh.write(HELPER_SCRIPT)
        os.chmod(helper, 0o700)
        with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        credentials = json.dumps({"ServerURL": registry, "Username": username or "oauth2", "Secret": password})
        yield {
            "DOCKER_CONFIG": folder,
            "PATH": bin_dir + os.pathsep + env.get("PATH", os.defpath),
            SECRET_VARIABLE: credentials,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
