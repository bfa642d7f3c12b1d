"""The official openai (Responses API) and anthropic (Messages API) Python SDKs against the mock on a real port.

Each SDK assembles from the stream the same text, tool calls and usage (cost included) as the JSON answer.
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import jsonschema_rs
import openai
import pytest
from pydantic import BaseModel

from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.testing import RequestyMock, serve_in_thread

MODEL = "openai/gpt-4o-mini"
CLAUDE = "anthropic/claude-sonnet-4-20250514"
WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather for a city", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "minLength": 2},
                                                           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                          "required": ["city", "unit"], "additionalProperties": False}}
CLAUDE_WEATHER = {"name": WEATHER["name"], "description": WEATHER["description"], "input_schema": WEATHER["parameters"]}


@pytest.fixture(scope="module")
def mock(spec):
    with serve_in_thread(MockConfig(spec=spec, api_key=DEFAULT_API_KEY)) as running:
        yield RequestyMock(running)


@pytest.fixture
def client(mock) -> openai.OpenAI:
    return mock.openai(timeout=10)


@pytest.fixture
def claude(mock) -> anthropic.Anthropic:
    return mock.anthropic(timeout=10)  # base URL without /v1: the SDK posts to /v1/messages


# -- the Responses API through openai ------------------------------------------------------------------


def fresh_client(mock) -> openai.OpenAI:
    """A client on a new key: the mock caches prompt prefixes per key, so its first call is a first sight."""
    secret = mock.openai().post("/api-keys", body={"name": "fresh"}, cast_to=dict)["key"]
    return openai.OpenAI(base_url=mock.url, api_key=secret, max_retries=0, timeout=10)


def test_create_and_stream_give_the_same_text_and_usage(client, mock):
    request = {"model": MODEL, "instructions": "Be brief.", "input": "Hello from the Responses API"}
    created = client.responses.create(**request)
    assert created.output_text == "You said: Hello from the Responses API" and created.status == "completed"
    deltas = []
    streaming = fresh_client(mock)
    with streaming.responses.stream(**request) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == created.output_text
    assert final.usage.model_dump() == created.usage.model_dump()
    assert final.usage.cost == created.usage.cost > 0  # Requesty's cost, read by the SDK as an extra field
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens
    assert streaming.responses.retrieve(final.id).output_text == final.output_text  # stored


def test_a_streamed_function_tool_round_trip(client):
    with client.responses.stream(model=MODEL, input="Weather in Paris?", tools=[WEATHER]) as stream:
        first = stream.get_final_response()
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    jsonschema_rs.validator_for(WEATHER["parameters"]).validate(json.loads(call.arguments))
    assert call.parsed_arguments == json.loads(call.arguments)  # strict: the SDK parsed the arguments
    plain = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    assert plain.output[0].arguments == call.arguments and plain.usage.model_dump() == first.usage.model_dump()
    answer = {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"temp": 21})}
    with client.responses.stream(model=MODEL, previous_response_id=first.id, tools=[WEATHER], input=[answer]) as stream:
        second = stream.get_final_response()
    assert second.output_text == "You said: Weather in Paris?" and second.previous_response_id == first.id
    replayed = client.responses.create(model=MODEL, tools=[WEATHER], input=[
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments}, answer])
    assert replayed.output_text == second.output_text and replayed.usage.cost == second.usage.cost


class Person(BaseModel):
    name: str
    age: int


def test_text_format_json_schema_is_parsed_by_the_sdk(client):
    parsed = client.responses.parse(model=MODEL, input="Who wrote this?", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)
    with client.responses.stream(model=MODEL, input="Who wrote this?", text_format=Person) as stream:
        streamed = stream.get_final_response()
    assert streamed.output_parsed == parsed.output_parsed


def test_the_async_client(mock):
    async def run():
        async with mock.async_openai(timeout=10) as client:
            created = await client.responses.create(model=MODEL, input="async hello")
            async with client.responses.stream(model=MODEL, input="async hello") as stream:
                streamed = await stream.get_final_response()
            called = await client.responses.create(model=MODEL, input="async hello", tools=[WEATHER])
            async with client.responses.stream(model=MODEL, input="async hello", tools=[WEATHER]) as stream:
                streamed_call = await stream.get_final_response()
            return created, streamed, called, streamed_call

    created, streamed, called, streamed_call = asyncio.run(run())
    assert created.output_text == streamed.output_text == "You said: async hello"
    assert created.usage.model_dump() == streamed.usage.model_dump() and created.usage.cost > 0
    assert streamed_call.output[0].type == "function_call"
    assert streamed_call.output[0].arguments == called.output[0].arguments
    assert streamed_call.usage.model_dump() == called.usage.model_dump()


def test_a_failed_responses_stream_is_seen_by_the_sdk(client):
    with client.responses.stream(model=MODEL, input="Hello",
                                 extra_headers={"X-Mock-Stream-Fault": "error; after=3"}) as stream:
        seen = [event.type for event in stream]
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert seen[-1] == "response.failed"
    with pytest.raises(json.JSONDecodeError):
        list(client.responses.create(model=MODEL, input="Hello", stream=True,
                                     extra_headers={"X-Mock-Stream-Fault": "malformed; after=3"}))


# -- the Messages API through anthropic ---------------------------------------------------------------


def test_create_and_stream_give_the_same_message(claude):
    request = {"model": CLAUDE, "max_tokens": 200, "system": "Be brief.",
               "messages": [{"role": "user", "content": "Hello from the Messages API"}]}
    created = claude.messages.create(**request)
    assert created.content[0].text == "You said: Hello from the Messages API" and created.stop_reason == "end_turn"
    with claude.messages.stream(**request) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text == created.content[0].text
    assert (final.usage.input_tokens, final.usage.output_tokens) == (created.usage.input_tokens, created.usage.output_tokens)
    assert final.stop_reason == created.stop_reason
    assert created.usage.cost > 0 and created.usage.cache_read_input_tokens == 0


def test_the_stream_s_message_delta_carries_the_final_usage_and_cost(claude):
    request = {"model": CLAUDE, "max_tokens": 200, "messages": [{"role": "user", "content": "What does it cost?"}]}
    created = claude.messages.create(**request)
    with claude.messages.stream(**request) as stream:
        deltas = [event for event in stream if event.type == "message_delta"]
    [delta] = deltas
    assert delta.usage.output_tokens == created.usage.output_tokens and delta.usage.cost == created.usage.cost


def test_a_streamed_tool_use_round_trip_and_count_tokens(claude):
    ask = {"role": "user", "content": "Weather in Paris?"}
    with claude.messages.stream(model=CLAUDE, max_tokens=200, tools=[CLAUDE_WEATHER], messages=[ask]) as stream:
        first = stream.get_final_message()
    [use] = first.content
    assert first.stop_reason == "tool_use" and use.type == "tool_use"
    jsonschema_rs.validator_for(CLAUDE_WEATHER["input_schema"]).validate(use.input)
    plain = claude.messages.create(model=CLAUDE, max_tokens=200, tools=[CLAUDE_WEATHER], messages=[ask])
    assert plain.content[0].input == use.input and plain.usage.output_tokens == first.usage.output_tokens
    conversation = [ask, {"role": "assistant", "content": first.content},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21 C"}]}]
    answer = claude.messages.create(model=CLAUDE, max_tokens=200, tools=[CLAUDE_WEATHER], messages=conversation)
    assert answer.stop_reason == "end_turn" and answer.content[0].text == "You said: Weather in Paris?"
    counted = claude.messages.count_tokens(model=CLAUDE, tools=[CLAUDE_WEATHER], messages=conversation)
    assert counted.input_tokens == answer.usage.input_tokens


def test_anthropic_errors_are_the_sdk_s_typed_exceptions(mock, claude):
    with pytest.raises(anthropic.AuthenticationError) as wrong:
        anthropic.Anthropic(base_url=mock.origin, api_key="wrong", max_retries=0).messages.create(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert wrong.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude.messages.create(model="nope/x", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert missing.value.body["type"] == "error" and missing.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model=CLAUDE, max_tokens=10, messages=[])
    with pytest.raises(anthropic.APIStatusError) as broken:
        with claude.messages.stream(model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "x"}],
                                    extra_headers={"X-Mock-Stream-Fault": "error; after=4"}) as stream:
            list(stream)
    assert broken.value.body["error"]["type"] == "api_error"
