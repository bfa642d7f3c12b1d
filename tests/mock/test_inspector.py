"""The inspector's parts in-process: the bounded store, masking, the curl line, the feed, the routes."""

from __future__ import annotations

import asyncio
import gc
import shlex
import time

import orjson
import pytest

from mockserver.faults.journal import Journal
from mockserver.inspector import Inspector
from mockserver.inspector.curl import curl_line
from mockserver.inspector.masking import MASK, Masker
from mockserver.inspector.store import BODY_EXCERPT, DEFAULT_BYTES, DEFAULT_ENTRIES, DetailStore, Record, capture
from tests.conftest import ADMIN

ROOT = "http://testserver"  # the clients' base URL ends in the spec's base path; the admin endpoints are at the root
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def row(ident: int, body: bytes = b"{}", chunks: list[tuple[float, bytes]] | None = None) -> tuple:
    entry = (ident, 0.0, "POST", "/v1/x", None, 200, 1.0, None, "admin", None, None, None, None)
    return capture(ident, entry, {"host": "h"}, 10, body, b"",
                   [(b"content-type", b"application/json")], 0.0, chunks if chunks is not None else [(0.001, b"{}")])


def record(ident: int, body: bytes = b"{}", chunks: list[tuple[float, bytes]] | None = None) -> Record:
    return Record(row(ident, body, chunks))


def inspector_of(client) -> Inspector:
    return client.app.state.faults.journal.listeners[0]


def watched(client):
    """The client, with a page subscribed to its mock's inspector (exchanges are captured only then)."""
    inspector_of(client).subscribe()
    return client


def test_the_store_drops_the_oldest_past_its_entries():
    store = DetailStore(entries=3, max_bytes=10**9)
    for i in range(1, 6):
        store.add(row(i))
    assert [r.id for r in store] == [3, 4, 5]
    assert store.get(2) is None and store.get(4).id == 4 and store.get(6) is None


def test_the_store_drops_the_oldest_past_its_bytes():
    store = DetailStore(entries=1000, max_bytes=3 * record(0, b"x" * 1000).size)
    for i in range(1, 11):
        store.add(row(i, b"x" * 1000))
    assert len(store) == 3 and store.bytes <= store.max_bytes
    store.clear()
    assert len(store) == 0 and store.bytes == 0 and store.get(9) is None


def test_a_record_keeps_excerpts_only():
    big = b"a" * (BODY_EXCERPT * 4)
    chunks = [(float(i), b"data: %d\n\n" % i + b"x" * 4000) for i in range(100)]
    r = record(1, big, chunks)
    assert r.request_bytes == len(big) and len(r.request_body) == BODY_EXCERPT
    kept = sum(len(body) for _, body in r.chunks)
    assert kept <= BODY_EXCERPT + 3 * 4010  # the excerpt, and the last three chunks whole
    assert len(r.chunks) == 100 and r.chunks[-1] == chunks[-1]  # every chunk's time is kept, the last one whole
    assert [size for _, size, _ in r.timed_chunks()] == [len(c) for _, c in chunks]
    assert r.size < 3 * BODY_EXCERPT + 3 * 4010 + 1024


def test_a_kept_row_costs_the_garbage_collector_nothing():
    """Rows of atoms and flat tuples are untracked by the collector, so holding them slows no collection."""
    store = DetailStore()
    stream = [(float(i), b"data: {}\n\n") for i in range(20)]
    for i in range(1, 4):
        store.add(row(i, chunks=stream if i == 2 else None))
    for _ in range(3):
        gc.collect()
    assert [gc.is_tracked(r) for r in store._rows] == [False, False, False]


def test_the_documented_bounds():
    assert (DEFAULT_ENTRIES, DEFAULT_BYTES) == (10_000, 32 * 1024 * 1024)


