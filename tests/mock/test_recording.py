"""Recording and replay in process: the recorder in front of a mock (both as ASGI apps), the format, redaction,
matching, the replay over the handler table (billing, limits, faults, strict misses, coverage) and HAR."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import orjson
import pytest

from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.handlers.table import BUILTIN
from mockserver.recording import Chunk, RecordedExchange, RecordedRequest, RecordedResponse, RecordingError, read_exchanges
from mockserver.recording.format import Header, exchange_json, parse_exchange
from mockserver.recording.har import to_har, write_har
from mockserver.recording.matching import Matcher
from mockserver.recording.operations import Operations
from mockserver.recording.proxy import Recorder, Upstream
from mockserver.recording.redaction import Redactor
from mockserver.recording.replay import Replay, load_replay, recorded_usage
from mockserver.recording.serve import replay_app
from mockserver.recording.settings import SettingsError, load_settings
from mockserver.recording.writer import RecordingWriter
from mockserver.state import MockState

ADMIN = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
HELLO = [{"role": "user", "content": "Hello there, recorder"}]
CHAT = {"model": "openai/gpt-4o-mini", "messages": HELLO}
STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}


class StreamingASGI(httpx.AsyncBaseTransport):
    """httpx's ASGITransport buffers a whole answer; this one hands each ASGI body message on as it is sent."""

    def __init__(self, app):
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = {"type": "http", "http_version": "1.1", "method": request.method, "path": request.url.path,
                 "raw_path": request.url.raw_path.split(b"?")[0], "query_string": request.url.query,
                 "root_path": "", "scheme": "http", "server": ("upstream", 80), "client": ("test", 1),
                 "headers": [(k.lower(), v) for k, v in request.headers.raw]}
        queue: asyncio.Queue = asyncio.Queue()
        sent = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if sent:
                return sent.pop()
            await asyncio.Event().wait()

        task = asyncio.create_task(self.app(scope, receive, queue.put))
        start = await queue.get()

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self):
                while True:
                    message = await queue.get()
                    if message.get("body"):
                        yield message["body"]
                    if not message.get("more_body", False):
                        break
                await task

        return httpx.Response(start["status"], headers=start.get("headers", []), stream=Body())


def record(tmp_path: Path, spec, calls, *, config: str | None = None, **mock: object) -> tuple[Path, list[httpx.Response]]:
    """Send ``calls`` (method, path, json, headers) through a recorder in front of a mock; the recording's dir and answers."""
    settings = load_settings(config)
    upstream_app = create_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY, **mock))  # type: ignore[arg-type]
    writer = RecordingWriter(tmp_path / "rec", Header("http://upstream/v1", "now", settings.redaction_json(),
                                                      settings.match_json()))
    recorder = Recorder(Upstream.parse("http://upstream/v1"), writer, Redactor(settings),
                        Operations(spec, BUILTIN, settings.management_path_prefixes),
                        httpx.AsyncClient(transport=StreamingASGI(upstream_app)))

    async def main():
        answers = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=recorder), base_url="http://proxy") as client:
            for method, path, body, headers in calls:
                answers.append(await client.request(method, path, json=body, headers={**ADMIN, **(headers or {})}))
        await recorder.client.aclose()
        return answers

    answers = asyncio.run(main())
    writer.close()
    return tmp_path / "rec", answers


