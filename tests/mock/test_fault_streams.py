"""Stream faults as the OpenAI SDK sees them, on a real loopback server, plus the send wrapper alone."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import orjson
import pytest

from mockserver.faults.scenario import StreamFault
from mockserver.faults.streams import FaultySend, StreamAborted
from tests.conftest import DEFAULT_API_KEY

MESSAGES = [{"role": "user", "content": "Hi"}]
DONE = b"data: [DONE]\n\n"
REPLY = "Hello from the mock stream."
# The chat stream for REPLY: the role chunk, one chunk a token, the finish chunk (then [DONE]).
CONTENTS = ["", "Hello", " from", " the", " mock", " stream", ".", None]
RAW = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "X-Mock-Reply": REPLY}
STREAM = {"messages": MESSAGES, "stream": True}


def chunk(index: int, content: str | None, finish: str | None = None) -> bytes:
    delta = {"role": "assistant", "content": content} if index == 0 else {"content": content}
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1, "model": "test/model",
            "choices": [{"index": 0, "delta": delta if finish is None else {}, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(body) + b"\n\n"


@pytest.fixture(scope="module")
def mock():
    from mockserver.config import MockConfig
    from mockserver.testing import serve_in_thread

    with serve_in_thread(MockConfig(api_key=DEFAULT_API_KEY)) as running:
        yield running


def sdk(mock, read_timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0,
                         timeout=httpx.Timeout(5.0, read=read_timeout))


def contents(client: openai.OpenAI, fault: str | None, received: list | None = None) -> list:
    received = [] if received is None else received
    headers = {"X-Mock-Reply": REPLY, **({"X-Mock-Stream-Fault": fault} if fault else {})}
    stream = client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True,
                                            extra_headers=headers)
    for part in stream:
        received.append(part.choices[0].delta.content)
    return received


def test_a_clean_stream_has_every_chunk(mock):
    assert contents(sdk(mock), None) == CONTENTS


def test_truncate_ends_the_stream_without_done(mock):
    assert contents(sdk(mock), "truncate; after=2") == CONTENTS[:2]  # the SDK sees a short, unfinished answer
    raw = httpx.post(f"{mock.url}/chat/completions", json=STREAM, headers={**RAW, "X-Mock-Stream-Fault": "truncate; after=2"})
    assert raw.status_code == 200 and raw.content.count(b"\n\n") == 2 and DONE not in raw.content


def test_truncate_after_more_events_than_the_stream_has_still_drops_done(mock):
    raw = httpx.post(f"{mock.url}/chat/completions", json=STREAM, headers={**RAW, "X-Mock-Stream-Fault": "truncate; after=99"})
    assert raw.content.count(b"\n\n") == len(CONTENTS) and DONE not in raw.content


def test_stall_is_a_read_timeout(mock):
    received: list = []
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        contents(sdk(mock, read_timeout=0.3), "stall; after=1; seconds=5", received)
    assert received == CONTENTS[:1] and time.monotonic() - started < 3


def test_stall_shorter_than_the_timeout_only_delays(mock):
    started = time.monotonic()
    assert contents(sdk(mock), "stall; after=2; seconds=0.3") == CONTENTS
    assert time.monotonic() - started >= 0.3


def test_error_event_raises_api_error_mid_stream(mock):
    received: list = []
    with pytest.raises(openai.APIError, match="injected fault") as info:
        contents(sdk(mock), "error; after=3", received)
    assert received == CONTENTS[:3] and not isinstance(info.value, openai.APIStatusError)


def test_disconnect_is_a_connection_error(mock):
    received: list = []
    with pytest.raises(openai.APIConnectionError):
        contents(sdk(mock), "disconnect; after=2", received)
    assert received == CONTENTS[:2]


def test_malformed_chunk_fails_to_parse(mock):
    received: list = []
    with pytest.raises(ValueError):  # json.JSONDecodeError inside the SDK's iterator
        contents(sdk(mock), "malformed; after=1", received)
    assert received == CONTENTS[:1]


def test_latency_header_delays_the_answer(mock):
    client = sdk(mock)
    started = time.monotonic()
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True,
                                   extra_headers={"X-Mock-Latency-Ms": "300"}).close()
    assert time.monotonic() - started >= 0.3


def test_journal_names_the_stream_fault(mock):
    contents(sdk(mock), "truncate; after=3")
    entry = httpx.get(f"{mock.origin}/__mock/journal?limit=1", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).json()
    assert entry["data"][0]["fault"] == "stream:truncate@3" and entry["data"][0]["operation"] == "createChatCompletion"


# The wrapper alone: events split across ASGI messages, and other media types untouched.

def run(fault: StreamFault, bodies: list[bytes], media: bytes = b"text/event-stream") -> tuple[list[dict], FaultySend]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def no_sleep(seconds):
        sent.append({"type": "slept", "seconds": seconds})

    async def main():
        wrapper = FaultySend(send, fault, sleep=no_sleep)
        await wrapper({"type": "http.response.start", "status": 200, "headers": [(b"content-type", media)]})
        for i, body in enumerate(bodies):
            await wrapper({"type": "http.response.body", "body": body, "more_body": i < len(bodies) - 1})
        return wrapper

    return sent, asyncio.run(main())


def body_of(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


EVENTS = [chunk(i, "x") for i in range(4)] + [DONE]


def test_events_split_across_messages_are_counted_whole():
    joined = b"".join(EVENTS)
    pieces = [joined[i:i + 7] for i in range(0, len(joined), 7)]
    sent, wrapper = run(StreamFault("truncate", after=3), pieces)
    assert body_of(sent) == b"".join(EVENTS[:3]) and wrapper.fired and wrapper.count == 3
    assert sent[-1]["more_body"] is False


@pytest.mark.parametrize("after", [0, 2])
def test_stall_and_malformed_let_the_stream_go_on(after):
    sent, _ = run(StreamFault("stall", after=after, seconds=7), EVENTS)
    assert {"type": "slept", "seconds": 7} in sent and body_of(sent) == b"".join(EVENTS)
    sent, _ = run(StreamFault("malformed", after=after), EVENTS)
    assert body_of(sent).endswith(DONE) and body_of(sent).count(b"\n\n") == len(EVENTS) + 1


def test_disconnect_raises_to_stop_the_app():
    with pytest.raises(StreamAborted):
        run(StreamFault("disconnect", after=1), EVENTS)


def test_other_media_types_pass_through():
    sent, wrapper = run(StreamFault("truncate", after=0), [b'{"a": 1}'], media=b"application/json")
    assert body_of(sent) == b'{"a": 1}' and not wrapper.fired


def test_faults_count_the_events_of_a_paced_stream(mock):
    received: list = []
    client = sdk(mock)
    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=MESSAGES, stream=True,
        extra_headers={"X-Mock-Reply": REPLY, "X-Mock-Stream-Fault": "error; after=3",
                       "X-Mock-TTFT-Ms": "20", "X-Mock-Tokens-Per-S": "200"})
    with pytest.raises(openai.APIError, match="injected fault"):
        for part in stream:
            received.append(part.choices[0].delta.content)
    assert received == CONTENTS[:3]
