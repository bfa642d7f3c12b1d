"""The usage ledger: reports equal the exact sums of the usage blocks calls returned, under concurrency too."""

from __future__ import annotations

import asyncio
import random
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_EVEN, Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.accounts import money
from mockserver.accounts.clock import format_datetime, month_of, parse_datetime
from mockserver.accounts.ledger import FOLD_EVERY, MemoryLedger, UsageEntry
from mockserver.accounts.reports import ReportQuery
from mockserver.auth import DEFAULT_API_KEY
from mockserver.llm.catalog import ModelInfo
from mockserver.state import MockState
from tests.oracle import assert_valid_response

# (model, USD per million input tokens, per million output tokens)
MODELS = [
    ("openai/gpt-4o-mini", "0.15", "0.60"),
    ("openai/gpt-4o", "2.50", "10.00"),
    ("anthropic/claude-sonnet-4-20250514", "3.00", "15.00"),
    ("deepseek/deepseek-chat", "0.27", "1.10"),
    ("openai/text-embedding-3-small", "0.02", "0"),
]


def realistic_calls(count: int, keys: list[str], seed: int = 7) -> list[tuple[str, str, dict]]:
    """(key id, model, usage block) as an inference handler would return them: cost a JSON float."""
    rng = random.Random(seed)
    calls = []
    for _ in range(count):
        model, input_price, output_price = rng.choice(MODELS)
        prompt = rng.randint(1, 4000)
        completion = 0 if output_price == "0" else rng.randint(0, 1500)
        cost = (prompt * Decimal(input_price) + completion * Decimal(output_price)) / 1_000_000
        calls.append((rng.choice(keys), model, {
            "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "cost": float(cost), "prompt_tokens_details": {"cached_tokens": 0},
        }))
    return calls


def expected_report(calls: list[tuple[str, str, dict]]) -> dict:
    """The report computed independently: exact decimal sums of the costs as the calls returned them."""
    by_model: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for _, model, usage in calls:
        tally = by_model[model]
        tally[0] += 1
        tally[1] += usage["total_tokens"]
        tally[2] += Decimal(repr(usage["cost"]))
    return {
        "total_cost": sum((t[2] for t in by_model.values()), Decimal(0)),
        "total_requests": sum(t[0] for t in by_model.values()),
        "total_tokens": sum(t[1] for t in by_model.values()),
        "breakdown": [{"model": m, "requests": t[0], "tokens": t[1], "cost": t[2]} for m, t in sorted(by_model.items())],
    }


def exact(report: dict) -> dict:
    """A report as served, with its JSON costs read back as exact decimals."""
    return {**report, "total_cost": Decimal(repr(report["total_cost"])),
            "breakdown": [{**item, "cost": Decimal(repr(item["cost"]))} for item in report["breakdown"]]}


def assert_consistent(report: dict) -> None:
    items = report["breakdown"]
    assert sum(i["requests"] for i in items) == report["total_requests"]
    assert sum(i["tokens"] for i in items) == report["total_tokens"]
    assert sum((i["cost"] for i in items), Decimal(0)) == report["total_cost"]


@pytest.fixture
def five_keys(client):
    state: MockState = client.app.state.mock
    principals = []
    for n in range(5):
        secret = client.post("/api-keys", json={"name": f"key-{n}"}).json()["key"]
        principals.append(state.authenticate(secret))
    return state, principals


def record(state, principal, model, usage, headers=None):
    state.record_usage(principal, operation_id="createChatCompletion", model=model, usage=usage, headers=headers or {})


def test_reports_are_the_exact_sums_of_the_calls(client, spec, five_keys):
    state, principals = five_keys
    admin = state.authenticate(DEFAULT_API_KEY)
    by_id = {p.key_id: p for p in [*principals, admin]}
    calls = realistic_calls(600, list(by_id))
    for key_id, model, usage in calls:
        record(state, by_id[key_id], model, usage)
    for principal in principals:
        path = f"/api-keys/{principal.key_id}/usage"
        response = client.get(path)
        assert_valid_response(spec, "GET", path, response)
        report = exact(response.json())
        assert report == expected_report([c for c in calls if c[0] == principal.key_id])
        assert_consistent(report)
    response = client.get("/organization/usage")
    assert_valid_response(spec, "GET", "/organization/usage", response)
    org = exact(response.json())
    assert org == expected_report(calls)  # every key's calls, the admin key's included
    assert_consistent(org)
    assert org["total_requests"] == 600


