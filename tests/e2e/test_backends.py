"""The shared backends, seen by two workers: two backend objects on one store are two processes' views of it.

Each test runs on SQLite and on Redis (a Redis of our own, started by the tests).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest

from mockserver.accounts.analytics import Analytics
from mockserver.accounts.keys import new_key
from mockserver.accounts.ledger import MemoryLedger, UsageEntry, UsageMeta
from mockserver.accounts.reports import ReportQuery
from mockserver.auth import Principal
from mockserver.backends import StateFileError, open_backend
from mockserver.errors import MockError
from mockserver.faults.runtime import Faults
from mockserver.faults.scenario import build_scenario
from mockserver.governance.config import EMPTY
from mockserver.governance.delivery import Outbox, Retry
from mockserver.governance.store import Governance
from mockserver.state import MockState
from tests.conftest import DEFAULT_API_KEY
from tests.webhook_receiver import Receiver

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
    state_b.before_inference(state_b.authenticate(secret))  # nothing spent yet; each call authenticates
    a.ledger.record(usage(record.id, 60))
    state_a.before_inference(state_a.authenticate(secret))
    b.ledger.record(usage(record.id, 60))
    principal = state_a.authenticate(secret)
    assert principal.spent == 120  # read with the key, in the same round trip
    with pytest.raises(MockError) as refused:
        state_a.before_inference(principal)
    assert refused.value.status == 402
    with pytest.raises(MockError):  # a principal made elsewhere: the spend is read from the store
        state_b.before_inference(Principal(record.id, False))
    state_b.set_limit(record.id, None)
    state_a.before_inference(state_a.authenticate(secret))
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


def tagged(key_id: str, cost: int, tags: tuple[str, ...], user: str | None, asked: str | None,
           day: int = 30) -> UsageEntry:
    return UsageEntry(NOW.replace(day=day), key_id, "createChatCompletion", "m", 4, 6, 10, cost,
                      Analytics("app.example", None, {}), UsageMeta(asked, tags, user, "trace-1", (("email", "$", 0, 3),)))


@BACKENDS
def test_reports_group_and_filter_as_the_memory_ledger_does_and_deleted_keys_totals_go(state_url):
    a, b = two(state_url)
    memory = MemoryLedger()
    entries = [tagged("k1", 5, ("b", "a"), "u1", "policy/p"), tagged("k1", 7, (), None, None, day=29),
               tagged("k2", 11, ("a",), "u2", "coding/x"), tagged("k2", 13, ("a",), "u2", "coding/x")]
    for i, entry in enumerate(entries):
        (a if i % 2 else b).ledger.record(entry)
        memory.record(entry)
    for query in (ReportQuery(), ReportQuery(group_by="tag"), ReportQuery(group_by="model_asked"),
                  ReportQuery(group_by="day", key_id="k1"), ReportQuery(tag="a", group_by="user_id"),
                  ReportQuery(origin="app.example", start=NOW.date(), group_by="key")):
        assert a.ledger.report(query) == memory.report(query) == b.ledger.report(query), query
    assert b.ledger.entries("k1") == memory.entries("k1")  # the request's metadata kept with each entry
    a.ledger.forget_key("k2")
    assert b.ledger.usage_for_key("k2").requests == 0 and b.ledger.spend_in_month("k2", "2026-11") == 0
    assert b.ledger.org_usage().cost == 36 and b.ledger.report(ReportQuery(group_by="key")).groups["k2"].cost == 24


@BACKENDS
def test_governance_set_through_one_worker_is_in_force_on_the_other_from_its_next_request(state_url):
    a, b = two(state_url)
    ga, gb = Governance(EMPTY, a), Governance(EMPTY, b)
    record, _ = new_key(name="k", labels=(), limit=None, expiry=None, now=NOW)
    ga.create_list("cheap", ("openai/gpt-4o-mini",))
    ga.set_guardrail(record.id, "mask")
    assert gb.all_lists() == [] and gb.guardrail_for(record, None) == "disabled"  # b has served no request since
    b.next_sequence()
    assert [x.name for x in gb.all_lists()] == ["cheap"] and gb.guardrail_for(record, None) == "mask"
    gb.attach_list(record.id, "cheap")
    a.next_sequence()
    assert ga.list_for(record).name == "cheap"
    ga.reset()
    b.next_sequence()
    assert gb.all_lists() == [] and gb.list_for(record) is None


@BACKENDS
def test_an_alert_is_queued_by_one_worker_and_posted_once_whatever_the_workers_that_know_it(state_url):
    hook = Receiver()
    url = hook.url
    a, b = two(state_url)
    try:
        a.deliveries.insert("k1:2026-11:50%", "k1", url, '{"id": "evt_1"}')  # queued; its worker died before sending
        assert not b.deliveries.insert("k1:2026-11:50%", "k1", url, '{"id": "evt_2"}')  # the same crossing: once
        retry = lambda: Retry(0, 10, 5)  # noqa: E731
        outboxes = [Outbox(retry, lambda d: None, backend.deliveries) for backend in (a, b, a, b)]  # four restarts
        deadline = time.monotonic() + 10
        while not all(d["state"] == "delivered" for d in outboxes[0].list()) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # time for a second sender to (wrongly) post
        assert [body for _, body in hook.received] == [b'{"id": "evt_1"}']
        assert [d["state"] for d in outboxes[3].list()] == ["delivered"]
        assert a.deliveries.claim("k1:2026-11:50%", time.time(), 10) == "delivered"
        for outbox in outboxes:
            outbox.close()
    finally:
        hook.close()


def test_a_state_file_of_the_single_process_store_is_upgraded_once_with_its_totals(tmp_path):
    """A file written before the shared stores (usage rows without metadata, no totals, no delivery claims)."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, limit_units TEXT,
                               expiry TEXT, created_at TEXT NOT NULL, secret_hash BLOB NOT NULL UNIQUE);
            CREATE TABLE usage (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, key_id TEXT NOT NULL,
                                operation_id TEXT NOT NULL, model TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
                                completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
                                cost_units TEXT NOT NULL, origin TEXT, title TEXT, fields TEXT NOT NULL);
            CREATE TABLE alert_deliveries (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, url TEXT NOT NULL,
                                           body TEXT NOT NULL, state TEXT NOT NULL, next_at REAL NOT NULL,
                                           attempts TEXT NOT NULL);
        """)
        for key_id, cost in (("k1", 5), ("k1", 7), ("k2", 11)):
            db.execute("INSERT INTO usage (at, key_id, operation_id, model, prompt_tokens, completion_tokens, "
                       "total_tokens, cost_units, origin, title, fields) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (NOW.isoformat(), key_id, "createChatCompletion", "m", 4, 6, 10, str(cost), None, None, "{}"))
        db.execute("INSERT INTO alert_deliveries VALUES ('c', 'k1', 'http://127.0.0.1:9/', '{}', 'delivered', 0, '[]')")
    for _ in range(2):  # the second open finds the totals there (not summed twice)
        backend = open_backend(str(path))
        assert (backend.ledger.org_usage().requests, backend.ledger.usage_for_key("k1").cost) == (3, 12)
        assert backend.ledger.report(ReportQuery(group_by="key")).groups["k2"].cost == 11
        assert backend.deliveries.claim("c", time.time(), 10) == "delivered"
        backend.close()
