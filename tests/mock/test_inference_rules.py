"""Inference semantics in-process: arithmetic, token estimate, replies, streams, tools, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.cli import main
from mockserver.llm import tokens
from mockserver.llm.catalog import CatalogError, default_catalog, load_catalog
from mockserver.llm.replies import FIXED_REPLY
from mockserver.spec import CompiledSchema
from tests.oracle import assert_valid_response

MODELS_FILE = Path(__file__).parents[2] / "mockserver" / "data" / "models.yml"
PRICES = {m["id"]: m for m in yaml.safe_load(MODELS_FILE.read_text())["models"]}
HELLO = [{"role": "user", "content": "Hello, world!"}]
LOOKUP = {"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
    "required": ["query"]}}}
SEND = {"type": "function", "function": {"name": "send_email", "parameters": {
    "type": "object", "properties": {"to": {"type": "string", "format": "email"}}, "required": ["to"]}}}


def chat(client, **body):
    headers = body.pop("headers", {})
    body.setdefault("messages", HELLO)
    response = client.post("/chat/completions", json=body, headers=headers)
    if response.headers["content-type"].startswith("application/json"):
        assert_valid_response(client.app.state.config.spec, "POST", "/chat/completions", response)
    return response


def events(response):
    """The data lines of an SSE body, in order."""
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""
    return [block.removeprefix("data: ") for block in blocks[:-1]]


def stream(client, spec, **body):
    """The chunks of a streamed chat answer, each checked against the spec's event and chunk schemas."""
    data = events(chat(client, stream=True, **body))
    assert data[-1] == "[DONE]"
    media = spec.operation("createChatCompletion").responses["200"].content["text/event-stream"]
    # The event schema only annotates the JSON in `data` (contentSchema), so check chunks against their own schema.
    chunk_schema = CompiledSchema(None, spec.registry, pointer="/components/schemas/ChatCompletionChunk")
    chunks = []
    for item in data:
        assert media.validator.is_valid({"data": item}), item
        if item != "[DONE]":
            chunk = orjson.loads(item)
            assert chunk_schema.violations(chunk) == [], item
            chunks.append(chunk)
    return chunks


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "anthropic/claude-opus-4-20250514", "deepseek/deepseek-reasoner",
                                   "mistral/mistral-small-latest", "google/gemini-2.5-pro"])
def test_cost_is_catalog_prices_times_tokens(client, model):
    usage = chat(client, model=model, messages=[{"role": "user", "content": "Price check, please. " * 20}]).json()["usage"]
    price = PRICES[model]
    expected = (usage["prompt_tokens"] * Decimal(str(price["input_price"]))
                + usage["completion_tokens"] * Decimal(str(price["output_price"]))) / 1_000_000
    assert Decimal(str(usage["cost"])) == expected.quantize(Decimal("1e-10"))
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_costs_add_up_exactly(client):
    costs = [chat(client, model=m, messages=[{"role": "user", "content": f"call {i}"}]).json()["usage"]
             for i, m in enumerate(PRICES) if PRICES[m]["type"] == "chat"]
    total = sum(Decimal(str(u["cost"])) for u in costs)
    by_tokens = sum((u["prompt_tokens"] * Decimal(str(PRICES[m]["input_price"]))
                     + u["completion_tokens"] * Decimal(str(PRICES[m]["output_price"]))) / 1_000_000
                    for u, m in zip(costs, [m for m in PRICES if PRICES[m]["type"] == "chat"], strict=True))
    assert total == by_tokens


def test_token_estimate_is_the_documented_rule():
    assert tokens.split("Hello, world!") == ["Hello", ",", " world", "!"]
    assert tokens.split("internationalization") == ["intern", "ationa", "lizati", "on"]
    assert "".join(tokens.split("  spaced\tout  text \n")) == "  spaced\tout  text \n"
    assert tokens.count("Hello, world!") == tokens.count("Hello, world!") == 4


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_text_is_split_as_the_unicode_rule_splits_it(text):
    # ASCII text takes a faster pattern of explicit sets; it must cut exactly where the documented one does.
    assert tokens.split(text) == tokens._TOKEN.findall(text)
    assert tokens.count(text) == len(tokens._TOKEN.findall(text))


def test_prompt_tokens_follow_the_per_message_overheads(client):
    # 3 per message + content, + 1 and the name's tokens for a name, + 3 priming; an image part is 85.
    assert chat(client).json()["usage"]["prompt_tokens"] == 3 + 4 + 3
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "name": "ada", "content": [{"type": "text", "text": "What is this?"},
                                                            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "nothing found"}]
    expected = 3 + (3 + 4) + (3 + 1 + 1 + 4 + 85) + (3 + 1 + 2) + (3 + 2)
    assert chat(client, messages=messages, tool_choice="none", tools=[LOOKUP]).json()["usage"]["prompt_tokens"] == \
        expected + tokens.count(orjson.dumps([LOOKUP]).decode())


