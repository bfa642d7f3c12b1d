"""The audit names what the run names: each faulty gateway behind ``mockserver record``, ``contract-tests run``
through the recorder, then ``contract-tests audit`` on the recording.

The faulty gateways are the suite's own (``tests/faults.py`` on the embedded mock, served on a real
port); the recorder is ``mockserver record``'s proxy, served on another. For every fault whose check
traffic can judge, the failed checks the audit names are the failed checks the run names, among the
checks a recording can judge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests.audit.auditor import Auditor
from contract_tests.audit.offline import AuditOptions, audit
from contract_tests.audit.proxy import AuditProxy
from contract_tests.checks import all_checks
from contract_tests.results import Layer, Outcome
from contract_tests.runner import run
from contract_tests.session import EMBEDDED_KEY, Options
from contract_tests.traffic import Operations
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.recording.proxy import Upstream
from mockserver.recording.record import build_recorder
from mockserver.spec import load_spec
from mockserver.testing import serve_in_thread
from tests.faults import FAULTS, FaultMiddleware

SPEC = load_spec()
# What a recording judges whole: a judge that needs not tie calls to keys (recordings redact credentials).
RECORDED = sorted(c.name for c in all_checks()
                  if c.judge is not None and not c.judge.needs_credentials and not c.judge.in_part)
# What the audit proxy judges besides: it sees the credentials, so it ties calls to keys.
LIVE_ONLY = sorted(c.name for c in all_checks() if c.judge is not None and (c.judge.needs_credentials or c.judge.in_part))
JUDGED_LIVE = sorted(RECORDED + LIVE_ONLY)
# Checks that wait for time to pass (a key's expiry, a second webhook delivery) and that traffic cannot judge:
# left out of the runs that look for one fault, which their traffic does not bear on.
WAITING = ("keys.expired_key_rejected", "keys.dead_key_refused_everywhere", "governance.alert_delivered_once")
assert not set(WAITING) & set(JUDGED_LIVE)


def failed(result) -> set[str]:
    return {r.check for r in result.results if r.layer is Layer.SEMANTIC and r.outcome is Outcome.FAIL}


def run_and_audit(app, tmp_path: Path, exclude: tuple[str, ...] = ()):
    """``run`` through the recorder in front of ``app``, then ``audit`` of what it recorded."""
    with serve_in_thread(app=app) as gateway:
        recorder = build_recorder(gateway.url, tmp_path / "recording")
        with serve_in_thread(app=recorder) as proxy:
            base = proxy.url
            ran = run(Options(base_url=base, api_key=EMBEDDED_KEY, exclude=("schema:*", *exclude)))
        recorder.writer.close()
    audited = audit(AuditOptions(str(tmp_path / "recording")))
    return ran, audited


def test_the_bare_mock_passes_both_ways(tmp_path):
    ran, audited = run_and_audit(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), tmp_path)
    assert not failed(ran)
    assert not audited.failed, [(r.check, r.findings[0].message) for r in audited.failed]
    judged = {r.check for r in audited.results if r.outcome is Outcome.PASS}
    assert set(RECORDED) <= judged  # the run's own traffic gives every recorded-judgeable check something to judge
    assert {"schema:status_code_conformance", "schema:response_schema_conformance"} <= judged


@pytest.mark.parametrize("name", RECORDED)
def test_the_audit_names_the_failures_the_run_names(name, tmp_path):
    app = FaultMiddleware(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), FAULTS[name])
    ran, audited = run_and_audit(app, tmp_path, exclude=WAITING)
    assert name in failed(ran)
    assert failed(audited) & set(RECORDED) == failed(ran) & set(RECORDED)
    finding = next(r for r in audited.failed if r.check == name).findings[0]
    assert ".jsonl:" in finding.message.split(": ", 1)[0]  # the recorded exchange: file and line
    assert finding.curl.startswith("curl ") and EMBEDDED_KEY not in finding.curl + finding.request


def run_through_the_proxy(app):
    """``run`` through ``contract-tests proxy``'s app in front of ``app``: the run's result and the proxy's."""
    with serve_in_thread(app=app) as gateway:
        auditor = Auditor(SPEC, credentials_known=True)
        proxy = AuditProxy(Upstream.parse(gateway.url), auditor, Operations(SPEC))
        with serve_in_thread(app=proxy) as served:
            ran = run(Options(base_url=served.url, api_key=EMBEDDED_KEY, exclude=("schema:*", *WAITING)))
        proxy.drain()
    return ran, auditor.result("proxy", [])


@pytest.fixture(scope="module")
def bare_through_the_proxy():
    """The bare mock through the proxy, once for every fault below."""
    return run_through_the_proxy(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)))


@pytest.mark.parametrize("name", LIVE_ONLY)
def test_the_proxy_judges_the_key_checks_and_names_what_the_run_names(name, bare_through_the_proxy):
    bare_run, bare = bare_through_the_proxy
    assert not failed(bare_run) and not bare.failed, [(r.check, r.findings[0].message) for r in bare.failed]
    assert name in {r.check for r in bare.results if r.outcome is Outcome.PASS}
    app = FaultMiddleware(create_app(MockConfig(spec=SPEC, api_key=EMBEDDED_KEY)), FAULTS[name])
    ran, audited = run_through_the_proxy(app)
    assert name in failed(ran) and name in failed(audited)
    # Nothing the run passes is named; the run may name more: a check whose own request the fault refused
    # (late_keys: reports.grow_by_calls' chat with its new key gets 401) fails there, while the proxy judges
    # what was answered (the report grew by the calls that succeeded) and names the refusal once, under its check.
    assert failed(audited) & set(JUDGED_LIVE) <= failed(ran)
    finding = next(r for r in audited.failed if r.check == name).findings[0]
    assert finding.message.startswith("proxy exchange ") and EMBEDDED_KEY not in finding.curl + finding.request