def test_costs_add_up_as_decimals_not_as_floats(client, five_keys):
    state, principals = five_keys
    for cost in (0.1, 0.2):
        record(state, principals[0], "m", {"prompt_tokens": 1, "total_tokens": 1, "cost": cost})
    assert 0.1 + 0.2 != 0.3
    assert client.get(f"/api-keys/{principals[0].key_id}/usage").json()["total_cost"] == 0.3


def test_money_is_exact_to_a_ten_billionth_of_a_dollar():
    assert money.from_usd(0.1) == 10**9
    assert money.from_usd(7) == 7 * money.SCALE
    assert money.from_usd(Decimal("0.00000000005")) == 0  # half-even at the last step
    assert money.from_usd(Decimal("0.00000000015")) == 2
    assert money.to_usd(money.from_usd(12345.6789012345)) == 12345.6789012345
    assert money.describe(money.from_usd(5)) == "$5.00" and money.describe(money.from_usd(0.0000012)) == "$0.0000012"
    for bad in (True, "1", None, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            money.from_usd(bad)


@given(st.integers(0, 10**7), st.integers(0, 10**6), st.integers(0, 10**7), st.integers(0, 10**7))
def test_a_cost_in_units_is_the_decimal_price_times_tokens_rounded_half_even(prompt, completion, input_4dp, output_4dp):
    # Any catalog price (at most 4 decimals, up to 1,000 USD per million tokens), any token counts.
    model = ModelInfo("m", "chat", "o", "us", 10**9, Decimal(input_4dp).scaleb(-4), Decimal(output_4dp).scaleb(-4))
    exact = (prompt * model.input_price + completion * model.output_price) / 1_000_000
    expected = exact.quantize(Decimal("1e-10"), rounding=ROUND_HALF_EVEN, context=Context(prec=50))
    assert money.to_decimal(model.cost_units(prompt, completion)) == expected
    assert model.cost(prompt, completion) == float(expected)


@pytest.mark.parametrize(("numerator", "denominator", "quotient"), [
    (5, 2, 2), (7, 2, 4), (6, 4, 2), (10, 4, 2), (14, 4, 4), (11, 4, 3), (9, 4, 2), (0, 7, 0), (-5, 2, -2),
])
def test_divide_half_even(numerator, denominator, quotient):
    assert money.divide_half_even(numerator, denominator) == quotient


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00Z"),
    ("2026-11-25t12:00:00.5z", "2026-11-25T12:00:00.500000Z"),
    ("2026-11-25T12:00:00-05:30", "2026-11-25T17:30:00Z"),
    ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z"),
    ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.999999Z"),
])
def test_rfc3339_date_times(text, expected):
    assert format_datetime(parse_datetime(text)) == expected


@pytest.mark.parametrize("text", ["2026-02-30T00:00:00Z", "2026-11-25", "2026-11-25T24:00:00Z", "tomorrow",
                                  "2026-11-25T12:00:00+24:00", "2026-11-25T12:00:00"])
def test_not_rfc3339_date_times(text):
    assert parse_datetime(text) is None


def test_usage_blocks_are_checked(client):
    state = client.app.state.mock
    for usage in ({"prompt_tokens": -1}, {"prompt_tokens": 1.5}, {"prompt_tokens": True}, {"cost": "0.1"}):
        with pytest.raises(ValueError):
            state.record_usage(None, operation_id="x", model="m", usage=usage, headers={})
    assert state.ledger.entries() == []


def test_analytics_headers_are_stored_with_each_call(client, five_keys):
    state, principals = five_keys
    record(state, principals[1], "m", {"prompt_tokens": 2, "total_tokens": 2, "cost": 0.5},
           headers={"http-referer": "https://app.example.com", "x-title": "Example App",  # lower case, as ASGI gives them
                    "x-requesty-team": "growth", "x-requesty-feature": "search", "content-type": "application/json",
                    "x-requesty-": "no field name"})
    record(state, principals[2], "m", {"prompt_tokens": 2, "total_tokens": 2, "cost": 0.5})
    first, second = state.ledger.entries()
    assert (first.key_id, first.analytics.origin, first.analytics.title) == (principals[1].key_id,
                                                                              "https://app.example.com", "Example App")
    assert dict(first.analytics.fields) == {"team": "growth", "feature": "search"}
    assert (second.analytics.origin, second.analytics.title, dict(second.analytics.fields)) == (None, None, {})
    assert state.ledger.entries(principals[2].key_id) == [second]


