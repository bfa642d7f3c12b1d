"""The official openai SDK against the mock on a real loopback port: what a frontend developer sees."""

from __future__ import annotations

import asyncio
import json
import math

import jsonschema_rs
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.llm.catalog import default_catalog
from mockserver.testing import serve_in_thread

HELLO = [{"role": "user", "content": "Hello, gateway! How are you today?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture(scope="module")
def mock(spec):
    with serve_in_thread(MockConfig(spec=spec, api_key=DEFAULT_API_KEY)) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(mock):
    with OpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0) as client:
        yield client


def test_chat_completion(sdk):
    completion = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "openai/gpt-4o-mini"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "You said: Hello, gateway! How are you today?"
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.model_extra["cost"] == pytest.approx((usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.6) / 1e6)


def test_stream_with_usage_matches_the_non_stream_answer(sdk):
    request = {"model": "anthropic/claude-sonnet-4-20250514", "messages": HELLO}
    plain = sdk.chat.completions.create(**request)
    chunks = list(sdk.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}))
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    assert last.usage.model_dump() == plain.usage.model_dump()
    assert last.usage.model_extra["cost"] > 0


def test_async_stream(mock):
    async def run():
        async with AsyncOpenAI(base_url=mock.url, api_key=DEFAULT_API_KEY, max_retries=0) as client:
            stream = await client.chat.completions.create(model="deepseek/deepseek-chat", messages=HELLO, stream=True)
            return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: Hello, gateway! How are you today?"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize("encoding", [openai.NOT_GIVEN, "float"])
def test_embeddings_several_inputs(sdk, encoding):
    texts = ["first text", "second, longer text", "third"]
    result = sdk.embeddings.create(model="openai/text-embedding-3-small", input=texts, encoding_format=encoding)
    assert [item.index for item in result.data] == [0, 1, 2]
    for item in result.data:
        assert len(item.embedding) == 1536
        assert math.sqrt(sum(v * v for v in item.embedding)) == pytest.approx(1, abs=1e-5)
    one = sdk.embeddings.create(model="openai/text-embedding-3-small", input=texts[1], encoding_format=encoding)
    assert one.data[0].embedding == pytest.approx(result.data[1].embedding, abs=1e-7)
    assert result.data[0].embedding != result.data[1].embedding
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0
    assert result.usage.model_extra["cost"] == pytest.approx(result.usage.prompt_tokens * 0.02 / 1e6)


def test_embeddings_dimensions(sdk):
    result = sdk.embeddings.create(model="mistral/mistral-embed", input="short", dimensions=256)
    assert len(result.data[0].embedding) == 256


def test_models_list(sdk):
    models = {m.id: m for m in sdk.models.list()}
    assert set(models) == {m.id for m in default_catalog().models}
    mini = models["openai/gpt-4o-mini"]
    assert mini.owned_by == "openai"
    assert mini.model_extra["input_price"] == 0.15 and mini.model_extra["context_window"] == 128000
    assert models["openai/text-embedding-3-large"].model_extra["dimensions"] == 3072


def test_wrong_key(mock):
    with OpenAI(base_url=mock.url, api_key="rq-wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert info.value.code == "invalid_api_key"


def test_invalid_body(sdk):
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, temperature=7)
    assert info.value.code == "invalid_request" and info.value.param == "$.temperature"
    assert info.value.body["details"][0]["path"] == "$.temperature"


def test_unknown_model(sdk):
    with pytest.raises(openai.NotFoundError) as info:
        sdk.chat.completions.create(model="openai/gpt-9", messages=HELLO)
    assert info.value.code == "model_not_found" and "openai/gpt-9" in info.value.message


def test_context_overflow(sdk):
    long = [{"role": "user", "content": "word " * 9000}]
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(model="together/meta-llama/Llama-3-8b-chat-hf", messages=long)
    assert info.value.code == "context_length_exceeded"
    # 9000 words + the trailing space + 3 for the message + 3 for priming the reply
    assert "8192-token context window" in info.value.message and "9007 tokens" in info.value.message


def test_max_tokens_cuts_the_reply(sdk):
    completion = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, max_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "You said:"
    assert completion.usage.completion_tokens == 3


def test_required_tool_call(sdk):
    completion = sdk.chat.completions.create(model="openai/gpt-4o", messages=HELLO, tools=[WEATHER_TOOL],
                                             tool_choice="required")
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.type == "function" and call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    jsonschema_rs.validate(WEATHER_TOOL["function"]["parameters"], arguments)


def test_response_format_json_schema(sdk):
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"},
              "minItems": 1}, "score": {"type": "number", "minimum": 0, "maximum": 1}},
              "required": ["title", "tags", "score"], "additionalProperties": False}
    completion = sdk.chat.completions.create(
        model="google/gemini-2.5-flash", messages=HELLO,
        response_format={"type": "json_schema", "json_schema": {"name": "summary", "schema": schema, "strict": True}})
    jsonschema_rs.validate(schema, json.loads(completion.choices[0].message.content))


def test_streamed_tool_call_accumulates_in_the_sdk(sdk):
    with sdk.chat.completions.stream(model="openai/gpt-4o-mini", messages=HELLO, tools=[WEATHER_TOOL],
                                     tool_choice={"type": "function", "function": {"name": "get_weather"}}) as stream:
        final = stream.get_final_completion()
    plain = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, tools=[WEATHER_TOOL],
                                        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    streamed, returned = final.choices[0].message.tool_calls[0], plain.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls"
    assert (streamed.function.name, streamed.function.arguments) == (returned.function.name, returned.function.arguments)
    jsonschema_rs.validate(WEATHER_TOOL["function"]["parameters"], json.loads(streamed.function.arguments))


def test_sdk_parse_with_a_pydantic_model(sdk):
    from pydantic import BaseModel

    class Event(BaseModel):
        name: str
        attendees: list[str]
        day: int

    completion = sdk.chat.completions.parse(model="openai/gpt-4o", messages=HELLO, response_format=Event)
    event = completion.choices[0].message.parsed
    assert isinstance(event, Event) and isinstance(event.day, int)
