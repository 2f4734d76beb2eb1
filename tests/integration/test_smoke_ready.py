"""smoke-ready against a real HTTP server (examples/hello) on loopback: each scenario
asserts the exit code and exactly what a runner would get."""

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, free_port, read_outputs
from deploy_actions.cli import main

SPEC = str(ROOT / "examples" / "hello" / "smoke.yml")


def smoke(env, capsys, *args, url):
    code = main(["smoke-ready", "--url", url, *args], env=env)
    out = capsys.readouterr().out
    outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
    return code, out, outputs


def test_not_ready_at_first_then_ready_runs_the_spec(start_app, gha_env, capsys, tmp_path):
    app = start_app(ready_after=0.6)
    code, out, outputs = smoke(gha_env, capsys, "--smoke-spec", SPEC, "--timeout", "10s", url=app.url)
    assert code == 0, out
    assert outputs["ready"] == "true"
    assert int(outputs["attempts"]) >= 3
    # Counted from the first poll, which starts a little after the app did.
    assert 300 <= int(outputs["ready-after-ms"]) < 600 + 400
    results = json.loads(outputs["results"])
    assert [c["name"] for c in results["checks"]] == ["ready", "health", "list items", "create item"]
    assert all(c["ok"] for c in results["checks"]) and results["ok"] is True
    assert "::error" not in out
    group = out.split(f"::group::smoke calls from {SPEC}\n", 1)[1].split("::endgroup::", 1)[0]
    lines = group.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✔ list items: GET /api/items → HTTP 200 in ")
    assert lines[1].startswith("✔ create item: POST /api/items → HTTP 201 in ")
    assert "::add-mask::" not in out  # the spec's own headers (Accept: application/json) are not secrets
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith(f"### ✅ smoke-ready: `{app.url}` ready after")
    assert "| create item | `POST /api/items` | 201 |" in summary
    # The POST really reached the service with its JSON body.
    assert app.items[-1] == {"name": "smoke", "id": 2}
    # Polls of /ready never came faster than the first interval (≤ 10 requests a second).
    ready_polls = [t for t, _, p in app.requests if p == "/ready"]
    assert all(b - a >= 0.095 for a, b in zip(ready_polls, ready_polls[1:], strict=False))


def test_never_ready_reports_last_answer_and_diagnosis(start_app, gha_env, capsys, tmp_path):
    app = start_app(ready_after=None)
    code, out, outputs = smoke(gha_env, capsys, "--timeout", "1s", url=app.url)
    assert code == 1
    assert outputs["ready"] == "false" and outputs["ready-after-ms"] == ""
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=smoke-ready%3A ready (wrong-status)::GET ")
    assert "did not answer 200 within 1s" in errors[0]
    assert "the process is up (/health answers 200) but not ready" in errors[0]
    assert "database not migrated yet" in errors[0]
    summary = (tmp_path / "summary.md").read_text()
    assert "### ❌ smoke-ready" in summary and "not ready" in summary
    assert "database not migrated yet" in summary
    checks = json.loads(outputs["results"])["checks"]
    assert [(c["name"], c["ok"], c["status"]) for c in checks] == [("ready", False, 503), ("health", True, 200)]


def test_ready_but_a_smoke_call_fails_points_at_the_spec_line(start_app, gha_env, capsys):
    app = start_app(ready_after=0, broken_items=True)
    code, out, outputs = smoke(gha_env, capsys, "--smoke-spec", SPEC, "--timeout", "10s", url=app.url)
    assert code == 1
    assert outputs["ready"] == "true"
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    spec_lines = Path(SPEC).read_text().splitlines()
    lines = [n for n, text in enumerate(spec_lines, 1) if text.startswith("  - name:")]
    assert len(errors) == 2
    where = f"file={SPEC.replace(':', '%3A')},line={lines[0]}::"
    assert errors[0].startswith(f"::error title=smoke-ready%3A list items (wrong-status),{where}")
    assert "expected status 200, got 500" in errors[0] and "items table missing" in errors[0]
    assert f"line={lines[1]}::" in errors[1]
    failed = [c for c in json.loads(outputs["results"])["checks"] if not c["ok"]]
    assert [c["failure"] for c in failed] == ["wrong-status", "wrong-status"]


