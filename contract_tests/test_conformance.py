"""The suite as pytest tests: one test per Layer-2 check and per Schemathesis check.

``pytest contract_tests --base-url URL --api-key KEY`` (options in the root
``conftest.py``); ``-k``, ``-x`` and the rest of pytest work as usual. SHOULD
failures are warnings, not failures.
"""

from __future__ import annotations

import warnings

import pytest

from contract_tests.checks import all_checks
from contract_tests.results import CheckResult, Outcome
from contract_tests.runner import run_check
from contract_tests.schema_layer import CHECKS, PREFIX


def judge(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.outcome is Outcome.FAIL]
    must = [r for r in failed if r.level == "MUST"]
    for r in failed:
        if r.level != "MUST":
            warnings.warn(f"SHOULD not met: {r.check} on {r.operation}: {r.findings[0].message}", stacklevel=2)
    if must:
        pytest.fail("\n\n".join(f"{r.check} on {r.operation}: {f.message}\n[{f.origin.value}] {f.request}\n{f.curl}"
                                for r in must for f in r.findings), pytrace=False)
    if results and all(r.outcome is Outcome.SKIP for r in results):
        pytest.skip(results[0].skip_reason)


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.name)
def test_semantics(check, conformance):
    _, ctx = conformance
    judge([run_check(check, ctx)])


@pytest.mark.parametrize("name", list(CHECKS))
def test_schema(name, schema_results):
    judge([r for r in schema_results if r.check == PREFIX + name])
