"""The semantic checks' faults pointed at the real embedded mock, through ASGI middleware.

Every check passes on the bare mock, and the mock behind that check's fault
makes it fail.
"""

from __future__ import annotations

import pytest

from contract_tests.checks import check_named
from contract_tests.checks.context import CheckContext
from contract_tests.curl import EMBEDDED_ORIGIN
from contract_tests.results import Outcome
from contract_tests.runner import run_check
from contract_tests.session import EMBEDDED_KEY
from contract_tests.target import SyncASGITransport, open_target
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.spec import load_spec
from tests.faults import FAULTS, FaultMiddleware

SPEC = load_spec()


def check_on(app, name: str):
    with open_target(EMBEDDED_ORIGIN + SPEC.base_path, EMBEDDED_KEY, inner=SyncASGITransport(app)) as target:
        return run_check(check_named(name), CheckContext.open(target, SPEC, deterministic=True, allow_writes=True))


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_breaks_the_check_on_the_embedded_mock(name):
    bare = check_on(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), name)
    assert bare.outcome is Outcome.PASS, bare.findings
    faulty = check_on(FaultMiddleware(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), FAULTS[name]), name)
    assert faulty.outcome is Outcome.FAIL