def test_masking_headers_and_text():
    masker = Masker(["admin-secret"])
    assert masker.header("Authorization", "Bearer admin-secret") == f"Bearer {MASK}"
    assert masker.header("x-api-key", "rqk_abcdefghijklmnop") == MASK
    assert masker.header("x-title", "admin-secret here") == f"{MASK} here"
    assert masker.text('{"key": "rqk_AbC-123_xyzXYZ0123456789"}') == '{"key": "rqk_' + MASK + '"}'


def test_the_curl_line_names_the_key_variable_and_quotes_the_body():
    masker = Masker(["admin-secret"])
    body = '{"content": "it\'s"}'
    line = curl_line("POST", "/v1/chat/completions", "a=1", {"host": "127.0.0.1:9", "authorization": "Bearer admin-secret",
                     "content-type": "application/json", "x-stainless-os": "Linux", "x-title": "t"}, body, masker)
    assert "admin-secret" not in line and "stainless" not in line
    words = shlex.split(line)
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:9/v1/chat/completions?a=1"]
    assert "Authorization: Bearer $REQUESTY_API_KEY" in words  # double-quoted in the line: the shell expands it
    assert words[words.index("--data-raw") + 1] == body
    assert shlex.split(curl_line("GET", "/v1/models", "", {"x-api-key": "k"}, "", masker))[-1] == "x-api-key: $REQUESTY_API_KEY"


