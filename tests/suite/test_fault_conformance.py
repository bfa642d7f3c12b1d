"""With faults on, the conformance run reports exactly the injected faults.

Every status, header and body a fault gives is documented in the overlaid
spec, so the only check that can fail is "not a server error", and only for
the 5xx answers the journal shows as injected.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.faults import build_scenario
from tests.schemathesis_config import schemathesis_config

SCENARIO = build_scenario({
    "seed": 5,
    "errors": [{"status": status, "rate": 0.1} for status in (429, 500, 502, 503, 504)],
    "rate_limits": {"rpm": 100_000, "tpm": 10_000_000},
    "unavailable_models": ["openai/gpt-4o-mini"],
})
APP = create_app(MockConfig(api_key=DEFAULT_API_KEY, scenario=SCENARIO))
CONFIG = schemathesis_config(
    generation={"mode": "positive", "max-examples": 10},
    headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    checks={"not_a_server_error": {"enabled": False}},
)
SCHEMA = schemathesis.openapi.from_asgi("/__mock/openapi.json", APP, config=CONFIG)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_faulty_answers_conform(case):
    case.call_and_validate()
    for entry in APP.state.faults.journal.last():  # this case's calls and those of the checks
        if entry["status"] >= 500:
            assert entry["fault"] in (f"error:{entry['status']}", "unavailable:openai/gpt-4o-mini"), entry


def test_the_suite_reports_exactly_the_injected_faults():
    from contract_tests.runner import run
    from contract_tests.session import EMBEDDED_KEY, Options

    # Faults off, the same run passes: tests/suite/test_runner.py::test_cli_runs_the_embedded_mock_and_writes_every_report.
    scenario = build_scenario({"seed": 3, "errors": [{"status": 503, "rate": 0.05}]})
    faulty = run(Options(app=create_app(MockConfig(api_key=EMBEDDED_KEY, scenario=scenario))))
    assert faulty.exit_code == 1 and faulty.failed
    for result in faulty.failed:  # every finding is one of the injected 503s
        for finding in result.findings:
            assert "503" in finding.response + finding.message and "injected fault" in finding.response + finding.message
