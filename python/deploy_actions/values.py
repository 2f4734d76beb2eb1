"""Pure converters from the strings that inputs arrive as (workflow `with:`, env, argv)
to typed values. Each raises UsageError naming the input, and never echoes a value
of an input marked secret (callers pass ``secret=True``)."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from deploy_actions.errors import UsageError

# YAML 1.2 core schema booleans, as actions/toolkit's getBooleanInput accepts them.
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def _shown(raw: str, secret: bool) -> str:
    return "(hidden)" if secret else repr(raw)


def parse_bool(raw: str, name: str) -> bool:
    value = raw.strip()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"expected true or false, got {raw!r}", input=name)


def parse_int(raw: str, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    # ASCII digits only: int() also takes Arabic-Indic digits (٣), `1_000` and 5,000-digit numbers.
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", raw.strip()):
        raise UsageError(f"expected a whole number, got {raw[:40]!r}", input=name)
    value = int(raw.strip(), 10)
    if minimum is not None and value < minimum:
        raise UsageError(f"expected a number ≥ {minimum}, got {value}", input=name)
    if maximum is not None and value > maximum:
        raise UsageError(f"expected a number ≤ {maximum}, got {value}", input=name)
    return value


MAX_DURATION = 7 * 86400  # longer than any CI job may run; beyond it timers overflow


def parse_duration(raw: str, name: str, *, minimum: float = 0.0) -> float:
    """Seconds from `90`, `1.5s`, `250ms`, `2m`, `1m30s`. A bare number means seconds,
    as in most CI timeout settings."""
    text = raw.strip().replace(" ", "")
    seconds: float | None = None
    if re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", text):
        seconds = float(text)
    elif text and _DURATION_PART.sub("", text) == "":
        seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))
    if seconds is None:
        raise UsageError(f"expected a duration such as 30s, 250ms, 2m or 1m30s, got {raw!r}", input=name)
    if seconds > MAX_DURATION:
        raise UsageError(f"expected a duration of at most {MAX_DURATION // 86400} days, got {raw!r}", input=name)
    if seconds < minimum:
        floor = format_duration(minimum) if minimum else "0"
        raise UsageError(f"expected a duration of at least {floor}, got {raw!r}", input=name)
    return seconds


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"


def parse_list(raw: str) -> list[str]:
    """Items separated by newlines or commas; blanks and surrounding spaces dropped."""
    return [item.strip() for item in re.split(r"[\n,]", raw) if item.strip()]


def parse_status_list(raw: str, name: str) -> tuple[int, ...]:
    items = parse_list(raw)
    if not items:
        raise UsageError("expected one or more HTTP status codes such as 200 or 200,204", input=name)
    return tuple(parse_int(item, name, minimum=100, maximum=599) for item in items)


def split_url(url: str, name: str) -> SplitResult:
    """urlsplit, with its ValueError (`http://[::1`, a port of 99999) as a UsageError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"expected a URL such as http://127.0.0.1:8000/ready ({exc})", input=name) from None
    return parts


