"""The semantic checks' faults pointed at the real embedded mock, through ASGI middleware.

Every check passes on the bare mock, and the mock behind that check's fault
makes it fail.
"""

from __future__ import annotations

import pytest

from contract_tests.checks import check_named
from contract_tests.checks.context import CheckContext
from contract_tests.checks.policies import BUNDLED_ROUTING, Policies
from contract_tests.curl import EMBEDDED_ORIGIN
from contract_tests.results import Outcome
from contract_tests.runner import run_check
from contract_tests.session import EMBEDDED_KEY
from contract_tests.target import SyncASGITransport, open_target
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.llm.catalog import default_catalog
from mockserver.router.config import load_routing
from mockserver.spec import load_spec
from tests.faults import FAULTS, FaultMiddleware

SPEC = load_spec()
ROUTING = load_routing(BUNDLED_ROUTING, default_catalog())  # as the suite starts its embedded mock


def mock():
    return create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY, routing=ROUTING))


def check_on(app, name: str):
    with open_target(EMBEDDED_ORIGIN + SPEC.base_path, EMBEDDED_KEY, inner=SyncASGITransport(app)) as target:
        return run_check(check_named(name), CheckContext.open(target, SPEC, deterministic=True, allow_writes=True,
                                                              policies=Policies.from_file(BUNDLED_ROUTING)))


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_breaks_the_check_on_the_embedded_mock(name):
    bare = check_on(mock(), name)
    assert bare.outcome is Outcome.PASS, bare.findings
    faulty = check_on(FaultMiddleware(mock(), FAULTS[name]), name)
    assert faulty.outcome is Outcome.FAIL