def test_an_exchange_in_full_with_secrets_masked(make_client):
    client = watched(make_client())
    created = client.post("/api-keys", json={"name": "team"}).json()
    secret = created["key"]
    client.post("/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {secret}"})
    client.post("/chat/completions", json={**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    inspector = inspector_of(client)
    made, chat, stream = (inspector.detail(i) for i in (1, 2, 3))
    assert made["operation"] == "createApiKey" and secret not in orjson.dumps(made).decode()
    assert '"key": "' + MASK + '"' in made["response"]["body"]
    assert chat["key"] == created["id"] and chat["model"] == "openai/gpt-4o-mini"
    assert ["authorization", f"Bearer {MASK}"] in chat["request"]["headers"]
    assert chat["usage"]["total_tokens"] == chat["tokens"] and chat["cost"] == chat["usage"]["cost"] > 0
    assert "$REQUESTY_API_KEY" in chat["curl"] and secret not in chat["curl"]
    assert stream["stream"] is True and stream["usage"]["cost"] == stream["cost"] > 0
    events = [c["data"] for c in stream["chunks"]]
    assert events[-1] == "data: [DONE]" and all(c["ms"] >= 0 for c in stream["chunks"])
    assert all(ADMIN["Authorization"].split()[1] not in orjson.dumps(d).decode() for d in (made, chat, stream))


def test_the_routes_need_the_admin_key_except_the_page(make_client):
    client = watched(make_client())
    client.get("/models")
    anonymous = make_client(headers=None)
    for path in ("/__mock/inspector/exchanges/1", "/__mock/inspector/example-scenario", "/__mock/inspector/feed"):
        answer = anonymous.get(ROOT + path)
        assert answer.status_code in (401, 403) and "error" in answer.json()
    page = anonymous.get(ROOT + "/__mock/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"] and "<script src" not in page.text
    assert client.get(ROOT + "/__mock/inspector/exchanges/1").json()["path"] == "/v1/models"
    missing = client.get(ROOT + "/__mock/inspector/exchanges/99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get(ROOT + "/__mock/inspector/exchanges/x").status_code == 404
    example = client.get(ROOT + "/__mock/inspector/example-scenario")
    assert client.put(ROOT + "/__mock/scenario", content=example.content).json()["seed"] == 42


def test_the_admin_endpoints_stay_out_of_the_inspector(make_client):
    client = watched(make_client())
    client.get(ROOT + "/__mock/journal")
    client.get(ROOT + "/__mock/inspector/example-scenario")
    assert len(inspector_of(client).store) == 0


def test_reset_empties_the_store(make_client):
    client = watched(make_client())
    client.get("/models")
    assert len(inspector_of(client).store) == 1
    client.post(ROOT + "/__mock/reset")
    assert len(inspector_of(client).store) == 0


def test_nothing_is_captured_while_nobody_watches(make_client):
    client = make_client()
    journal = client.app.state.faults.journal
    client.post("/chat/completions", json=CHAT)
    assert len(inspector_of(client).store) == 0 and journal.capturing is False
    subscriber = inspector_of(client).subscribe()
    assert journal.capturing is True
    client.post("/chat/completions", json=CHAT)
    assert [r.entry[0] for r in inspector_of(client).store] == [2]
    inspector_of(client).unsubscribe(subscriber)
    client.post("/chat/completions", json=CHAT)
    assert len(inspector_of(client).store) == 1 and journal.capturing is False
    assert len(journal.last()) == 3  # the journal itself records every request, watched or not


class FakeExchange:
    def __init__(self, sequence: int):
        self.headers, self.header_bytes, self.request_body, self.query_string = {"host": "h"}, 4, b"", b""
        self.response_headers, self.start, self.chunks = [], time.perf_counter(), [(time.perf_counter(), b"{}")]
        self.sequence = sequence


def entry(sequence: int) -> tuple:
    return (sequence, 0.0, "GET", "/v1/models", "listModels", 200, 0.1, None, "admin", None, None, None, None, 4242)


def test_the_feed_sends_the_list_then_each_entry_then_a_reset():
    async def scenario() -> list[bytes]:
        journal = Journal()
        inspector = Inspector(journal)
        journal.record(*entry(0))  # the plain record() path tells no listener (it is not an exchange)
        inspector.recorded(entry(1), FakeExchange(1))
        feed = inspector.feed(keepalive=0.05)
        got = [await anext(feed)]
        assert len(inspector.subscribers) == 1
        inspector.recorded(entry(2), FakeExchange(2))
        inspector.recorded(entry(3), FakeExchange(3))
        got.append(await anext(feed))
        journal.clear()
        got.append(await anext(feed))
        got.append(await anext(feed))  # nothing new: a keep-alive comment
        await feed.aclose()
        assert inspector.subscribers == set()
        return got

    snapshot, entries, reset, keepalive = asyncio.run(scenario())
    assert snapshot.startswith(b"event: snapshot\n")
    data = orjson.loads(snapshot.split(b"data: ", 1)[1])
    assert [e["sequence"] for e in data["entries"]] == [1] and data["bound"]["entries"] == DEFAULT_ENTRIES
    assert entries.count(b"event: entry\n") == 2 and b'"sequence":3' in entries
    assert reset.startswith(b"event: reset\n") and keepalive == b": keep-alive\n\n"


def test_a_subscriber_far_behind_gets_a_fresh_snapshot(monkeypatch):
    from mockserver.inspector import feed as feed_module

    monkeypatch.setattr(feed_module, "MAX_PENDING", 3)

    async def scenario() -> bytes:
        inspector = Inspector(Journal())
        feed = inspector.feed()
        await anext(feed)
        for i in range(1, 6):
            inspector.recorded(entry(i), FakeExchange(i))
        catch_up = await anext(feed)
        await feed.aclose()
        return catch_up

    catch_up = asyncio.run(scenario())
    assert catch_up.startswith(b"event: snapshot\n") and len(orjson.loads(catch_up.split(b"data: ", 1)[1])["entries"]) == 5


@pytest.mark.parametrize("fault", ["truncate", "error"])
def test_a_broken_stream_is_captured_with_its_fault(make_client, fault):
    client = watched(make_client())
    client.post("/chat/completions", json={**CHAT, "stream": True},
                headers={"X-Mock-Stream-Fault": f"{fault}; after=2"})
    shown = inspector_of(client).detail(1)
    assert shown["fault"] == f"stream:{fault}@2" and shown["stream"] is True
    assert len([c for c in shown["chunks"] if c["data"].startswith("data: {")]) >= 2