def refuse_unsafe_url(url: str, name: str) -> None:
    """Credentials in a URL would be printed before any mask and handed whole (`user:pass@host`)
    to the name resolver; control characters would split a request line or a log line.
    Neither is echoed back."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UsageError(
            "expected a URL without spaces or control characters (a newline or tab was given?)", input=name
        )
    if "@" in split_url(url, name).netloc:
        raise UsageError(
            "expected a URL without user:password@ (it would be printed and sent to the name "
            "resolver); pass credentials as a header (headers input, from secrets)",
            input=name,
        )


def parse_http_url(raw: str, name: str) -> str:
    """An absolute http(s) URL with a host; a trailing slash is dropped so paths join cleanly."""
    url = raw.strip()
    example = "http://127.0.0.1:8000"
    refuse_unsafe_url(url, name)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"expected an http(s) URL such as {example}, got {url!r} ({exc})", input=name) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"expected an http(s) URL such as {example}, got {url!r}", input=name)
    if parts.query or parts.fragment:
        raise UsageError(f"expected a base URL without ?query or #fragment, got {url!r}", input=name)
    return url.rstrip("/")


def parse_path(raw: str, name: str, *, allow_none: bool = False) -> str | None:
    """A URL path such as /ready. With allow_none, `none` turns the check off."""
    path = raw.strip()
    if allow_none and path.lower() in ("none", "off"):
        return None
    if not path.startswith("/") or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        also = " (or none to turn it off)" if allow_none else ""
        raise UsageError(f"expected a path starting with / such as /ready{also}, got {raw!r}", input=name)
    return path


HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names the shell, the dynamic loader or the tools the library runs (docker, git, ssh, act)
# act on: set by a user, they would change which programs run, or where the docker CLI
# connects, rather than what a service sees. One policy, wherever a user's name reaches an
# environment: env, tag-variable, port-variable, env files, vars and secrets files.
RESERVED_ENV = re.compile(
    r"^(PATH|IFS|ENV|BASH_ENV|CDPATH|PS4|SHELLOPTS|BASHOPTS|GLOBIGNORE|HOME|TMPDIR|LD_[A-Z0-9_]*|DYLD_[A-Z0-9_]*"
    r"|DOCKER_(HOST|CONTEXT|CONFIG|CERT_PATH|TLS|TLS_VERIFY|API_VERSION|BUILDKIT)|BUILDKIT_HOST|BUILDX_[A-Z0-9_]*"
    r"|SSH_AUTH_SOCK|SSH_ASKPASS[A-Z_]*|GIT_[A-Z0-9_]*|PYTHON[A-Z0-9_]*|NODE_OPTIONS|PERL5[A-Z0-9_]*|RUBYOPT)$"
)


def refuse_reserved(name: str, input_name: str, *, file: str | None = None, line: int | None = None) -> None:
    if RESERVED_ENV.match(name):
        where = f"{file}:{line}: " if file and line else ""
        raise UsageError(
            f"{where}{name} changes which programs run (or where the docker CLI connects), not what the "
            "service sees; it cannot be set here",
            input=input_name,
            file=file,
            line=line,
        )


LABEL_KEY = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")


def history_field(text: str, limit: int = 100) -> str:
    """A value for one field of a host's tab-separated deploy history (who deployed, which
    commit): tabs, line breaks and other control characters would forge fields or rows."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


def lines(raw: str) -> list[str]:
    """A multi-line input's lines: split at LF only (a CR before it dropped)."""
    return [line.removesuffix("\r") for line in raw.split("\n")]


def parse_pairs(
    raw: str,
    name: str,
    *,
    key: re.Pattern[str],
    separator: str = "=",
    example: str = "KEY=value",
    hint: str = "",
    secret: bool = False,
    unique: str = "",
    required_value: bool = False,
) -> dict[str, str]:
    """One `key<separator>value` per line, blank lines skipped. A secret input's error cites
    the line number only, never the line. `unique` names a key that may not come twice
    ("secret id"); `required_value` refuses an empty value. Lines end at LF (CRLF too), as
    GitHub's multi-line inputs do: a \v, \x85 or U+2028 inside a value stays in the value
    and cannot start a new `KEY=value`."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(lines(raw), 1):
        if not line.strip():
            continue
        left, sep, value = line.partition(separator)
        if not sep or not key.match(left.strip()) or (required_value and not value.strip()):
            got = "" if secret else f", got {line.strip()!r}"
            raise UsageError(f"line {number}: expected `{example}`{hint}{got}", input=name)
        if unique and left.strip() in pairs:
            raise UsageError(f"line {number}: {unique} {left.strip()!r} given twice", input=name)
        pairs[left.strip()] = value.strip()
    return pairs


def parse_headers(raw: str, name: str) -> dict[str, str]:
    """`Name: value` per line. Values are secrets (tokens, cookies)."""
    return parse_pairs(raw, name, key=HEADER_NAME, separator=":", example="Name: value", secret=True)
