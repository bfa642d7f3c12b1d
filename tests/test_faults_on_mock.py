"""The Layer-2 faults pointed at the real embedded mock, through ASGI middleware.

For each check the bare mock passes, the mock behind that check's fault must
make it fail. Checks the mock does not pass yet (its LLM semantics are built
separately) are skipped with that reason, and start counting on their own as
soon as the mock passes them.
"""

from __future__ import annotations

import pytest

from contract_tests.checks import REGISTRY
from contract_tests.checks.context import CheckContext
from contract_tests.curl import EMBEDDED_ORIGIN
from contract_tests.results import Outcome
from contract_tests.runner import EMBEDDED_KEY, run_check
from contract_tests.target import SyncASGITransport, open_target
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.spec import load_spec
from tests.faults import FAULTS, FaultMiddleware

SPEC = load_spec()


def check_on(app, name: str):
    with open_target(EMBEDDED_ORIGIN + SPEC.base_path, EMBEDDED_KEY, inner=SyncASGITransport(app)) as target:
        return run_check(REGISTRY[name], CheckContext(target, SPEC, deterministic=True, allow_writes=True))


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_breaks_the_check_on_the_embedded_mock(name):
    bare = check_on(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), name)
    if bare.outcome is not Outcome.PASS:
        pytest.skip(f"the embedded mock does not pass {name} yet: {bare.findings[0].message if bare.findings else ''}")
    faulty = check_on(FaultMiddleware(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), FAULTS[name]), name)
    assert faulty.outcome is Outcome.FAIL
