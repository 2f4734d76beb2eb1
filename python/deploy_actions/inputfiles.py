"""Reading a file a user names in an input (a smoke spec, a contract, a secret `@file`):
a regular file of bounded size, decoded as UTF-8 — never a device, a pipe or a folder,
and never quoted back in an error, since a mistyped path may point at a private key."""

from __future__ import annotations

import os
import stat

from deploy_actions.errors import UsageError

LIMIT = 1024 * 1024  # far above any spec or contract; far below what would hurt a runner


def read_text(path: str | os.PathLike, input_name: str, *, what: str = "file", limit: int = LIMIT) -> str:
    shown = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {shown!r}: {exc.strerror}", input=input_name) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UsageError(f"the {what} {shown!r} is not a regular file", input=input_name)
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > limit:
            raise UsageError(
                f"the {what} {shown!r} is {info.st_size:,} bytes; at most {limit:,} are read", input=input_name
            )
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"the {what} {shown!r} is over {limit:,} bytes", input=input_name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"the {what} {shown!r} is not UTF-8 text (byte {exc.start}); is it the right file?", input=input_name
        ) from None
