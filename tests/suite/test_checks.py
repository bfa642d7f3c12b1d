"""Self-proof: every semantic check passes on the reference gateway and fails on its faulty one."""

from __future__ import annotations

import pytest

from contract_tests.checks import all_checks, check_named
from contract_tests.checks.context import CheckContext
from contract_tests.results import Outcome
from contract_tests.runner import run_check
from contract_tests.target import open_target
from mockserver.spec import load_spec
from tests.faults import FAULTS, missing
from tests.gateways import ADMIN_KEY, POLICIES, ReferenceGateway, mock_transport

SPEC = load_spec()
CHECKS = sorted(check.name for check in all_checks())


def run_one(name: str, handler, *, allow_writes: bool = True):
    with open_target("http://gateway.test/v1", ADMIN_KEY, inner=mock_transport(handler)) as target:
        ctx = CheckContext.open(target, SPEC, deterministic=True, allow_writes=allow_writes, policies=POLICIES)
        return run_check(check_named(name), ctx)


def test_every_check_has_a_fault():
    assert sorted(FAULTS) == CHECKS


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_on_the_reference_gateway(name):
    result = run_one(name, ReferenceGateway())
    assert result.outcome is Outcome.PASS, [f.message for f in result.findings]


@pytest.mark.parametrize("name", CHECKS)
def test_check_fails_on_its_faulty_gateway(name):
    result = run_one(name, FAULTS[name](ReferenceGateway()))
    assert result.outcome is Outcome.FAIL, result
    finding = result.findings[0]
    assert finding.message and finding.curl.startswith("curl ")
    assert ADMIN_KEY not in finding.curl + finding.request + finding.response


def test_write_checks_skip_without_allow_writes():
    result = run_one("keys.deleted_key_rejected", ReferenceGateway(), allow_writes=False)
    assert result.outcome is Outcome.SKIP and "--allow-writes" in result.skip_reason


def test_missing_management_path_is_reported_as_drift():
    result = run_one("keys.created_key_authenticates", missing("/api-keys")(ReferenceGateway()))
    assert result.outcome is Outcome.FAIL
    assert "documented operation missing on target: POST /api-keys answered 404" in result.findings[0].message


def test_overlay_based_check_is_reported_as_upstream_gap():
    result = run_one("errors.error_shape", FAULTS["errors.error_shape"](ReferenceGateway()))
    assert result.findings[0].origin.value == "upstream-spec gap"


def test_docs_describe_every_check():
    from pathlib import Path

    from contract_tests.schema_layer import CHECKS as SCHEMA_CHECKS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "conformance-suite.md").read_text()
    missing = [name for name in CHECKS + [f"schema:{n}" for n in SCHEMA_CHECKS] if f"`{name}`" not in docs]
    assert not missing
