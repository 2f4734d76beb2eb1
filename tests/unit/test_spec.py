import pytest

from conftest import ROOT
from deploy_actions.errors import UsageError
from deploy_actions.smoke import spec

GOOD = """\
version: 1
headers: {Accept: application/json}
calls:
  - name: list
    path: /api/items
    expect:
      status: [200, 204]
      json: {"items[0].id": 1}
      max-latency: 250ms
  - name: create
    method: POST
    path: /api/items
    headers: {X-Trace: abc}
    json: {name: x}
"""


def test_good_spec_becomes_calls_with_lines_and_merged_headers():
    calls = spec.parse(GOOD, "smoke.yml")
    assert [c.name for c in calls] == ["list", "create"]
    first, second = calls
    assert first.line == 4 and second.line == 10
    assert first.statuses == (200, 204) and first.max_latency == 0.25
    assert first.json_values == {"items[0].id": 1}
    assert second.method == "POST" and second.has_json and second.json == {"name": "x"}
    assert second.headers == {"Accept": "application/json", "X-Trace": "abc"}
    assert second.statuses == ()  # any 2xx


def error_of(text: str) -> UsageError:
    with pytest.raises(UsageError) as err:
        spec.parse(text, "smoke.yml")
    return err.value


def test_not_yaml_names_file_and_line():
    err = error_of("calls:\n  - name: [unclosed\n")
    assert err.input == "smoke-spec" and err.file == "smoke.yml" and err.line == 3
    assert "not valid YAML" in str(err)


def test_schema_error_names_call_field_and_line():
    err = error_of(
        "calls:\n  - name: ok\n    path: /a\n  - name: create item\n    path: /b\n    expect:\n      status: abc\n"
    )
    assert err.line == 7
    assert "calls[1] ('create item').expect.status" in str(err)


def test_unknown_field_and_missing_path():
    assert "'paht' was unexpected" in str(error_of("calls:\n  - name: a\n    paht: /x\n"))
    err = error_of("calls:\n  - name: a\n    method: GET\n")
    assert "'path' is a required property" in str(err) and err.line == 2


def test_bad_json_path_is_caught_at_load():
    err = error_of("calls:\n  - name: a\n    path: /\n    expect:\n      json:\n        'a..b[': 1\n")
    assert err.line == 6 and "cannot read path" in str(err)


def test_empty_and_bad_latency_and_bad_schema():
    assert "empty" in str(error_of(""))
    err = error_of("calls:\n  - name: a\n    path: /\n    expect:\n      max-latency: soon\n")
    assert err.line == 5 and "max-latency" in str(err)
    err = error_of("calls:\n  - name: a\n    path: /\n    expect:\n      schema: {type: 12}\n")
    assert err.line == 5 and "not a valid JSON Schema" in str(err)


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match="cannot read the smoke spec"):
        spec.load(str(tmp_path / "nope.yml"))


def test_a_spec_validated_once_skips_jsonschema_in_the_next_step(tmp_path):
    """Each step is its own process; the second one to load the same spec in the same
    environment does not import jsonschema. An invalid spec is never remembered."""
    import subprocess
    import sys
    import uuid

    if sys.prefix == sys.base_prefix:
        pytest.skip("the cache lives beside a virtualenv")
    spec = tmp_path / "smoke.yml"
    spec.write_text(
        f"# {uuid.uuid4()}\ncalls:\n  - name: list\n    path: /items\n"
        "    expect: {status: 200, schema: {type: array}}\n"
    )
    probe = (
        "import sys; from deploy_actions.smoke import spec; calls = spec.load(sys.argv[1]); "
        "print(len(calls), 'jsonschema' in sys.modules)"
    )
    env = {"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, env=env)
    second = subprocess.run([sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, env=env)
    assert first.stdout.split() == ["1", "True"], first.stderr
    assert second.stdout.split() == ["1", "False"], second.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(f"# {uuid.uuid4()}\ncalls: 3\n")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", probe, str(bad)], capture_output=True, text=True, env=env)
        assert "is not of type 'array'" in proc.stderr