def asgi_call(app, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> list[dict]:
    """The ASGI messages an app sends for one request: the chunking as the server hands it over."""
    raw = orjson.dumps(body) if body is not None else b""
    heads = {**ADMIN, **(headers or {})}
    if body is not None:
        heads.update({"content-type": "application/json", "content-length": str(len(raw))})
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("test", 80), "client": ("test", 1),
             "headers": [(k.lower().encode(), v.encode()) for k, v in heads.items()]}
    sent: list[dict] = []
    pending = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive():
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def body_of(messages: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


@pytest.fixture
def recorded(tmp_path, spec):
    calls = [("POST", "/v1/chat/completions", CHAT, None),
             ("POST", "/v1/chat/completions", STREAM, None),
             ("POST", "/v1/embeddings", {"model": "openai/text-embedding-3-small", "input": "hi"}, None),
             ("POST", "/v1/api-keys", {"name": "rec"}, None)]
    folder, answers = record(tmp_path, spec, calls, tokens_per_s=1000)
    return folder, answers


# -- the recording ----------------------------------------------------------------------------------


def test_recorder_passes_answers_through_and_writes_each_exchange(recorded):
    folder, answers = recorded
    exchanges = list(read_exchanges(folder))
    assert [e.request.path for e in exchanges] == ["/v1/chat/completions"] * 2 + ["/v1/embeddings", "/v1/api-keys"]
    assert [e.operation for e in exchanges] == ["createChatCompletion", "createChatCompletion", "createEmbedding",
                                                "createApiKey"]
    assert [e.management for e in exchanges] == [False, False, False, True]
    for exchange, answer in zip(exchanges[:3], answers[:3], strict=True):
        assert exchange.response.status == answer.status_code == 200
        assert exchange.response.body == answer.content  # what the client got, byte for byte
    stream = exchanges[1].response
    assert stream.is_stream and len(stream.chunks) > 1 and b"".join(c.data for c in stream.chunks) == stream.body
    assert [c.t_ms for c in stream.chunks] == sorted(c.t_ms for c in stream.chunks)
    assert stream.ttfb_ms == stream.chunks[0].t_ms and stream.total_ms >= stream.chunks[-1].t_ms
    assert exchanges[0].response.chunks is None


def test_secrets_never_reach_the_file(recorded):
    folder, answers = recorded
    created = answers[3].json()["key"]
    data = b"".join(p.read_bytes() for p in folder.iterdir())
    assert DEFAULT_API_KEY.encode() not in data and created.encode() not in data
    key_exchange = list(read_exchanges(folder))[3]
    assert json.loads(key_exchange.response.body)["key"] == "[REDACTED]"
    assert key_exchange.request.header("authorization") == "Bearer [REDACTED]"
    assert oct(next(folder.iterdir()).stat().st_mode & 0o777) == "0o600"


def test_a_learned_secret_is_scrubbed_everywhere_even_split_across_chunks():
    settings = load_settings()
    redactor = Redactor(settings)
    secret = "sk-live-0123456789abcdef"
    pieces = [b"data: {\"a\": \"sk-live-0123", b"456789abcdef\"}\n\n", b"data: [DONE]\n\n"]
    exchange = RecordedExchange(
        1, RecordedRequest("POST", "/v1/chat/completions", f"key={secret}", (("x-api-key", secret),),
                           f'{{"note": "{secret}"}}'.encode()),
        RecordedResponse(200, (("content-type", "text/event-stream"),), b"".join(pieces),
                         tuple(Chunk(i, p) for i, p in enumerate(pieces))))
    clean = redactor.redact(exchange)
    written = orjson.dumps(exchange_json(clean))
    assert secret.encode() not in written and b"0123456789" not in written
    assert clean.request.header("x-api-key") == "[REDACTED]" and clean.request.query == "key=[REDACTED]"
    assert [c.data for c in clean.response.chunks] == [b'data: {"a": "[REDACTED]', b'"}\n\n', b"data: [DONE]\n\n"]
    assert b"".join(c.data for c in clean.response.chunks) == clean.response.body


def test_config_paths_redact_strings_numbers_and_objects(tmp_path):
    config = tmp_path / "rec.yml"
    config.write_text("redact:\n  paths: ['$.requesty.user_id', '$.metadata', '$.seed']\n  headers: [x-team-token]\n")
    redactor = Redactor(load_settings(config))
    body = orjson.dumps({"requesty": {"user_id": "customer-4242-secret"}, "metadata": {"ssn": 123}, "seed": 7,
                         "messages": [{"content": "I am customer-4242-secret"}]})
    clean = redactor.redact(RecordedExchange(1, RecordedRequest("POST", "/v1/chat/completions",
                                                                headers=(("x-team-token", "t0k3n-abcdefgh"),), body=body),
                                             None))
    assert b"customer-4242" not in clean.request.body and b"ssn" not in clean.request.body
    assert orjson.loads(clean.request.body)["seed"] == "[REDACTED]"
    assert clean.request.headers == (("x-team-token", "[REDACTED]"),)


@pytest.mark.parametrize("text, message", [
    ("redact: [a]", "redact must be a mapping"),
    ("redact:\n  paths: ['user']", "is not a JSON path"),
    ("redact:\n  paths: ['$..[']", "is not a JSON path"),
    ("nonsense: []", "unknown key 'nonsense'"),
    ("match:\n  ignore: [1]", "must be a list of non-empty strings"),
    ("{{", "not YAML"),
])
def test_bad_settings_are_one_line(tmp_path, text, message):
    config = tmp_path / "bad.yml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message) as error:
        load_settings(config)
    assert "\n" not in str(error.value) and str(config) in str(error.value)


# -- the format -------------------------------------------------------------------------------------


def test_every_field_survives_a_round_trip():
    exchange = RecordedExchange(
        7, RecordedRequest("POST", "/v1/x", "a=1", (("content-type", "application/octet-stream"),), b"\xff\x00bin"),
        RecordedResponse(200, (("content-type", "text/event-stream"),), b"data: \xc3\xa9\n\n",
                         (Chunk(1.5, b"data: \xc3"), Chunk(2.0, b"\xa9\n\n")), 1.5, 2.5),
        "2026-12-01T00:00:00.000Z", "createX", True, False, "client dropped", source="here")
    again = parse_exchange(orjson.loads(orjson.dumps(exchange_json(exchange))), "here")
    assert again == exchange


@pytest.mark.parametrize("lines, message", [
    ([b"not json"], "line 1|:1: not JSON"),
    ([b'{"format": "other"}'], ":1: not a recording"),
    ([b'{"format": "mockserver-recording", "version": 9}'], "version 9 is not supported"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x"}, '
      b'"response": {"status": 999}}'], ":2: response.status must be an HTTP status"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "x"}}'],
     ":2: request.path must be a string starting with '/'"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x", '
      b'"body": {"base64": "!!"}}}'], ":2: request.body.base64 is not valid base64"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'[1, 2]'], ":2: exchange must be a JSON object"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x", '
      b'"headers": [["a"]]}}'], "request.headers must be a list of"),
    ([], "empty file"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x"}, '
      b'"response": {"status": 200, "headers": [["x-a", "one\\r\\nSet-Cookie: evil"]]}}'], "HTTP cannot carry"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x"}, '
      b'"response": {"status": 200, "headers": [["x-a", "\\u20ac"]]}}'], "HTTP cannot carry"),
    ([b'{"format": "mockserver-recording", "version": 1}', b'{"request": {"method": "GET", "path": "/x", '
      b'"headers": [["bad name", "v"]]}}'], "HTTP cannot carry"),
])
def test_a_broken_recording_is_one_line_naming_file_and_line(tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(RecordingError, match=message) as error:
        list(read_exchanges(path))
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_har_export_keeps_chunks_and_reads_back(recorded, tmp_path):
    folder, _ = recorded
    exchanges = list(read_exchanges(folder))
    har = to_har(exchanges)
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 4
    entry = har["log"]["entries"][1]
    assert entry["response"]["content"]["mimeType"].startswith("text/event-stream") and entry["_chunks"]
    assert entry["timings"]["wait"] == exchanges[1].response.ttfb_ms
    path = tmp_path / "out.har"
    write_har(exchanges, path)
    again = list(read_exchanges(path))
    for before, after in zip(exchanges, again, strict=True):
        assert (after.request.method, after.request.path, after.request.body) == \
               (before.request.method, before.request.path, before.request.body)
        assert after.response.body == before.response.body and after.response.chunks == before.response.chunks
        assert after.management == before.management and after.operation == before.operation


# -- matching ---------------------------------------------------------------------------------------


def test_matching_ignores_key_order_and_listed_fields_but_not_others():
    matcher = Matcher(["$.user", "$.stream_options"])
    a = matcher.key("POST", "/v1/c", "b=2&a=1", b'{"model": "m", "user": "x", "stream_options": {"include_usage": true}}')
    b = matcher.key("post", "/v1/c", "a=1&b=2", b'{"user": "y", "model": "m"}')
    assert a == b
    assert matcher.key("POST", "/v1/c", "a=1&b=2", b'{"model": "n"}') != a
    assert matcher.key("POST", "/v1/c", "", b"not json") == ("POST", "/v1/c", "", b"not json")


# -- replay -----------------------------------------------------------------------------------------


def test_replay_answers_byte_for_byte_with_the_recorded_chunking(recorded, spec):
    folder, answers = recorded
    replay = load_replay(folder)
    app = replay_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY), replay)
    exchanges = list(read_exchanges(folder))
    chat = asgi_call(app, "POST", "/v1/chat/completions", CHAT)
    assert body_of(chat) == exchanges[0].response.body == answers[0].content
    stream = asgi_call(app, "POST", "/v1/chat/completions", {**STREAM, "user": "someone else"})  # $.user ignored
    pieces = [m["body"] for m in stream if m["type"] == "http.response.body" and m["body"]]
    assert pieces == [c.data for c in exchanges[1].response.chunks]
    start = next(m for m in stream if m["type"] == "http.response.start")
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    key = asgi_call(app, "POST", "/v1/api-keys", {"name": "rec"})
    assert json.loads(body_of(key))["key"] == "[REDACTED]"
    coverage = replay.coverage()
    assert coverage["used"] == 3 and [u["operation"] for u in coverage["unused"]] == ["createEmbedding"]


