"""Entry point of every action step. Stdlib only, and written so that an old Python
can still parse it and print the one line that says what to do.

It creates (once) a virtualenv with the hash-locked dependencies under the runner's
tool cache, keyed by the lock file and the interpreter, then execs the CLI in it. A
second action in the same job, or a later job on a self-hosted runner, pays only the
interpreter start-up (and the step scripts then skip this file altogether).

Installing: uv when it is on PATH. Otherwise this interpreter's pip installs uv itself —
hash-locked in bootstrap-uv.lock, into the tool cache, no venv, no resolver — and uv does the rest:
about 4 s cold here, against 11 s for venv + ensurepip + pip. Without a usable pip, or when
no uv wheel fits this machine, pip installs the lock itself.

Usage: python3 bootstrap.py [COMMAND]   (no COMMAND: the root action's INPUT_COMMAND)
"""

import os
import sys

MIN_PYTHON = (3, 10)
IN_ACTIONS = os.environ.get("GITHUB_ACTIONS") == "true"


def fail(message, code=2):
    if IN_ACTIONS:
        message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        sys.stdout.write("::error title=deploy-actions::%s\n" % message)
    else:
        sys.stderr.write("deploy-actions: error: %s\n" % message)
    sys.exit(code)


if sys.version_info < MIN_PYTHON:
    fail("Python %d.%d or newer is needed, but %s is %s. Add actions/setup-python "
         "(python-version: '3.12') before this step." % (MIN_PYTHON + (sys.executable, sys.version.split()[0])))
if os.name == "nt" or os.environ.get("RUNNER_OS") == "Windows":
    fail("Windows runners are not supported: run this job on ubuntu-* or macos-* (Linux/macOS self-hosted work too).")

import hashlib  # noqa: E402 - only after the checks above

# Every job's first step runs this file, and most find the environment made: what only making
# it needs (fcntl, shutil, subprocess, time) is imported where it is used.

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = os.path.join(HERE, "requirements.lock")
UV_LOCK = os.path.join(HERE, "bootstrap-uv.lock")
PIP_INSTALL = ["install", "--quiet", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
               "--require-hashes", "--no-deps", "-r", LOCK]  # the lock is complete: nothing to resolve
READY = ".deploy-actions-ready"
# The library's compiled modules, by content (deploy_actions/bytecode.py, which uses it when
# it exists): act copies the library for every step, and this survives the copies.
BYTECODE = ".deploy-actions-bytecode"
# Bumped when what create() puts in the environment changes, so older ones are not reused.
# 2: dependencies byte-compiled at install; without that, a runner with PYTHONDONTWRITEBYTECODE
# (this repository's CI machine, many images) compiled them again in every step (~0.2 s).
LAYOUT = b"layout 2"


def cache_root():
    for var in ("RUNNER_TOOL_CACHE", "RUNNER_TEMP"):
        if os.environ.get(var):
            return os.path.join(os.environ[var], "deploy-actions")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "deploy-actions")


def interpreter():
    """The interpreter's own file, not the link or shim it was started by: the environment
    links to it, and a link may not outlive this run (a temporary folder, a moved tool cache)."""
    return os.path.realpath(sys.executable)


def venv_key():
    digest = hashlib.sha256()
    with open(LOCK, "rb") as fh:
        digest.update(fh.read())
    digest.update(interpreter().encode())
    digest.update(("%s %s" % (sys.version, os.uname().machine)).encode())
    digest.update(LAYOUT)
    return digest.hexdigest()[:16]


def run(argv, what):
    import subprocess

    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        sys.stdout.write(tail + "\n")
        hint = ""
        if what == "venv":
            hint = " (on Debian/Ubuntu install python3-venv, or add actions/setup-python)"
        fail("could not create the deploy-actions environment: %s failed%s" % (" ".join(argv[:3]), hint), 1)


def outer_pip():
    """This interpreter's own pip, if it can install into another environment (`--python`,
    pip 22.3+): then no venv needs ensurepip, which is most of a cold start."""
    if os.environ.get("DEPLOY_ACTIONS_NO_OUTER_PIP"):
        return False
    if sys.flags.no_site:  # started with -S, as the step scripts do: pip is in site-packages
        import site

        site.main()
    try:
        import pip
    except ImportError:
        return False
    try:
        return tuple(int(part) for part in pip.__version__.split(".")[:2]) >= (22, 3)
    except ValueError:
        return False


