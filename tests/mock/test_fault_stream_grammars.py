"""Stream faults in each API's own grammar: chat chunks, Responses events, Anthropic Messages events."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mockserver.faults.scenario import StreamFault, build_scenario
from mockserver.faults.streams import FaultySend, grammar_of
from tests.mock.test_responses_api import events

RESPONSES = ("/responses", {"model": "openai/gpt-4o-mini", "input": "Tell me a story", "stream": True})
MESSAGES = ("/messages", {"model": "anthropic/claude-sonnet-4-20250514", "max_tokens": 100, "stream": True,
                          "messages": [{"role": "user", "content": "Tell me a story"}]})


def faulty(client, call, fault: str) -> str:
    path, body = call
    answer = client.post(path, json=body, headers={"X-Mock-Stream-Fault": fault})
    assert answer.status_code == 200
    return answer.text


def test_a_failing_responses_stream_ends_in_response_failed(client):
    text = faulty(client, RESPONSES, "error; after=4")
    *before, (name, failed) = events(text)
    assert len(before) == 4 and name == "response.failed" == failed["type"]
    assert failed["sequence_number"] == before[-1][1]["sequence_number"] + 1  # still strictly increasing
    created = before[0][1]["response"]
    assert failed["response"]["id"] == created["id"] and failed["response"]["status"] == "failed"
    assert failed["response"]["error"]["code"] == "server_error" and failed["response"]["error"]["message"]


def test_a_failing_messages_stream_ends_in_an_anthropic_error_event(client):
    *before, (name, error) = events(faulty(client, MESSAGES, "error; after=3"))
    assert [n for n, _ in before] == ["message_start", "ping", "content_block_start"]
    assert name == "error" and error == {"type": "error", "error": {"type": "api_error", "message": error["error"]["message"]}}


@pytest.mark.parametrize(("call", "last"), [(RESPONSES, "response.completed"), (MESSAGES, "message_stop")])
def test_truncate_drops_the_last_event_even_when_after_is_beyond_the_stream(client, call, last):
    names = [n for n, _ in events(faulty(client, call, "truncate; after=999"))]
    clean = [n for n, _ in events(client.post(call[0], json=call[1]).text)]
    assert names == clean[:-1] and clean[-1] == last


@pytest.mark.parametrize(("call", "event_name"), [(RESPONSES, b"response.output_text.delta"),
                                                  (MESSAGES, b"content_block_delta")])
def test_malformed_sends_a_broken_event_of_the_grammar_and_goes_on(client, call, event_name):
    blocks = faulty(client, call, "malformed; after=2").strip().split("\n\n")
    broken = blocks[2].encode()
    assert broken.startswith(b"event: " + event_name + b"\ndata: ")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(broken.split(b"data: ", 1)[1])
    clean = client.post(call[0], json=call[1]).text.strip().split("\n\n")
    assert len(blocks) == len(clean) + 1


def test_a_scenario_breaks_every_api_s_streams(make_client):
    client = make_client()
    client.app.state.faults.load(build_scenario({"stream_faults": [
        {"fault": "error", "rate": 1.0, "after": 2, "operations": ["createResponse", "createAnthropicMessage"]}]}))
    for call, last in ((RESPONSES, "response.failed"), (MESSAGES, "error")):
        assert events(client.post(call[0], json=call[1]).text)[-1][0] == last
    chat = client.post("/chat/completions", json={"model": "openai/gpt-4o-mini", "stream": True,
                                                  "messages": [{"role": "user", "content": "hi"}]})
    assert chat.text.endswith("data: [DONE]\n\n")  # not among the scenario's operations
    journal = client.app.state.faults.journal.last(3)
    assert [e["fault"] for e in journal[:3]] == [None, "stream:error@2", "stream:error@2"]  # newest first


def test_the_grammar_is_recognised_from_the_first_event():
    assert type(grammar_of(b"data: {}\n\n")).__name__ == "ChatGrammar"
    assert type(grammar_of(b"event: response.created\ndata: {}\n\n")).__name__ == "ResponsesGrammar"
    assert type(grammar_of(b"event: message_start\ndata: {}\n\n")).__name__ == "MessagesGrammar"


def test_the_send_wrapper_alone_fails_a_responses_stream():
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    wrapper = FaultySend(send, StreamFault("error", after=1))
    created = {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "status": "in_progress"}}
    body = b"event: response.created\ndata: " + orjson.dumps(created) + b"\n\nevent: response.in_progress\ndata: {}\n\n"

    async def main():
        await wrapper({"type": "http.response.start", "status": 200,
                       "headers": [(b"content-type", b"text/event-stream")]})
        await wrapper({"type": "http.response.body", "body": body, "more_body": True})

    asyncio.run(main())
    out = b"".join(m.get("body", b"") for m in sent[1:])
    failed = orjson.loads(out.split(b"\n\n")[1].split(b"data: ", 1)[1])
    assert failed == {"type": "response.failed", "sequence_number": 1,
                      "response": {"id": "resp_1", "status": "failed", "usage": None,
                                   "error": {"code": "server_error", "message": failed["response"]["error"]["message"]}}}
    assert sent[-1]["more_body"] is False and wrapper.fired
