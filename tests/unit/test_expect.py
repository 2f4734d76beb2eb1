import json

import pytest

from deploy_actions.smoke.expect import _MISSING, judge, lookup, same, split_path
from deploy_actions.smoke.http import Response


def answer(status=200, body=None, seconds=0.01, failure=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    return Response(
        url="u",
        status=None if failure else status,
        body=raw,
        seconds=seconds,
        failure=failure,
        error="boom" if failure else "",
    )


def test_paths():
    assert split_path("$.items[0].id") == ["items", 0, "id"]
    assert split_path("a.b") == ["a", "b"]
    doc = {"items": [{"id": 7}], "a": {"b": None}}
    assert lookup(doc, "items[0].id") == 7
    assert lookup(doc, "a.b") is None
    assert lookup(doc, "items[3].id") is _MISSING
    with pytest.raises(ValueError):
        split_path("a..b[")


def test_json_equality_keeps_bool_and_int_apart():
    assert same(1, 1.0)
    assert not same(True, 1)
    assert not same({"a": 1}, {"a": 1, "b": 2})


def test_judge_rules():
    assert judge(answer(204))[0] is None
    assert judge(answer(500)) == ("wrong-status", "expected status 2xx, got 500")
    assert judge(answer(200), statuses=(201,))[1] == "expected status 201, got 200"
    assert judge(answer(failure="timeout"))[0] == "timeout"
    assert judge(answer(200, b"<html>"), json_values={"a": 1})[0] == "wrong-body"
    kind, text = judge(answer(200, {"status": "ok"}), json_values={"status": "ready"})
    assert kind == "wrong-body" and text == 'expected status = "ready", got "ok"'
    assert "has no missing" in judge(answer(200, {}), json_values={"missing": 1})[1]
    kind, text = judge(answer(200, {"n": "x"}), schema={"properties": {"n": {"type": "integer"}}})
    assert kind == "wrong-body" and "at n" in text
    kind, text = judge(answer(200, {}, seconds=0.6), max_latency=0.5)
    assert kind == "too-slow" and "600ms" in text