def pip_installed_uv(root):
    """uv from bootstrap-uv.lock (every wheel's hash), put in the tool cache by this interpreter's pip;
    None when that is not possible here (the caller falls back to pip)."""
    import shutil
    import subprocess

    with open(UV_LOCK, "rb") as fh:
        folder = os.path.join(root, "uv-" + hashlib.sha256(fh.read()).hexdigest()[:12])
    uv = os.path.join(folder, "bin", "uv")
    if os.access(uv, os.X_OK):
        return uv
    staging = "%s.%d" % (folder, os.getpid())
    proc = subprocess.run([sys.executable, "-m", "pip"] + PIP_INSTALL[:-2]
                          + ["--only-binary", ":all:", "--target", staging, "-r", UV_LOCK],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, PIP_ROOT_USER_ACTION="ignore"))
    if proc.returncode != 0 or not os.access(os.path.join(staging, "bin", "uv"), os.X_OK):
        shutil.rmtree(staging, ignore_errors=True)
        sys.stdout.write("deploy-actions: no uv for this machine (%s); installing with pip\n"
                         % (proc.stdout.strip().splitlines() or ["?"])[-1])
        return None
    try:
        os.rename(staging, folder)
    except OSError:  # another job put it there first
        shutil.rmtree(staging, ignore_errors=True)
    return uv if os.access(uv, os.X_OK) else None



def installer(root):
    """("uv", path) or ("pip", None), and how uv was found, for the log."""
    import shutil

    if os.environ.get("DEPLOY_ACTIONS_NO_UV"):
        return None, "pip"
    uv = shutil.which("uv")
    if uv:
        return uv, "uv"
    if outer_pip():
        uv = pip_installed_uv(root)
        if uv:
            return uv, "uv (installed with pip)"
    return None, "pip"


def create(venv, uv):
    import shutil

    python = os.path.join(venv, "bin", "python")
    if uv:
        run([uv, "venv", "--quiet", "--python", interpreter(), venv], "venv")
        run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python, "--require-hashes", "-r", LOCK],
            "install")
    elif outer_pip():
        run([interpreter(), "-m", "venv", "--without-pip", venv], "venv")
        run([sys.executable, "-m", "pip", "--python", python] + PIP_INSTALL, "install")
    else:
        run([interpreter(), "-m", "venv", venv], "venv")
        run([python, "-m", "pip"] + PIP_INSTALL, "install")
    # The step scripts start the CLI in this environment directly when its lock is theirs.
    shutil.copyfile(LOCK, os.path.join(venv, "requirements.lock"))
    os.mkdir(os.path.join(venv, BYTECODE))


def usable(venv):
    """Finished, and its interpreter still there: one made by an older bootstrap may link to
    an interpreter path that has since gone, and is then made again."""
    return os.path.exists(os.path.join(venv, READY)) and os.access(os.path.join(venv, "bin", "python"), os.X_OK)


def ensure_venv():
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    key = venv_key()
    venv = os.path.join(root, "venv-" + key)
    marker = os.path.join(venv, READY)
    if usable(venv):
        if not os.path.exists(os.path.join(venv, "requirements.lock")):  # made by an older bootstrap
            import shutil

            shutil.copyfile(LOCK, os.path.join(venv, "requirements.lock"))
        if not os.path.isdir(os.path.join(venv, BYTECODE)):  # likewise
            try:  # noqa: SIM105 - no contextlib import for one call
                os.makedirs(os.path.join(venv, BYTECODE), exist_ok=True)
            except OSError:  # an environment this user may only read: it runs, only slower
                pass
        return venv
    # Another job on the same self-hosted runner may be creating it: wait for its lock.
    import fcntl
    import shutil
    import time

    with open(os.path.join(root, "venv-%s.lock" % key), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if usable(venv):
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a half-made one from a cancelled job
        started = time.monotonic()
        if IN_ACTIONS:
            sys.stdout.write("::group::deploy-actions: installing dependencies (first use on this runner)\n")
        sys.stdout.flush()
        try:
            uv, how = installer(root)
            sys.stdout.write("deploy-actions: creating %s with %s\n" % (venv, how))
            sys.stdout.flush()
            create(venv, uv)
        finally:
            if IN_ACTIONS:
                sys.stdout.write("::endgroup::\n")
        with open(marker, "w") as fh:
            fh.write(key + "\n")
        sys.stdout.write("deploy-actions: dependencies ready in %.1fs\n" % (time.monotonic() - started))
        sys.stdout.flush()
    return venv


def remember(python):
    """Later actions of this job start with the environment's own Python (their step
    script reads DEPLOY_ACTIONS_RUNTIME) instead of looking python3 up again."""
    path = os.environ.get("GITHUB_ENV")
    if IN_ACTIONS and path and os.environ.get("DEPLOY_ACTIONS_RUNTIME") != python:
        try:
            with open(path, "a") as fh:
                fh.write("DEPLOY_ACTIONS_RUNTIME=%s\n" % python)
        except OSError:
            pass


def main():
    python = os.environ.get("DEPLOY_ACTIONS_PYTHON")
    if not python:
        python = os.path.join(ensure_venv(), "bin", "python")
        remember(python)
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUTF8"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    sys.stdout.flush()
    os.execve(python, [python, "-m", "deploy_actions"] + sys.argv[1:], env)


if __name__ == "__main__":
    main()
