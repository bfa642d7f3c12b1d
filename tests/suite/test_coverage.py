"""Which operations a run covered and why not; which checks apply to a spec; what a spec without overlay leaves out."""

from __future__ import annotations

import json

from contract_tests.checks.applies import NO_OVERLAY, not_applicable
from contract_tests.coverage import BUDGET, READ_ONLY, coverage, summary
from contract_tests.results import CheckResult, Layer, Origin, Outcome
from contract_tests.schema_layer import spec_gap
from contract_tests.target import Exchange
from mockserver.spec.loader import build_spec

SPEC = build_spec({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
    "/things": {"get": {"operationId": "list", "responses": {"200": {"description": "ok"}}},
                "post": {"operationId": "make", "responses": {"200": {"description": "ok", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {"kind": {"type": "string"}}}}}},
                    "429": {"description": "slow down"}}}},
    "/things?beta=true": {"post": {"operationId": "make_beta", "responses": {"200": {"description": "ok"}}}},
    "/other": {"delete": {"operationId": "drop", "responses": {"200": {"description": "ok"}, "4XX": {"description": "no"}}}},
}})


def _result(operation: str, outcome: Outcome = Outcome.PASS) -> CheckResult:
    return CheckResult(check="schema:x", operation=operation, layer=Layer.SCHEMA, level="MUST", outcome=outcome)


def _exchange(method: str, url: str) -> Exchange:
    return Exchange(method, url, {}, "", 200, {}, "", 0.0)


def test_coverage_counts_requests_and_checks_and_says_why_not():
    entries = coverage(SPEC, [_result("GET /things"), _result("POST /things?beta=true"),
                              _result("DELETE /other", Outcome.SKIP)],
                       [_exchange("GET", "http://h/things?limit=2"), _exchange("POST", "http://h/things?beta=true")],
                       read_only=False, skipped={"POST /things": "No coverage cases could be generated"})
    table = {e["operation"]: e for e in entries}
    assert table["GET /things"] == {"operation": "GET /things", "requests": 1, "checks": 1, "covered": True,
                                    "reason": ""}
    assert table["POST /things?beta=true"]["requests"] == 1  # the spec keys the path with its query
    assert table["POST /things"]["reason"] == "Schemathesis generated no request: No coverage cases could be generated"
    assert table["DELETE /other"]["covered"] is False and table["DELETE /other"]["reason"] == "no selected check reaches it"
    assert summary(entries).startswith("Operations covered: 2 of 4; not covered: POST /things (Schemathesis")
    live = {e["operation"]: e["reason"] for e in coverage(SPEC, [], [], read_only=True, skipped={}, stopped="budget")}
    assert live == {"GET /things": BUDGET, "POST /things": READ_ONLY, "POST /things?beta=true": READ_ONLY,
                    "DELETE /other": READ_ONLY}


def test_checks_of_undocumented_operations_and_overlay_claims_do_not_apply():
    operations = {"GET /things", "POST /things"}
    assert not_applicable("POST /api-keys", "docs", operations, True) == \
        "not documented by the spec under test: POST /api-keys"
    assert not_applicable("POST /things", "overlay", operations, False) == NO_OVERLAY
    assert not_applicable("POST /things", "overlay", operations, True) is None
    assert not_applicable("*", "docs", operations, False) is None
    assert not_applicable("POST /things", "docs", operations, True, ("POST /api-keys",)) == \
        "not documented by the spec under test: POST /api-keys"


def test_an_undocumented_error_is_a_spec_gap_only_where_the_spec_documents_no_error():
    error = json.dumps({"error": {"message": "no key", "type": "invalid_request_error"}})
    origin, note = spec_gap(SPEC, "status_code_conformance", "POST /things", 401, "application/json", error)
    assert origin is Origin.SPEC_GAP and "documents no 401, 4XX or default" in note  # 429 alone covers no 401
    assert spec_gap(SPEC, "status_code_conformance", "POST /things", 401, "application/json", "oops")[0] is Origin.TARGET
    assert spec_gap(SPEC, "status_code_conformance", "DELETE /other", 418, "application/json", error)[0] is Origin.TARGET
    valid = spec_gap(SPEC, "response_schema_conformance", "POST /things", 200, "application/json", '{"kind": "a"}')
    assert valid[0] is Origin.SPEC_GAP
    invalid = spec_gap(SPEC, "response_schema_conformance", "POST /things", 200, "application/json", '{"kind": 1}')
    assert invalid[0] is Origin.TARGET