@pytest.mark.parametrize("style", ["echo", "lorem", "fixed"])
def test_stream_concatenation_equals_the_non_stream_reply(client, spec, style):
    request = {"messages": [{"role": "user", "content": "Tell me something."}], "headers": {"X-Mock-Reply-Style": style}}
    plain = chat(client, **dict(request)).json()
    chunks = stream(client, spec, stream_options={"include_usage": True}, **dict(request))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == plain["choices"][0]["message"]["content"] and text
    finishing = [i for i, c in enumerate(chunks) if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finishing == [len(chunks) - 2]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage_chunk(client, spec):
    chunks = stream(client, spec)
    assert all(c["choices"] and "usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_of_a_cut_reply_ends_with_length(client, spec):
    chunks = stream(client, spec, max_tokens=2)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "You said"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_tool_calls_stream_as_deltas(client, spec):
    request = {"messages": [{"role": "user", "content": "please send_email to Bob"}], "tools": [LOOKUP, SEND]}
    plain = chat(client, **request).json()["choices"][0]
    call = plain["message"]["tool_calls"][0]
    assert plain["finish_reason"] == "tool_calls" and call["function"]["name"] == "send_email"
    chunks = stream(client, spec, **request)
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert deltas[0]["id"] == call["id"] and deltas[0]["function"]["name"] == "send_email"
    assert "".join(d["function"]["arguments"] for d in deltas) == call["function"]["arguments"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_auto_tool_choice_calls_then_answers_after_the_tool_result(client):
    first = chat(client, messages=[{"role": "user", "content": "find cats"}], tools=[LOOKUP, SEND]).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup" and "query" in json.loads(call["function"]["arguments"])
    follow_up = [{"role": "user", "content": "find cats"}, first["choices"][0]["message"],
                 {"role": "tool", "tool_call_id": call["id"], "content": "3 cats"}]
    second = chat(client, messages=follow_up, tools=[LOOKUP, SEND]).json()["choices"][0]
    assert second["finish_reason"] == "stop" and second["message"]["content"] == "You said: find cats"


def test_named_tool_choice_and_none(client):
    named = chat(client, tools=[LOOKUP, SEND], tool_choice={"type": "function", "function": {"name": "send_email"}})
    arguments = json.loads(named.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert "@" in arguments["to"]
    assert chat(client, tools=[LOOKUP], tool_choice="none").json()["choices"][0]["finish_reason"] == "stop"


def test_json_object_reply_parses(client):
    body = chat(client, response_format={"type": "json_object"}).json()
    assert json.loads(body["choices"][0]["message"]["content"]) == {"reply": "You said: Hello, world!"}


def test_reply_headers_and_styles(make_client):
    client = make_client(reply_style="fixed")
    assert chat(client).json()["choices"][0]["message"]["content"] == FIXED_REPLY
    forced = chat(client, headers={"X-Mock-Reply": "Exactly this."}).json()
    assert forced["choices"][0]["message"]["content"] == "Exactly this."
    assert forced["usage"]["completion_tokens"] == 4
    lorem = chat(client, headers={"X-Mock-Reply-Style": "lorem"}).json()["choices"][0]["message"]["content"]
    assert lorem == chat(client, headers={"X-Mock-Reply-Style": "lorem"}).json()["choices"][0]["message"]["content"]
    assert 20 <= len(lorem.split()) <= 80


@pytest.mark.parametrize("header, value", [("X-Mock-Reply-Style", "poetry"), ("X-Mock-TTFT-Ms", "-1"),
                                           ("X-Mock-Tokens-Per-S", "fast"), ("X-Mock-TTFT-Ms", "nan")])
def test_bad_mock_headers_are_400(client, header, value):
    response = chat(client, headers={header: value})
    assert response.status_code == 400 and response.json()["error"]["param"] == header


@pytest.mark.parametrize("body, status, code, param", [
    ({"model": "openai/text-embedding-3-small"}, 404, "model_not_supported", "model"),
    ({"model": "nobody/nothing"}, 404, "model_not_found", "model"),
    ({"max_tokens": 20000}, 400, "invalid_value", "max_tokens"),
    ({"model": "together/meta-llama/Llama-3-8b-chat-hf", "max_tokens": 4096,
      "messages": [{"role": "user", "content": "word " * 4100}]}, 400, "context_length_exceeded", "max_tokens"),
    ({"tools": [LOOKUP], "tool_choice": {"type": "function", "function": {"name": "other"}}},
     400, "invalid_value", "tool_choice"),
    ({"tool_choice": "required"}, 400, "invalid_value", "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "nonsense"}}}]},
     400, "invalid_schema", "tools[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string", "minLength": 5,
                                                                              "maxLength": 2}}}],
      "tool_choice": "required"}, 400, "unsupported_schema", "tools[0].function.parameters"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "loop", "schema": {
        "type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}}}},
     400, "unsupported_schema", "response_format.json_schema.schema"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"xs": {"type": "array", "minItems": 10**9}}}}}]},
     400, "unsupported_schema", "tools[0].function.parameters"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/$defs/none"}}}},
     400, "invalid_schema", "response_format.json_schema.schema"),
])
def test_refusals_are_clear_and_documented(client, body, status, code, param):
    response = chat(client, **body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param) and len(error["message"]) > 20


