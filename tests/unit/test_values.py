import pytest

from deploy_actions.errors import UsageError
from deploy_actions.values import (
    format_duration,
    parse_bool,
    parse_duration,
    parse_headers,
    parse_http_url,
    parse_int,
    parse_list,
    parse_path,
    parse_status_list,
)


@pytest.mark.parametrize(
    "raw,seconds",
    [("30", 30), ("1.5s", 1.5), ("250ms", 0.25), ("2m", 120), ("1m30s", 90), ("1h", 3600), (" 2m 5s ", 125)],
)
def test_durations(raw, seconds):
    assert parse_duration(raw, "timeout") == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["", "soon", "5x", "m5", "-1s", "1.s"])
def test_bad_durations_name_the_input(raw):
    with pytest.raises(UsageError) as err:
        parse_duration(raw, "timeout")
    assert str(err.value).startswith("timeout: expected a duration")


def test_negative_number_is_below_minimum():
    with pytest.raises(UsageError, match="timeout: expected a duration of at least"):
        parse_duration("-5", "timeout", minimum=0.001)


def test_format_duration_round_trips_for_display():
    assert [format_duration(s) for s in (0.25, 1, 1.5, 60, 90)] == ["250ms", "1s", "1.5s", "1m", "1m30s"]


@pytest.mark.parametrize("raw,value", [("true", True), ("True", True), ("FALSE", False), (" false ", False)])
def test_yaml_core_booleans(raw, value):
    assert parse_bool(raw, "insecure") is value


@pytest.mark.parametrize("raw", ["yes", "1", "on", "tru"])
def test_other_booleans_refused(raw):
    with pytest.raises(UsageError, match="insecure: expected true or false"):
        parse_bool(raw, "insecure")


def test_int_bounds():
    assert parse_int("7", "n", minimum=1) == 7
    with pytest.raises(UsageError, match="n: expected a number ≥ 1"):
        parse_int("0", "n", minimum=1)
    with pytest.raises(UsageError, match="expected a whole number"):
        parse_int("1.5", "n")


def test_lists_split_on_newlines_and_commas():
    assert parse_list("a, b\n\nc,,\n d ") == ["a", "b", "c", "d"]
    assert parse_status_list("200, 204", "expected-status") == (200, 204)
    with pytest.raises(UsageError, match="expected-status: expected a number ≤ 599"):
        parse_status_list("200,700", "expected-status")


@pytest.mark.parametrize(
    "raw,url",
    [("http://127.0.0.1:8000/", "http://127.0.0.1:8000"), ("https://example.test/base/", "https://example.test/base")],
)
def test_urls(raw, url):
    assert parse_http_url(raw, "url") == url


@pytest.mark.parametrize("raw", ["127.0.0.1:8000", "ftp://host", "http://", "http://h:99999", "http://h/?q=1"])
def test_bad_urls(raw):
    with pytest.raises(UsageError) as err:
        parse_http_url(raw, "url")
    assert str(err.value).startswith("url: expected")


def test_paths():
    assert parse_path("/ready", "ready-path") == "/ready"
    assert parse_path("none", "health-path", allow_none=True) is None
    with pytest.raises(UsageError, match="ready-path: expected a path starting with /"):
        parse_path("ready", "ready-path")


def test_headers_parse_and_never_echo_values():
    assert parse_headers("Authorization: Bearer abc\n\nX-Env: stage", "headers") == {
        "Authorization": "Bearer abc",
        "X-Env": "stage",
    }
    with pytest.raises(UsageError) as err:
        parse_headers("X-Ok: 1\nBearer supersecret", "headers")
    assert "supersecret" not in str(err.value)
    assert "line 2" in str(err.value)


def test_the_live_release_is_the_oldest_a_host_serves():
    from deploy_actions.compose.status import oldest_live

    def host(tag, ok=True, live=None):
        return {
            "ok": ok,
            "tag": tag,
            **({"blue_green": {"live": live and {"colour": "blue", "tag": live}}} if live else {}),
        }

    assert oldest_live([host("v1.10.0"), host("v1.9.0")]) == "v1.9.0"  # by SemVer, not as text
    assert oldest_live([host("v2.0.0"), host("v2.0.0-rc.10"), host("v2.0.0-rc.2")]) == "v2.0.0-rc.2"
    # blue-green: the copy users reach is what counts
    assert oldest_live([host("v3.0.0", live="v2.1.0"), host("v3.0.0")]) == "v2.1.0"
    # hosts that did not answer, or run no release tag, say nothing
    assert oldest_live([host("v1.0.0", ok=False), host("latest"), host("")]) == ""
