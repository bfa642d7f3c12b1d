"""Long-lived state has a bound: requests of any kind leave the mock's memory flat once it is warm.

The generation plan cache used to be keyed by the identity of the schemas it compiled; a chat
call's ``tools`` and ``response_format`` are new objects in every request, so it filled with
entries no later request could hit (about 5 MB per 1,000 tool calls). Here thousands of such
requests, each with its own fresh dicts, go through the app; afterwards the caches hold no more
than their bounds and ``tracemalloc`` sees next to no growth. The other containers are tested at
their bounds (docs/mock-semantics.md, "Memory: what the mock keeps, and its bounds").
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from collections.abc import Callable

import orjson
import pytest

from mockserver import generation
from mockserver.accounts.ledger import MemoryLedger, UsageEntry
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.faults.journal import DEFAULT_SIZE
from mockserver.faults.ratelimit import SWEEP_FLOOR, WINDOW_S, RateLimiter
from mockserver.generation import fresh_plan, plan
from mockserver.llm import structured, tokens
from mockserver.llm.catalog import default_catalog
from mockserver.llm.chat import complete
from mockserver.llm.overrides import Overrides
from mockserver.state import MockState
from tests.mock.test_no_reference_cycles import call

WARM = DEFAULT_SIZE + 100  # the request journal is full: from here on an entry in is an entry out
REQUESTS = 2_000
GROWTH_LIMIT = 128 * 1024  # bytes after REQUESTS more requests; the identity-keyed cache grew ~7 MB here


def tool_call(i: int) -> dict:
    """A fresh body (every dict new) with the same tool each time, as an agent sends it."""
    parameters = {"type": "object", "required": ["city"],
                  "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                                 "days": {"type": "integer", "minimum": 1, "maximum": 7}}}
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": f"Weather in city {i}?"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": parameters}}],
            "tool_choice": "required"}


def json_schema_reply(i: int) -> dict:
    schema = {"type": "object", "required": ["title", "tags"],
              "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                             "score": {"type": "number", "minimum": 0, "maximum": 1}}}
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": f"Summarise note {i}"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "note", "schema": schema}}}


@pytest.fixture(autouse=True)
def no_token_count_memory(monkeypatch):
    """The token-count LRU is bounded and tested at its bound below; here every request brings new texts, which
    would fill it towards that bound and hide what these tests measure."""
    monkeypatch.setattr(tokens, "REMEMBERED_TEXT", -1)


def distinct_tool(i: int) -> dict:
    """A tool whose schema differs in every request: the worst case for a cache keyed by content."""
    body = tool_call(i)
    body["tools"][0]["function"]["parameters"]["properties"][f"field_{i}"] = {"type": "integer"}
    return body


@pytest.mark.parametrize("make", [tool_call, json_schema_reply], ids=["tools", "json_schema"])
def test_chat_with_caller_schemas_leaves_memory_flat(make: Callable[[int], dict]):
    config = MockConfig()
    app = create_app(config, MockState(config, ledger=MemoryLedger(keep_entries=100)))

    async def scenario() -> tuple[list[int], int, int, int]:
        statuses = [await call(app, "POST", "/v1/chat/completions", make(i)) for i in range(WARM)]
        gc.collect()
        plans, warm = len(generation._PLANS), tracemalloc.get_traced_memory()[0]
        statuses += [await call(app, "POST", "/v1/chat/completions", make(i)) for i in range(REQUESTS)]
        gc.collect()
        return statuses, len(generation._PLANS) - plans, warm, tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        statuses, new_plans, warm, end = asyncio.run(scenario())
    finally:
        tracemalloc.stop()
    assert set(statuses) == {200}
    assert new_plans == 0, f"{new_plans} plans cached for {REQUESTS} requests' schemas"
    assert structured.remembered() <= structured.REMEMBERED
    assert end - warm < GROWTH_LIMIT, f"{(end - warm) / 1024:.0f} KiB more after {REQUESTS} requests"


def test_a_new_schema_in_every_request_keeps_the_cache_at_its_bound():
    catalog, overrides = default_catalog(), Overrides()
    warm = structured.REMEMBERED + 50  # the cache is full from here on: an entry in is an entry out
    tracemalloc.start()  # before warming up: what the cache holds then is traced, and so is what replaces it
    try:
        for i in range(warm):
            complete(distinct_tool(i), catalog, overrides)
        assert structured.remembered() == structured.REMEMBERED
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(warm, warm + REQUESTS):
            complete(distinct_tool(i), catalog, overrides)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert structured.remembered() == structured.REMEMBERED
    assert grown < GROWTH_LIMIT, f"{grown / 1024:.0f} KiB more after {REQUESTS} distinct schemas"


def test_the_same_schema_content_is_compiled_once_whatever_object_carries_it():
    first = structured.compile_schema(orjson.loads(orjson.dumps(tool_call(1)["tools"][0]["function"]["parameters"])),
                                      "p")
    again = structured.compile_schema(tool_call(2)["tools"][0]["function"]["parameters"], "p")
    assert again is first


def test_a_schema_too_long_to_remember_is_still_answered():
    properties = {f"field_{n}": {"type": "string", "description": "x" * 100} for n in range(200)}
    schema = {"type": "object", "properties": properties, "required": ["field_0"]}
    assert len(orjson.dumps(schema)) > structured.REMEMBERED_BYTES
    before = structured.remembered()
    value = structured.generate_valid(schema, random.Random(1), "p")
    assert isinstance(value["field_0"], str)
    assert structured.remembered() == before or structured.remembered() == structured.REMEMBERED


def test_a_fresh_plan_draws_what_the_cached_plan_draws_and_caches_nothing():
    schema = tool_call(0)["tools"][0]["function"]["parameters"]
    before = len(generation._PLANS)
    fresh = fresh_plan(schema, lambda node: node)
    assert len(generation._PLANS) == before
    assert fresh(random.Random(5)) == plan(schema, lambda node: node)(random.Random(5))


def test_rate_windows_of_keys_gone_quiet_are_dropped():
    now = [0.0]
    limiter = RateLimiter(rpm=10, tpm=None, clock=lambda: now[0])
    for i in range(5_000):  # 5,000 keys, ten new ones a second: about 600 within any minute
        now[0] = i / 10
        assert limiter.check(f"key-{i}", 0).allowed
        assert limiter.windows() <= max(SWEEP_FLOOR, 2 * 600 + 2)
    now[0] += WINDOW_S  # all quiet for a minute: every window has ended, and goes at the next sweep
    for i in range(300):  # the table reaches its sweep mark (twice the ~600 live at the last sweep) on the way
        limiter.check(f"late-{i}", 0)
    assert limiter.windows() <= 300  # only the late keys' windows are left


def test_a_sweep_keeps_the_windows_still_open():
    now = [0.0]
    limiter = RateLimiter(rpm=1, tpm=None, clock=lambda: now[0])
    assert limiter.check("busy", 0).allowed
    now[0] = WINDOW_S - 1
    for i in range(4 * SWEEP_FLOOR):  # enough new keys for sweeps, while "busy" is still in its window
        limiter.check(f"other-{i}", 0)
    assert not limiter.check("busy", 0).allowed


def test_a_deleted_key_takes_its_own_totals_and_the_organizations_stay():
    state = MockState(MockConfig())
    for n in range(300):  # keys come and go, each with usage
        record, _ = state.create_key(name=f"k{n}")
        state.ledger.record(UsageEntry(state.clock(), record.id, "createChatCompletion", "m", 1, 1, 2, 5))
        state.delete_key(record.id)
    assert state.keys.list() == []
    assert state.ledger._by_key == {} and state.ledger._monthly == {}
    org = state.ledger.org_usage()
    assert (org.requests, org.tokens, org.cost) == (300, 600, 1500)



def test_token_counts_are_remembered_up_to_their_bound_and_long_texts_are_not_kept(monkeypatch):
    monkeypatch.setattr(tokens, "REMEMBERED_TEXT", 2048)
    tokens._remembered_count.cache_clear()
    for i in range(tokens.REMEMBERED + 100):  # a new short text on every call: the cache stays at its bound
        assert tokens.count(f"message number {i}") == 4  # "messag", "e", " number", " {i}"
    assert tokens._remembered_count.cache_info().currsize == tokens.REMEMBERED
    tokens._remembered_count.cache_clear()
    long_text = "word " * 2048
    assert tokens.count(long_text) == 2048 + 1  # each word with the space before it, the last space
    assert tokens._remembered_count.cache_info().currsize == 0  # counted, not kept


def test_a_remembered_count_is_the_count(monkeypatch):
    monkeypatch.setattr(tokens, "REMEMBERED_TEXT", 2048)
    tokens._remembered_count.cache_clear()
    for text in ("Hello, world!", "héllo wörld ünïcode", " ", "a_b", "x" * 2048):
        first, again = tokens.count(text), tokens.count(text)
        assert first == again == len(tokens.split(text))
    assert tokens._remembered_count.cache_info().hits == 5
