"""The one reader (and writer) of files a user controls: a file named in an input (a smoke
spec, a contract, a secret `@file`) and every file of a repository under check (docs,
workflows, action files, revisions, pyproject.toml). A regular file of bounded size, decoded
as UTF-8 — never a device, a pipe or a folder; inside the repository after resolving
symlinks when there is one; and never quoted back in an error, since a mistyped path may
point at a private key. A pull request controls the repository: a symlink to /dev/zero or
to a file outside must end the run with one clear line, not hang it or leak the file."""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from deploy_actions.errors import UsageError

LIMIT = 1024 * 1024  # far above any spec or contract; far below what would hurt a runner
REPOSITORY_LIMIT = 16 * 1024 * 1024  # a repository's own files: the longest CHANGELOG, many times over


def _name(path: str | os.PathLike, root: str | os.PathLike | None) -> str:
    """The file as a message names it: relative to the repository it belongs to."""
    if root is None:
        return os.fspath(path)
    full, base = os.path.abspath(path), _absolute(os.fspath(root))
    return full[len(base) :].lstrip(os.sep).replace(os.sep, "/") if full.startswith(base + os.sep) else os.fspath(path)


@functools.lru_cache(maxsize=64)
def _absolute(root: str) -> str:
    return os.path.abspath(root).rstrip(os.sep)


@functools.lru_cache(maxsize=64)
def _real(root: str) -> str:
    """A repository root's real path, resolved once per run, not once per file read."""
    return os.path.realpath(root).rstrip(os.sep)


def inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """`path`, every symlink resolved, is `root` or below it."""
    real, base = os.path.realpath(path), _real(os.fspath(root))
    return real == base or real.startswith(base + os.sep)


def _refuse_outside(path: str | os.PathLike, root: str | os.PathLike | None, input_name: str, what: str) -> None:
    if root is not None and not inside(path, root):
        name = _name(path, root)
        raise UsageError(
            f"{name}: the {what} is a symlink that leads outside the repository; it is not read",
            input=input_name,
            file=name,
        )


def read_bytes(
    path: str | os.PathLike,
    input_name: str,
    *,
    what: str = "file",
    limit: int | None = None,
    root: str | os.PathLike | None = None,
) -> bytes:
    """The file's bytes (for a format that declares its own encoding, as Python's PEP 263).
    With `root`, the file belongs to that repository: it is named relative to it and must
    resolve inside it."""
    limit = limit or (LIMIT if root is None else REPOSITORY_LIMIT)
    name = _name(path, root)
    shown = name if root is not None else repr(name)
    if "\0" in os.fspath(path):  # the OS cannot take it; say so for the input, not as an internal error
        raise UsageError(f"expected a path, got {shown} with a NUL character", input=input_name)
    _refuse_outside(path, root, input_name, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {shown}: {exc.strerror}", input=input_name, file=name) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UsageError(f"the {what} {shown} is not a regular file", input=input_name, file=name)
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > limit:
            raise UsageError(
                f"the {what} {shown} is {info.st_size:,} bytes; at most {limit:,} are read", input=input_name, file=name
            )
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"the {what} {shown} is over {limit:,} bytes", input=input_name, file=name)
    return data


def read_text(
    path: str | os.PathLike,
    input_name: str,
    *,
    what: str = "file",
    limit: int | None = None,
    root: str | os.PathLike | None = None,
) -> str:
    """The file's text, as UTF-8; a stray byte is refused at file:line."""
    data = read_bytes(path, input_name, what=what, limit=limit, root=root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        name = _name(path, root)
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{name}:{line}: the {what} is not UTF-8 text (byte {exc.start}); is it the right file?",
            input=input_name,
            file=name,
            line=line,
        ) from None


def write_text(path: str | os.PathLike, text: str, root: str | os.PathLike, input_name: str, *, what: str) -> None:
    """Replace a repository file's text (a fix the user asked for), never through a symlink
    that leads outside the repository; its mode is kept."""
    _refuse_outside(path, root, input_name, what)
    real = os.path.realpath(path)
    if not os.path.isfile(real):
        name = _name(path, root)
        raise UsageError(f"the {what} {name} is not a regular file; it is not written", input=input_name, file=name)
    mode = stat.S_IMODE(os.stat(real).st_mode)
    partial = f"{real}.deploy-actions.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(partial, real)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