def test_connection_refused(gha_env, capsys):
    code, out, outputs = smoke(gha_env, capsys, "--timeout", "500ms", url=f"http://127.0.0.1:{free_port()}")
    assert code == 1
    checks = json.loads(outputs["results"])["checks"]
    assert {c["failure"] for c in checks} == {"connection-refused"}
    assert "nothing is listening there" in out


def test_secret_headers_are_sent_but_never_shown(start_app, gha_env, capsys, tmp_path):
    app = start_app(ready_after=0)
    spec = tmp_path / "auth.yml"
    spec.write_text("calls:\n  - name: whoami\n    path: /api/whoami\n    expect: {json: {user: nobody}}\n")
    env = {**gha_env, "INPUT_HEADERS": "Authorization: Bearer s3cret-token-value"}
    code, out, outputs = smoke(env, capsys, "--smoke-spec", str(spec), url=app.url)
    assert code == 1  # authorised (200) but the body check fails on purpose
    assert "::add-mask::Bearer s3cret-token-value" in out.splitlines()[:2]
    whoami = json.loads(outputs["results"])["checks"][-1]
    assert whoami["status"] == 200 and whoami["message"] == 'expected user = "nobody", got "smoke"'
    everything = out.split("\n", 2)[2] + json.dumps(outputs) + (tmp_path / "summary.md").read_text()
    assert "s3cret-token-value" not in everything


def test_redirects_followed_or_not(start_app, gha_env, capsys):
    app = start_app(ready_after=0)
    code, _, _ = smoke(gha_env, capsys, "--ready-path", "/moved-ready", "--health-path", "none", url=app.url)
    assert code == 0
    code, out, outputs = smoke(
        gha_env,
        capsys,
        "--ready-path",
        "/moved-ready",
        "--no-follow-redirects",
        "--timeout",
        "300ms",
        "--health-path",
        "none",
        url=app.url,
    )
    assert code == 1 and json.loads(outputs["results"].splitlines()[-1])["checks"][0]["status"] == 302


@pytest.fixture
def tls_app(start_app, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    app = start_app(ready_after=0)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app.socket = context.wrap_socket(app.socket, server_side=True)
    return app.url.replace("http://", "https://"), cert


def test_tls_verified_by_default_with_ca_bundle_or_insecure(tls_app, gha_env, capsys):
    url, cert = tls_app
    code, out, outputs = smoke(gha_env, capsys, "--timeout", "500ms", "--health-path", "none", url=url)
    assert code == 1 and json.loads(outputs["results"])["checks"][0]["failure"] == "tls"
    assert "certificate not trusted" in out
    code, out, _ = smoke(gha_env, capsys, "--ca-bundle", str(cert), "--health-path", "none", url=url)
    assert code == 0, out
    code, out, _ = smoke(gha_env, capsys, "--insecure", "--health-path", "none", url=url)
    assert code == 0 and "::warning title=smoke-ready::TLS certificate verification is off" in out


def test_cli_for_a_person_and_for_a_machine(start_app):
    app = start_app(ready_after=0.3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env["PYTHONPATH"] = str(ROOT / "python")
    base = [sys.executable, "-m", "deploy_actions"]
    person = subprocess.run(
        base + ["smoke-ready", "--url", app.url, "--smoke-spec", SPEC],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert person.returncode == 0, person.stdout + person.stderr
    assert "::" not in person.stdout and "\033[" not in person.stdout  # not a terminal: no colour
    assert "✔ /ready answered 200 after" in person.stdout
    assert "✔ smoke-ready: all 4 checks passed" in person.stdout
    machine = subprocess.run(
        base + ["--json", "smoke-ready", "--url", app.url], env=env, capture_output=True, text=True, timeout=60
    )
    doc = json.loads(machine.stdout)
    assert machine.returncode == 0 and doc["ok"] is True and doc["ready"] is True
