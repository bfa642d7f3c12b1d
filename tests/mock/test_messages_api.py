"""Anthropic's Messages API, in-process: content blocks, tools, stop reasons, streams, count_tokens, errors."""

from __future__ import annotations

import jsonschema_rs
import orjson
import pytest

from tests.conftest import DEFAULT_API_KEY
from tests.mock.test_responses_api import events

MODEL = "anthropic/claude-sonnet-4-20250514"
ANTHROPIC = {"x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01"}
WEATHER = {"name": "get_weather", "description": "The weather in a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
def claude(make_client):
    return make_client(headers=ANTHROPIC)


def ask(text: str, **fields) -> dict:
    return {"model": MODEL, "max_tokens": 200, "messages": [{"role": "user", "content": text}], **fields}


def test_a_message_answers_in_anthropic_s_shape(claude):
    body = claude.post("/messages", json=ask("Hello", system="Be brief.")).json()
    assert body["type"] == "message" and body["role"] == "assistant" and body["id"].startswith("msg_")
    assert body["content"] == [{"type": "text", "text": "You said: Hello"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    usage = body["usage"]
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
    assert usage["input_tokens"] > 0 and usage["output_tokens"] == 4 and usage["cost"] > 0  # "You", " said", ":", " Hello"


def test_content_blocks_and_a_plain_string_are_the_same_prompt(claude):
    as_string = claude.post("/messages", json=ask("Hello")).json()
    as_blocks = claude.post("/messages", json={**ask(""), "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Hello"}]}]}).json()
    assert as_blocks["usage"] == as_string["usage"] and as_blocks["content"] == as_string["content"]