def test_embedding_refusals(client):
    def embed(**body):
        response = client.post("/embeddings", json=body)
        assert_valid_response(client.app.state.config.spec, "POST", "/embeddings", response)
        return response.status_code, response.json()["error"]["code"]

    assert embed(model="openai/gpt-4o", input="x") == (404, "model_not_supported")
    assert embed(model="mistral/mistral-embed", input="x", dimensions=2048) == (400, "invalid_value")
    assert embed(model="google/gemini-embedding-001", input=["ok", "word " * 3000]) == (400, "context_length_exceeded")
    assert embed(model="openai/none", input="x") == (404, "model_not_found")
    assert embed(model="mistral/mistral-embed", input=["x"] * 2049) == (400, "invalid_value")


def test_embeddings_float_and_base64_agree(client):
    import base64
    import struct

    floats = client.post("/embeddings", json={"model": "openai/text-embedding-3-large", "input": ["a", "b"]}).json()
    packed = client.post("/embeddings", json={"model": "openai/text-embedding-3-large", "input": ["a", "b"],
                                              "encoding_format": "base64"}).json()
    for plain, encoded in zip(floats["data"], packed["data"], strict=True):
        raw = base64.b64decode(encoded["embedding"])
        assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == plain["embedding"]
        assert len(plain["embedding"]) == 3072


def test_models_answer_lists_the_catalog(client, spec):
    response = client.get("/models")
    assert_valid_response(spec, "GET", "/models", response)
    data = response.json()["data"]
    assert [m["id"] for m in data] == list(PRICES)
    assert {m["id"].split("/")[0] for m in data} >= {"openai", "anthropic", "google", "deepseek", "mistral", "together"}
    assert {m["region"] for m in data} == {"us", "eu", "global"}
    priced_by = {"chat": "input_price", "embedding": "input_price", "speech": "character_price",
                 "transcription": "minute_price", "image": "image_price"}
    assert all(m[priced_by[m["type"]]] == PRICES[m["id"]][priced_by[m["type"]]] for m in data)
    assert {m["type"] for m in data} == set(priced_by)
    assert all(("input_price" in m) == (m["type"] in ("chat", "embedding")) for m in data)


def test_catalog_access():
    catalog = default_catalog()
    assert catalog.cheapest("chat").id == "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    assert catalog.cheapest("embedding").id == "openai/text-embedding-3-small"
    assert "openai/gpt-4o-mini" in catalog and catalog.get("nope") is None


def test_models_file_replaces_the_catalog(make_client, tmp_path):
    path = tmp_path / "models.yml"
    path.write_text("models:\n  - {id: acme/one, type: chat, owned_by: acme, region: eu, context_window: 100,"
                    " input_price: 1, output_price: 2}\n")
    client = make_client(catalog=load_catalog(path))
    assert [m["id"] for m in client.get("/models").json()["data"]] == ["acme/one"]
    assert chat(client, model="acme/one").json()["model"] == "acme/one"
    assert chat(client).status_code == 404


@pytest.mark.parametrize("text, problem", [
    ("models: []\n", "$.models"),
    ("models:\n  - {id: a/b, type: chat, owned_by: a, region: mars, context_window: 1, input_price: 1, output_price: 1}\n",
     "$.models[0].region"),
    ("models:\n  - {id: a/b, type: embedding, owned_by: a, region: us, context_window: 1, input_price: 1, output_price: 0}\n",
     "dimensions"),
    ("models:\n  - {id: a/b, type: chat, owned_by: a, region: us, context_window: 1, input_price: -1, output_price: 1}\n",
     "$.models[0].input_price"),
    ("models: [\n", "invalid YAML"),
])
def test_bad_models_file_is_one_line_and_exit_2(tmp_path, text, problem):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=problem.replace("$", r"\$").replace("[", r"\[")):
        load_catalog(path)
    result = CliRunner().invoke(main, ["serve", "--models", str(path), "--port", "0"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mockserver: error:") and "bad.yml" in lines[0]


def test_missing_models_file(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--models", str(tmp_path / "none.yml")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_serve_options_reach_the_config(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("mockserver.cli.serve", lambda config, host, port, **_: seen.setdefault("config", config))
    path = tmp_path / "models.yml"
    path.write_text("models:\n  - {id: acme/one, type: chat, owned_by: acme, region: eu, context_window: 100,"
                    " input_price: 1, output_price: 2}\n")
    result = CliRunner().invoke(main, ["serve", "--models", str(path), "--reply-style", "lorem", "--ttft-ms", "25",
                                       "--tokens-per-s", "50"])
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert [m.id for m in config.catalog.models] == ["acme/one"]
    assert (config.reply_style, config.ttft_ms, config.tokens_per_s) == ("lorem", 25, 50)
