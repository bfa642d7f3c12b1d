"""Fixtures of the conformance suite under pytest: one session (target, budget, redaction) per test run."""

from __future__ import annotations

import pytest

from contract_tests import shared_budget
from contract_tests.runner import Options, UsageError, open_session


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, one budget for the whole run (contract_tests/shared_budget.py)."""
    config.stash[SHARED] = shared_budget.install(config, options_from(config))


SHARED = pytest.StashKey[shared_budget.XdistBudget]()


def options_from(config: pytest.Config) -> Options:
    get = config.getoption
    return Options(base_url=get("ct_base_url"), api_key=get("ct_api_key"), spec=get("ct_spec"),
                   overlays=get("ct_overlay"), seed=get("ct_seed"), profile=get("ct_profile"),
                   max_requests=get("ct_max_requests"), max_spend=get("ct_max_spend"),
                   allow_writes=get("ct_allow_writes"), insecure=get("ct_insecure"), report_dir=None)


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest):
    try:
        with open_session(options_from(request.config)) as session:
            request.config.stash[SHARED].attach(session.target)
            ctx = session.context()
            yield session, ctx
            if session.writes and not session.target.budget.exhausted:
                ctx.cleanup()
    except UsageError as exc:
        pytest.exit(f"contract-tests: error: {exc}", returncode=2)


@pytest.fixture(scope="session")
def schema_results(conformance):
    session, _ = conformance
    return list(session.schema_layer().run())
