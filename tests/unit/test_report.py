from deploy_actions.smoke.http import Response
from deploy_actions.smoke.report import Check, diagnose, results_document, summary_markdown


def r(status=None, failure=None):
    return Response(url="u", status=status, failure=failure)


def test_diagnosis_names_the_likely_cause():
    assert "nothing is listening" in diagnose(
        r(failure="connection-refused"), r(failure="connection-refused"), "/ready", "/health"
    )
    assert "process is up (/health answers 200) but not ready" in diagnose(r(503), r(200), "/ready", "/health")
    assert "no /ready endpoint" in diagnose(r(404), r(200), "/ready", "/health")
    assert "ca-bundle" in diagnose(r(failure="tls"), None, "/ready", None)
    assert "unhealthy" in diagnose(r(503), r(500), "/ready", "/health")


def test_summary_table_and_failed_body():
    ok = Check("ready", "GET", "/ready", True, 200, 3, None, "HTTP 200")
    bad = Check(
        "create | item",
        "POST",
        "/api/items",
        False,
        500,
        4,
        "wrong-status",
        "expected status 201, got 500",
        body='{"error": "x"}',
    )
    doc = results_document("http://h", True, 1234, 5, [ok, bad])
    assert doc["ok"] is False and doc["checks"][1]["failure"] == "wrong-status"
    md = summary_markdown(doc)
    assert md.startswith("### ❌ smoke-ready: `http://h` ready after 1.2s (5 attempts)")
    assert "| create \\| item | `POST /api/items` | 500 | 4 ms | ❌ wrong-status: expected status 201, got 500 |" in md
    assert '{"error": "x"}' in md
