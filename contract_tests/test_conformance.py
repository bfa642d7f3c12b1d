"""The suite as pytest tests: one test per Schemathesis check and per semantic check.

``pytest contract_tests --base-url URL --api-key KEY`` (options in the root
``conftest.py``); ``-k``, ``-x`` and the rest of pytest work as usual. SHOULD
failures are warnings, not failures. Each test reads its check's results from
the session's one run (``conformance``, in ``conftest.py``).
"""

from __future__ import annotations

import warnings

import pytest

from contract_tests.checks import all_checks
from contract_tests.results import MUST, CheckResult, Outcome
from contract_tests.schema_layer import CHECKS, PREFIX


def judge(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.outcome is Outcome.FAIL]
    must = [r for r in failed if r.level == MUST]
    for r in failed:
        if r.level != MUST:
            warnings.warn(f"SHOULD not met: {r.check} on {r.operation}: {r.findings[0].message}", stacklevel=2)
    if must:
        pytest.fail("\n\n".join(f"{r.check} on {r.operation}: {f.message}\n[{f.origin.value}] {f.request}\n{f.curl}"
                                for r in must for f in r.findings), pytrace=False)
    if results and all(r.outcome is Outcome.SKIP for r in results):
        pytest.skip(results[0].skip_reason)


@pytest.mark.parametrize("check", [PREFIX + name for name in CHECKS], ids=list(CHECKS))
def test_schema(check, conformance):
    judge(conformance.results_of(check))


@pytest.mark.parametrize("check", [check.name for check in all_checks()], ids=str)
def test_semantics(check, conformance):
    judge(conformance.results_of(check))
