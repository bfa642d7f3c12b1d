"""The conformance suite under pytest: one run per test session, read check by check as the tests ask.

The session fixture starts the run's event stream for the checks pytest
selected (``-k``, deselection) and hands each test the results of its check;
at the end of the session the stream is closed, which closes the session
(created keys deleted, target closed) in the same place the CLI's run does.
"""

from __future__ import annotations

import pytest

from contract_tests import shared_budget
from contract_tests.runner import run_events
from contract_tests.session import Options, UsageError
from contract_tests.stream_reader import StreamReader


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, one budget for the whole run (contract_tests/shared_budget.py)."""
    config.stash[SHARED] = shared_budget.install(config, options_from(config))


SHARED = pytest.StashKey[shared_budget.XdistBudget]()


def options_from(config: pytest.Config, include: tuple[str, ...] = ()) -> Options:
    get = config.getoption
    return Options(base_url=get("ct_base_url"), api_key=get("ct_api_key"), spec=get("ct_spec"),
                   overlays=get("ct_overlay"), seed=get("ct_seed"), profile=get("ct_profile"),
                   max_requests=get("ct_max_requests"), max_spend=get("ct_max_spend"),
                   allow_writes=get("ct_allow_writes"), insecure=get("ct_insecure"), include=include,
                   policy=get("ct_policy"), balance_policy=get("ct_balance_policy"))


def selected_checks(items: list[pytest.Item]) -> tuple[str, ...]:
    """The check names of the conformance tests this session runs (those using ``conformance``, by ``check``)."""
    return tuple(dict.fromkeys(item.callspec.params["check"] for item in items
                               if "conformance" in getattr(item, "fixturenames", ())
                               and "check" in getattr(getattr(item, "callspec", None), "params", {})))


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest):
    options = options_from(request.config, selected_checks(request.session.items))
    try:
        options.on_target = request.config.stash[SHARED].attach
        reader = StreamReader(run_events(options))
    except UsageError as exc:
        pytest.exit(f"contract-tests: error: {exc}", returncode=2)
    yield reader
    reader.close()