def test_analytics_headers_sent_in_any_case_are_recorded(client):
    headers = {"HTTP-Referer": "https://app.example.com", "X-TITLE": "Example App", "X-Requesty-Team": "growth"}
    chat = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert client.post("/chat/completions", json=chat, headers=headers).status_code == 200
    (entry,) = client.app.state.mock.ledger.entries()
    assert (entry.analytics.origin, entry.analytics.title, dict(entry.analytics.fields)) == (
        "https://app.example.com", "Example App", {"team": "growth"})


def test_totals_stay_exact_when_old_entries_are_dropped(clock):
    ledger = MemoryLedger(keep_entries=3)
    for n in range(10):
        ledger.record(UsageEntry(clock(), "k", "createEmbedding", "m", n, 0, n, money.from_usd(0.01)))
    assert len(ledger.entries()) == 3
    summary = ledger.org_usage()
    assert (summary.requests, summary.tokens, summary.cost) == (10, 45, money.from_usd(0.1))


@pytest.mark.parametrize("calls", [1, FOLD_EVERY - 1, FOLD_EVERY, FOLD_EVERY + 7, 3 * FOLD_EVERY + 1])
def test_every_read_counts_every_call_recorded_before_it(clock, calls):
    """Calls wait in a queue (at most FOLD_EVERY of them) before they are added to the totals; each kind of
    read adds them first, so none can see fewer calls than were recorded."""
    readers = {
        "org": lambda ledger: ledger.org_usage().requests,
        "key": lambda ledger: ledger.usage_for_key("k").requests,
        "month": lambda ledger: ledger.spend_in_month("k", month_of(clock())) // money.from_usd(0.01),
        "report": lambda ledger: ledger.report(ReportQuery(key_id="k")).total.requests,
        "entries": lambda ledger: len(ledger.entries("k")),
    }
    for name, read in readers.items():
        ledger = MemoryLedger()
        for n in range(calls):
            ledger.record(UsageEntry(clock(), "k", "createEmbedding", "m", n, 0, n, money.from_usd(0.01)))
            assert len(ledger._queued) < FOLD_EVERY  # the queue's bound
        assert read(ledger) == calls, name


def test_a_deleted_keys_queued_calls_stay_in_the_organizations_totals(clock):
    ledger = MemoryLedger()
    for key in ("gone", "kept"):
        ledger.record(UsageEntry(clock(), key, "createEmbedding", "m", 5, 0, 5, money.from_usd(0.01)))
    ledger.forget_key("gone")
    assert ledger.org_usage().requests == 2
    assert ledger.usage_for_key("gone").requests == 0 and ledger.usage_for_key("kept").requests == 1


def test_concurrent_recordings_in_the_event_loop_are_exact(client, five_keys):
    state, principals = five_keys
    calls = realistic_calls(200, [p.key_id for p in principals], seed=11)
    by_id = {p.key_id: p for p in principals}

    async def one(key_id, model, usage):
        await asyncio.sleep(0)
        state.before_inference(by_id[key_id])
        await asyncio.sleep(0)
        record(state, by_id[key_id], model, usage)

    async def run():
        await asyncio.gather(*(one(*call) for call in calls))

    asyncio.run(run())
    assert exact(client.get("/organization/usage").json()) == expected_report(calls)
    for key_id in by_id:
        assert exact(client.get(f"/api-keys/{key_id}/usage").json()) == expected_report(
            [c for c in calls if c[0] == key_id])


@pytest.fixture
def eager_thread_switching():
    """Switch threads as often as the interpreter can, so that a missing lock shows."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("eager_thread_switching")
def test_concurrent_recordings_from_threads_are_exact(client, five_keys):
    state, principals = five_keys
    by_id = {p.key_id: p for p in principals}
    calls = realistic_calls(2000, list(by_id), seed=13)
    start, done = threading.Barrier(9), threading.Event()

    def worker(part):
        start.wait()
        for key_id, model, usage in part:
            record(state, by_id[key_id], model, usage)

    def reader():  # reports and entries are read while calls are recorded
        start.wait()
        reads = 0
        while not done.is_set() or reads == 0:
            state.ledger.entries()
            state.org_usage()
            reads += 1
        return reads

    with ThreadPoolExecutor(9) as pool:
        reading = pool.submit(reader)
        list(pool.map(worker, [calls[n::8] for n in range(8)]))
        done.set()
        assert reading.result() > 0
    assert exact(client.get("/organization/usage").json()) == expected_report(calls)
    for key_id in by_id:
        assert exact(client.get(f"/api-keys/{key_id}/usage").json()) == expected_report(
            [c for c in calls if c[0] == key_id])