def test_replayed_answers_are_billed_and_limited_like_generated_ones(recorded, spec):
    folder, _ = recorded
    config = MockConfig(spec=spec, api_key=DEFAULT_API_KEY)
    app = replay_app(config, load_replay(folder))
    state: MockState = app.state.mock
    made = json.loads(body_of(asgi_call(app, "POST", "/v1/api-keys", {"name": "fresh", "limit": 0.000001})))
    assert made["key"].startswith("rqk_")  # not recorded: the live handler made a real key
    as_key = {"Authorization": f"Bearer {made['key']}"}
    recording = list(read_exchanges(folder))[1]
    _, usage = recorded_usage(recording)
    first = asgi_call(app, "POST", "/v1/chat/completions", STREAM, as_key)
    assert first[0]["status"] == 200 and body_of(first) == recording.response.body
    report = state.usage_for_key(made["id"])
    assert report.tokens == usage["total_tokens"] and report.requests == 1
    assert report.cost == round(usage["cost"] * 10**10)
    refused = asgi_call(app, "POST", "/v1/chat/completions", STREAM, as_key)
    assert refused[0]["status"] == 402 and b"key_limit_exceeded" in body_of(refused)


def test_replay_goes_through_the_pipeline_faults_and_journal(recorded, spec):
    folder, _ = recorded
    app = replay_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY), load_replay(folder))
    assert asgi_call(app, "POST", "/v1/chat/completions", CHAT, {"Authorization": "Bearer nope"})[0]["status"] == 401
    faulted = asgi_call(app, "POST", "/v1/chat/completions", CHAT, {"Prefer": "code=429"})
    assert faulted[0]["status"] == 429
    journal = app.state.faults.journal.last(5)
    assert [e["status"] for e in journal][:2] == [429, 401]