def test_the_version_header_is_optional_and_bearer_works_too(make_client):
    bearer = make_client()  # Authorization: Bearer, no anthropic-version: 2023-06-01 is assumed
    assert bearer.post("/messages", json=ask("hi")).status_code == 200
    bad = bearer.post("/messages", json=ask("hi"), headers={"anthropic-version": "latest"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_max_tokens_cuts_the_reply(claude):
    body = claude.post("/messages", json=ask("one two three", max_tokens=2)).json()
    assert body["stop_reason"] == "max_tokens" and body["usage"]["output_tokens"] == 2


def test_tool_use_then_tool_result_round_trip(claude):
    first = claude.post("/messages", json=ask("Weather in Paris?", tools=[WEATHER])).json()
    [use] = first["content"]
    assert first["stop_reason"] == "tool_use" and use["type"] == "tool_use" and use["id"].startswith("toolu_")
    jsonschema_rs.validator_for(WEATHER["input_schema"]).validate(use["input"])
    second = claude.post("/messages", json={**ask("Weather in Paris?", tools=[WEATHER]), "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "sunny"}]}]}).json()
    assert second["stop_reason"] == "end_turn" and second["content"][0]["text"] == "You said: Weather in Paris?"
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"]


def test_tool_choice(claude):
    other = {**WEATHER, "name": "get_time"}
    assert claude.post("/messages", json=ask("hi", tools=[WEATHER], tool_choice={"type": "none"})).json()[
        "stop_reason"] == "end_turn"
    named = claude.post("/messages", json=ask("hi", tools=[WEATHER, other],
                                              tool_choice={"type": "tool", "name": "get_time"})).json()
    assert named["content"][0]["name"] == "get_time"
    refused = claude.post("/messages", json=ask("hi", tool_choice={"type": "any"}))
    assert refused.status_code == 400 and "'any'" in refused.json()["error"]["message"]


def test_the_stream_is_anthropic_s_grammar_and_adds_up_to_the_json_answer(claude):
    plain = claude.post("/messages", json=ask("Tell me about streams")).json()
    answer = claude.post("/messages", json=ask("Tell me about streams", stream=True))
    stream = events(answer.text)
    names = [name for name, _ in stream]
    assert all(name == payload["type"] for name, payload in stream)
    deltas = names.count("content_block_delta")
    assert names == ["message_start", "ping", "content_block_start", *["content_block_delta"] * deltas,
                     "content_block_stop", "message_delta", "message_stop"]
    start = stream[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == plain["usage"]["input_tokens"]
    text = "".join(p["delta"]["text"] for n, p in stream if n == "content_block_delta")
    assert text == plain["content"][0]["text"]
    message_delta = stream[-2][1]
    assert message_delta["delta"]["stop_reason"] == "end_turn" and message_delta["usage"] == plain["usage"]


def test_a_streamed_tool_use_sends_its_input_as_json_pieces(claude):
    stream = events(claude.post("/messages", json=ask("Weather?", tools=[WEATHER], stream=True)).text)
    start = next(p for n, p in stream if n == "content_block_start")["content_block"]
    assert start["type"] == "tool_use" and start["input"] == {} and start["name"] == "get_weather"
    pieces = [p["delta"] for n, p in stream if n == "content_block_delta"]
    assert {d["type"] for d in pieces} == {"input_json_delta"}
    jsonschema_rs.validator_for(WEATHER["input_schema"]).validate(orjson.loads("".join(d["partial_json"] for d in pieces)))
    assert stream[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_count_tokens_is_the_input_a_message_is_billed_and_costs_nothing(claude):
    request = ask("How many tokens is this?", system="Be brief.", tools=[WEATHER])
    counted = claude.post("/messages/count_tokens", json={k: v for k, v in request.items() if k != "max_tokens"})
    assert counted.status_code == 200
    before = claude.get("/organization/usage", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).json()
    assert before["total_requests"] == 0
    billed = claude.post("/messages", json=request).json()["usage"]
    assert counted.json() == {"input_tokens": billed["input_tokens"]}
    unknown = claude.post("/messages/count_tokens", json={"model": "nope/x", "messages": [{"role": "user", "content": "x"}]})
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"
    # refused exactly when the Messages call would be
    no_tools = claude.post("/messages/count_tokens", json={"model": MODEL, "tool_choice": {"type": "any"},
                                                           "messages": [{"role": "user", "content": "x"}]})
    assert no_tools.status_code == 400 and no_tools.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(("headers", "body", "status", "kind"), [
    ({}, ask("hi"), 401, "authentication_error"),
    ({"x-api-key": "wrong"}, ask("hi"), 401, "authentication_error"),
    (ANTHROPIC, {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, 400, "invalid_request_error"),
    (ANTHROPIC, ask("hi", model="nope/x"), 404, "not_found_error"),
    (ANTHROPIC, ask("hi", max_tokens=10 ** 7), 400, "invalid_request_error"),
    (ANTHROPIC, ask("hi", tools=[{"name": "f", "input_schema": {"type": 7}}]), 400, "invalid_request_error"),
])
def test_errors_are_in_anthropic_s_shape(make_client, headers, body, status, kind):
    answer = make_client(headers=headers).post("/messages", json=body)
    assert answer.status_code == status
    assert answer.json() == {"type": "error", "error": {"type": kind, "message": answer.json()["error"]["message"]}}
    assert answer.json()["error"]["message"]


def test_a_wrong_method_and_a_spent_key_are_anthropic_shaped_too(make_client):
    admin = make_client()
    answer = admin.get("/messages")
    assert answer.status_code == 405 and answer.json()["error"]["type"] == "invalid_request_error"
    assert "POST" in answer.headers["allow"]
    key = admin.post("/api-keys", json={"name": "spent", "limit": 0}).json()["key"]
    refused = admin.post("/messages", json=ask("hi"), headers={"Authorization": "", "x-api-key": key})
    assert refused.status_code == 402 and refused.json()["error"]["type"] == "billing_error"
    assert admin.post("/messages/count_tokens", json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
                      headers={"Authorization": "", "x-api-key": key}).status_code == 200  # counting is free


def test_every_status_maps_to_an_anthropic_error_type():
    from mockserver.error_shapes import anthropic_type

    assert [anthropic_type(s) for s in (400, 401, 402, 403, 404, 413, 429, 500, 503, 529, 418, 599)] == [
        "invalid_request_error", "authentication_error", "billing_error", "permission_error", "not_found_error",
        "request_too_large", "rate_limit_error", "api_error", "overloaded_error", "overloaded_error",
        "invalid_request_error", "api_error"]


def test_cors_lets_browser_code_call_both_apis(make_client):
    client = make_client(headers={})
    for path in ("/messages", "/responses"):
        preflight = client.options(path, headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "x-api-key, anthropic-version, content-type"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
        assert preflight.headers["access-control-allow-headers"] == "x-api-key, anthropic-version, content-type"
    answer = client.post("/messages", json=ask("hi"), headers={**ANTHROPIC, "Origin": "http://localhost:3000"})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    refused = client.post("/messages", json=ask("hi"), headers={"Origin": "http://localhost:3000"})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"


def test_injected_faults_are_anthropic_shaped_on_messages(make_client):
    from mockserver.faults.scenario import build_scenario

    client = make_client(headers=ANTHROPIC)
    client.app.state.faults.load(build_scenario({"rate_limits": {"rpm": 1}}))
    assert client.post("/messages", json=ask("hi")).status_code == 200
    limited = client.post("/messages", json=ask("hi"))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.json()["type"] == "error" and limited.json()["error"]["type"] == "rate_limit_error"
    client.app.state.faults.load(build_scenario({}))
    overloaded = client.post("/messages", json=ask("hi"), headers={"Prefer": "code=503"})
    assert overloaded.status_code == 503 and overloaded.json()["error"]["type"] == "overloaded_error"
    chat = client.post("/responses", json={"model": "openai/gpt-4o-mini", "input": "hi"}, headers={"Prefer": "code=503"})
    assert chat.status_code == 503 and chat.json()["error"]["code"] == "service_unavailable"  # OpenAI's shape there
