"""The two ways a command ends badly, mapped to the exit codes the actions promise."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


# `user:password@` in a URL or an image reference someone typed into the wrong input: a
# message may quote what was given, never a password in it.
# It starts only after a delimiter, its runs never backtrack (linear time on any message),
# and a host follows it (a message may name the form, `user:password@`, in prose).
_USERINFO = re.compile(r"(?<![^\s/'\"(])([^\s/@:'\"]++):[^\s/@'\"]++@(?=[\w\[])")


def without_credentials(message: str) -> str:
    return _USERINFO.sub(r"\1:***@", message) if "@" in message else message


class UsageError(Exception):
    """The caller's input is wrong (exit 2). `input` names the offending input so
    the message can say which one to fix; the message must never carry a secret."""

    def __init__(
        self,
        message: str,
        *,
        input: str | None = None,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ):
        super().__init__(without_credentials(message))
        self.input = input
        self.file = file
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.input}: {text}" if self.input else text


class CheckFailed(Exception):
    """The thing under check is not as it should be (exit 1). Domain code raises it and the
    command's Result annotates it: `detail` is the annotation's text where the message is a
    summary, `title`, `file` and `line` place it (a Dockerfile line, a smoke spec's call)."""

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        title: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ):
        super().__init__(message)
        self.detail, self.title, self.file, self.line = detail, title, file, line
