"""The shared backends, seen by two workers: two backend objects on one store are two processes' views of it.

Each test runs on SQLite and on Redis (a Redis of our own, started by the tests).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from mockserver.accounts.keys import new_key
from mockserver.accounts.ledger import UsageEntry
from mockserver.backends import StateFileError, open_backend
from mockserver.errors import MockError
from mockserver.faults.runtime import Faults
from mockserver.faults.scenario import build_scenario
from mockserver.state import MockState
from tests.conftest import DEFAULT_API_KEY

BACKENDS = pytest.mark.parametrize("state_url", ["sqlite", "redis"], indirect=True)
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


def two(url: str):
    return open_backend(url), open_backend(url)


def usage(key_id: str, cost: int, tokens: int = 10, model: str = "m") -> UsageEntry:
    return UsageEntry(NOW, key_id, "createChatCompletion", model, tokens // 2, tokens - tokens // 2, tokens, cost)


@BACKENDS
def test_a_key_made_by_one_worker_is_known_at_once_to_the_other(state_url):
    a, b = two(state_url)
    record, _ = new_key(name="k", labels=("x",), limit=5, expiry=None, now=NOW)
    a.keys.add(record)
    assert b.keys.find(record.secret_hash) == record == b.keys.get(record.id)
    assert [r.id for r in b.keys.list()] == [record.id]
    assert b.keys.set_limit(record.id, 7).limit == 7 and a.keys.get(record.id).limit == 7
    assert b.keys.set_limit("nope", 7) is None
    assert a.keys.delete(record.id) and not b.keys.delete(record.id)
    assert b.keys.find(record.secret_hash) is None and b.keys.get(record.id) is None


@BACKENDS
def test_usage_from_both_workers_adds_up_exactly(state_url):
    a, b = two(state_url)
    threads = [threading.Thread(target=lambda w=w: [w.ledger.record(usage("k1", 3 + i)) for i in range(50)])
               for w in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    b.ledger.record(usage("k2", 10**12, model="n"))
    expected = 4 * sum(3 + i for i in range(50))
    report = a.ledger.usage_for_key("k1")
    assert (report.requests, report.tokens, report.cost) == (200, 2000, expected)
    org = b.ledger.org_usage()
    assert (org.requests, org.cost) == (201, expected + 10**12) and list(org.by_model) == ["m", "n"]
    assert a.ledger.spend_in_month("k1", "2026-11") == expected and a.ledger.spend_in_month("k1", "2026-12") == 0
    assert len(b.ledger.entries("k2")) == 1
    a.ledger.clear()
    assert b.ledger.org_usage().requests == 0


@BACKENDS
def test_the_spend_limit_is_checked_in_the_store(state_url, spec):
    a, b = two(state_url)
    config_a = _config(spec, state_url)
    state_a, state_b = MockState(config_a, backend=a, clock=lambda: NOW), MockState(config_a, backend=b, clock=lambda: NOW)
    record, secret = state_a.create_key(name="limited", limit=100)
    principal = state_b.authenticate(secret)
    state_b.before_inference(principal)  # nothing spent yet
    a.ledger.record(usage(record.id, 60))
    state_a.before_inference(principal)
    b.ledger.record(usage(record.id, 60))
    with pytest.raises(MockError) as refused:
        state_a.before_inference(principal)
    assert refused.value.status == 402
    state_b.set_limit(record.id, None)
    state_a.before_inference(principal)
    assert a.spend_and_limit(record.id, "2026-11") is None


@BACKENDS
def test_rate_windows_are_global(state_url):
    a, b = two(state_url)
    verdicts = [(a if i % 2 else b).rate_window("key", 1, 1000.0 + i, 10, 5, None) for i in range(7)]
    assert [v[3] for v in verdicts] == [None] * 5 + ["requests"] * 2
    assert verdicts[4][1] == 5 and verdicts[0][0] == 1000.0
    assert a.rate_window("key", 1, 1061.0, 10, 5, None) == (1061.0, 1, 10, None)  # the next minute
    assert b.rate_window("other", 1, 1000.0, 30, None, 50)[3] is None
    assert a.rate_window("other", 1, 1000.5, 30, None, 50)[3] == "tokens"


@BACKENDS
def test_one_scenario_and_one_request_sequence_for_every_worker(state_url):
    a, b = two(state_url)
    fa, fb = Faults(0, backend=a), Faults(0, backend=b)
    assert [fa.next_sequence(), fb.next_sequence(), fa.next_sequence()] == [1, 2, 3]
    fa.load(build_scenario({"seed": 7, "errors": [{"status": 503, "rate": 0.5}], "rate_limits": {"rpm": 2}}))
    assert fb.next_sequence() == 1  # the counter started again, and worker b sees the new scenario at once
    assert fb.scenario == fa.scenario and fb.seed == 7 and fb.active and fb.limiter is not None
    assert [fb.limiter.check("k", 1).allowed, fa.limiter.check("k", 1).allowed, fb.limiter.check("k", 1).allowed] == \
        [True, True, False]
    fa.reset()
    assert fb.next_sequence() == 1 and not fb.active and fb.limiter is None


@BACKENDS
def test_the_journal_is_one_for_every_worker(state_url):
    a, b = two(state_url)
    for i in range(5):
        (a if i % 2 else b).journal_add([i, 0.0, "GET", "/v1/models", "listModels", 200, 1.0, None, "admin", i % 2])
    assert [e[0] for e in a.journal_last(3)] == [4, 3, 2] and len(b.journal_last(None)) == 5
    b.journal_clear()
    assert a.journal_last(None) == []


def test_a_redis_that_does_not_answer_is_one_line():
    with pytest.raises(StateFileError, match="cannot use Redis") as error:
        open_backend("redis://127.0.0.1:1/0")
    assert "\n" not in str(error.value)
    with pytest.raises(StateFileError, match="SQLite file path or a redis:// URL"):
        open_backend("http://example.com/state")


def _config(spec, url):
    from mockserver.config import MockConfig

    return MockConfig(spec=spec, api_key=DEFAULT_API_KEY, state_path=url)
