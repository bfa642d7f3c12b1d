"""A conformance run that fails in every way a report must show: for the report's browser tests and screenshot.

The embedded mock behind faults (tests/faults.py): keys that work without
authentication (MUST target violations, and a SHOULD one), a negative price
(upstream-spec gaps: only the overlay bounds prices) and a stream without
``[DONE]``. Deterministic for a seed, in-process, about ten seconds.
"""

from __future__ import annotations

from pathlib import Path

from contract_tests.reporting import report_files
from contract_tests.results import RunResult
from contract_tests.runner import run
from contract_tests.session import EMBEDDED_KEY, Options
from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.faults import FAULTS, FaultMiddleware
from tests.gateways import Handler

FAULT_NAMES = ("errors.auth_required", "models.non_negative_prices", "sse.done_last")


def faults(inner: Handler) -> Handler:
    for name in FAULT_NAMES:
        inner = FAULTS[name](inner)
    return inner


def faulty_app(api_key: str = EMBEDDED_KEY):
    return FaultMiddleware(create_app(MockConfig(api_key=api_key)), faults, admin_key=api_key)


def failing_run(report_dir: Path) -> RunResult:
    return run(Options(app=faulty_app()), *report_files(report_dir))