def test_unmatched_requests_fall_back_or_get_a_strict_404_naming_the_closest(recorded, spec):
    folder, _ = recorded
    other = {**CHAT, "messages": [{"role": "user", "content": "something else"}]}
    lenient = replay_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY), load_replay(folder))
    generated = json.loads(body_of(asgi_call(lenient, "POST", "/v1/chat/completions", other)))
    assert generated["choices"][0]["message"]["content"] == "You said: something else"
    replay = load_replay(folder, strict=True)
    strict = replay_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY), replay)
    missed = asgi_call(strict, "POST", "/v1/chat/completions", other)
    error = json.loads(body_of(missed))["error"]
    assert missed[0]["status"] == 404 and error["code"] == "no_recording"
    assert "recording-" in error["message"] and "$.messages[0].content" in error["message"]
    assert asgi_call(strict, "GET", "/v1/models")[0]["status"] == 404
    assert replay.coverage()["unmatched"] == [{"request": "GET /v1/models", "count": 1},
                                              {"request": "POST /v1/chat/completions", "count": 1}]
    seen = asgi_call(strict, "GET", "/__mock/replay")
    assert json.loads(body_of(seen))["unmatched"][0]["request"] == "GET /v1/models"
    assert asgi_call(strict, "GET", "/__mock/replay", headers={"Authorization": "Bearer x"})[0]["status"] in (401, 403)


def test_the_same_request_recorded_twice_replays_in_order_then_the_last(tmp_path, spec):
    calls = [("GET", "/v1/api-keys", None, None), ("POST", "/v1/api-keys", {"name": "a"}, None),
             ("GET", "/v1/api-keys", None, None)]
    folder, answers = record(tmp_path, spec, calls)
    app = replay_app(MockConfig(spec=spec, api_key=DEFAULT_API_KEY), Replay(list(read_exchanges(folder)), load_settings()))
    bodies = [json.loads(body_of(asgi_call(app, "GET", "/v1/api-keys")))["data"] for _ in range(3)]
    assert bodies[0] == [] and len(bodies[1]) == 1 and bodies[2] == bodies[1]
    assert bodies[1][0]["id"] == answers[1].json()["id"]
