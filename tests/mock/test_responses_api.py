"""The Responses API's rules, in-process: input forms, tools, structured outputs, storage, streams, errors."""

from __future__ import annotations

import jsonschema_rs
import orjson
import pytest

from tests.conftest import DEFAULT_API_KEY

MODEL = "openai/gpt-4o-mini"
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def events(text: str) -> list[tuple[str, dict]]:
    """(event name, payload) of each server-sent event."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], orjson.loads(lines["data"])))
    return out


def _fresh_key(client) -> dict[str, str]:
    """A new key's header: the prompt cache is per key, so a prompt is seen there for the first time."""
    return {"Authorization": f"Bearer {client.post('/api-keys', json={'name': 'fresh'}).json()['key']}"}


def _chat(client, headers):
    return client.post("/chat/completions", headers=headers, json={"model": MODEL, "messages": [
        {"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is a gateway?"}]}).json()


def _response(client, headers):
    return client.post("/responses", headers=headers, json={"model": MODEL, "instructions": "Answer briefly.",
                                                            "input": "What is a gateway?"}).json()


def _message(client, headers):
    return client.post("/messages", headers=headers, json={
        "model": MODEL, "system": "Answer briefly.", "max_tokens": 100,
        "messages": [{"role": "user", "content": "What is a gateway?"}]}).json()


def _three_calls(client, headers):
    return _chat(client, headers), _response(client, headers), _message(client, headers)


def test_the_same_prompt_costs_the_same_through_chat_responses_and_messages(client):
    chat, response, message = (call(client, _fresh_key(client)) for call in (_chat, _response, _message))
    assert response["output"][0]["content"][0]["text"] == chat["choices"][0]["message"]["content"]
    assert message["content"][0]["text"] == chat["choices"][0]["message"]["content"]
    prompt = chat["usage"]["prompt_tokens"]
    anthropic = message["usage"]
    assert response["usage"]["input_tokens"] == prompt
    assert anthropic["input_tokens"] + anthropic["cache_creation_input_tokens"] + anthropic["cache_read_input_tokens"] \
        == prompt
    assert response["usage"]["output_tokens"] == message["usage"]["output_tokens"] == chat["usage"]["completion_tokens"]
    assert response["usage"]["cost"] == message["usage"]["cost"] == chat["usage"]["cost"] > 0


def test_the_three_apis_share_one_prompt_cache_per_key(client):
    # The model caches prompt prefixes by itself: what chat wrote, responses and messages read (same key).
    chat, response, message = _three_calls(client, _fresh_key(client))
    written = chat["usage"]["prompt_tokens_details"]["caching_tokens"]
    assert written > 0 and chat["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert response["usage"]["input_tokens_details"]["cached_tokens"] == written
    assert message["usage"]["cache_read_input_tokens"] == written and message["usage"]["cache_creation_input_tokens"] == 0
    assert response["usage"]["cost"] == message["usage"]["cost"] < chat["usage"]["cost"]


def test_input_as_a_string_and_as_message_items_is_the_same_prompt(client):
    as_string = client.post("/responses", json={"model": MODEL, "input": "Hello"}, headers=_fresh_key(client)).json()
    as_items = client.post("/responses", headers=_fresh_key(client), json={"model": MODEL, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}]}).json()
    assert as_string["usage"] == as_items["usage"]
    assert as_string["output"][0]["content"][0]["text"] == "You said: Hello"
    usage = as_string["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}
    assert as_string["object"] == "response" and as_string["status"] == "completed" and as_string["id"].startswith("resp_")


def test_max_output_tokens_cuts_the_reply_and_marks_it_incomplete(client):
    body = client.post("/responses", json={"model": MODEL, "input": "one two three four five",
                                           "max_output_tokens": 2}).json()
    assert body["status"] == "incomplete" and body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 2 and body["output"][0]["content"][0]["text"] == "You said"
    stream = events(client.post("/responses", json={"model": MODEL, "input": "one two three four five",
                                                    "max_output_tokens": 2, "stream": True}).text)
    assert stream[-1][0] == "response.incomplete" and stream[-1][1]["response"]["usage"] == body["usage"]


def test_a_function_tool_is_called_then_its_output_is_answered(client):
    first = client.post("/responses", json={"model": MODEL, "input": "Weather in Paris?", "tools": [WEATHER]}).json()
    [call] = first["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather" and call["call_id"].startswith("call_")
    jsonschema_rs.validator_for(WEATHER["parameters"]).validate(orjson.loads(call["arguments"]))
    second = client.post("/responses", json={"model": MODEL, "tools": [WEATHER], "input": [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": call["call_id"], "name": call["name"], "arguments": call["arguments"]},
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}]}).json()
    assert second["output"][0]["type"] == "message"
    assert second["output"][0]["content"][0]["text"] == "You said: Weather in Paris?"
    # previous_response_id continues the stored conversation: the same prompt, so the same bill
    chained = client.post("/responses", json={"model": MODEL, "tools": [WEATHER], "previous_response_id": first["id"],
                                              "input": [{"type": "function_call_output", "call_id": call["call_id"],
                                                         "output": "sunny"}]}).json()
    assert chained["previous_response_id"] == first["id"]
    assert chained["output"] == [{**second["output"][0], "id": chained["output"][0]["id"]}]
    assert chained["usage"] == second["usage"]


def test_tool_choice_none_and_named(client):
    other = {**WEATHER, "name": "get_time"}
    none = client.post("/responses", json={"model": MODEL, "input": "hi", "tools": [WEATHER], "tool_choice": "none"})
    assert none.json()["output"][0]["type"] == "message"
    named = client.post("/responses", json={"model": MODEL, "input": "hi", "tools": [WEATHER, other],
                                            "tool_choice": {"type": "function", "name": "get_time"}}).json()
    assert named["output"][0]["name"] == "get_time"
    unknown = client.post("/responses", json={"model": MODEL, "input": "hi", "tools": [WEATHER],
                                              "tool_choice": {"type": "function", "name": "nope"}})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "tool_choice"


def test_a_custom_tool_gets_free_form_text_input(client):
    tool = {"type": "custom", "name": "run_code", "description": "Runs Python."}
    body = client.post("/responses", json={"model": MODEL, "input": "run it", "tools": [tool]}).json()
    [call] = body["output"]
    assert call["type"] == "custom_tool_call" and call["name"] == "run_code" and isinstance(call["input"], str)
    answered = client.post("/responses", json={"model": MODEL, "tools": [tool], "previous_response_id": body["id"],
                                               "input": [{"type": "custom_tool_call_output", "call_id": call["call_id"],
                                                          "output": "42"}]}).json()
    assert answered["output"][0]["content"][0]["text"] == "You said: run it"


def test_text_format_json_schema_and_json_object(client):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
              "required": ["name", "age"], "additionalProperties": False}
    body = client.post("/responses", json={"model": MODEL, "input": "who?", "text": {"format": {
        "type": "json_schema", "name": "person", "schema": schema, "strict": True}}}).json()
    jsonschema_rs.validator_for(schema).validate(orjson.loads(body["output"][0]["content"][0]["text"]))
    assert body["text"]["format"]["name"] == "person"
    as_object = client.post("/responses", json={"model": MODEL, "input": "who?", "text": {"format": {"type": "json_object"}}})
    assert isinstance(orjson.loads(as_object.json()["output"][0]["content"][0]["text"]), dict)
    bad = client.post("/responses", json={"model": MODEL, "input": "who?", "text": {"format": {
        "type": "json_schema", "name": "x", "schema": {"type": "nonsense"}}}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "text.format.schema"


def test_stored_responses_are_read_back_by_their_key_only(make_client):
    client = make_client()
    created = client.post("/responses", json={"model": MODEL, "input": "keep me"}).json()
    assert client.get(f"/responses/{created['id']}").json() == created
    key = client.post("/api-keys", json={"name": "other"}).json()["key"]
    hidden = client.get(f"/responses/{created['id']}", headers={"Authorization": f"Bearer {key}"})
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "response_not_found"
    not_stored = client.post("/responses", json={"model": MODEL, "input": "forget me", "store": False}).json()
    assert not_stored["store"] is False and client.get(f"/responses/{not_stored['id']}").status_code == 404
    missing = client.post("/responses", json={"model": MODEL, "input": "x", "previous_response_id": not_stored["id"]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "previous_response_not_found"
    assert missing.json()["error"]["param"] == "previous_response_id"


def test_the_store_is_bounded():
    from mockserver.auth import Principal
    from mockserver.stored_responses import ResponseStore

    store, owner = ResponseStore(size=3), Principal("k", False)
    for n in range(5):
        store.put(owner, {"id": f"resp_{n}"}, [])
    assert len(store) == 3 and store.get("resp_1", owner) is None and store.get("resp_4", owner) is not None


def test_the_stream_is_the_typed_event_grammar_and_assembles_to_the_json_answer(client):
    request = {"model": MODEL, "instructions": "Be brief.", "input": "Tell me about streams"}
    plain = client.post("/responses", json=request, headers=_fresh_key(client)).json()  # each a first sight
    answer = client.post("/responses", json={**request, "stream": True}, headers=_fresh_key(client))
    assert answer.headers["content-type"].startswith("text/event-stream")
    stream = events(answer.text)
    names = [name for name, _ in stream]
    assert all(name == payload["type"] for name, payload in stream)
    assert [payload["sequence_number"] for _, payload in stream] == list(range(len(stream)))
    deltas = names.count("response.output_text.delta")
    assert names == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.content_part.added", *["response.output_text.delta"] * deltas,
                     "response.output_text.done", "response.content_part.done", "response.output_item.done",
                     "response.completed"]
    text = "".join(p["delta"] for n, p in stream if n == "response.output_text.delta")
    assert text == plain["output"][0]["content"][0]["text"] == stream[-4][1]["text"]
    created, completed = stream[0][1]["response"], stream[-1][1]["response"]
    assert created["status"] == "in_progress" and "usage" not in created and created["id"] == completed["id"]
    assert completed["usage"] == plain["usage"] and completed["usage"]["cost"] > 0
    assert {k: v for k, v in completed.items() if k not in ("id", "created_at", "output")} == \
        {k: v for k, v in plain.items() if k not in ("id", "created_at", "output")}


def test_a_streamed_function_call_sends_its_arguments_in_pieces(client):
    stream = events(client.post("/responses", json={"model": MODEL, "input": "Weather?", "tools": [WEATHER],
                                                    "stream": True}).text)
    names = [name for name, _ in stream]
    assert "response.function_call_arguments.done" in names and "response.output_text.delta" not in names
    pieces = "".join(p["delta"] for n, p in stream if n == "response.function_call_arguments.delta")
    done = next(p for n, p in stream if n == "response.output_item.done")["item"]
    assert pieces == done["arguments"] and done["type"] == "function_call"
    assert stream[-1][1]["response"]["output"] == [done]


def test_x_api_key_authenticates_as_well_as_bearer(make_client):
    client = make_client(headers={"x-api-key": DEFAULT_API_KEY})
    assert client.post("/responses", json={"model": MODEL, "input": "hi"}).status_code == 200
    wrong = make_client(headers={"x-api-key": "nope"}).post("/responses", json={"model": MODEL, "input": "hi"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(("request_body", "status", "param"), [
    ({"model": MODEL}, 400, "input"),
    ({"model": MODEL, "input": [{"type": "function_call_output"}]}, 400, None),
    ({"model": MODEL, "input": "x", "max_output_tokens": 0}, 400, None),
    ({"model": "nope/nothing", "input": "x"}, 404, "model"),
    ({"model": "openai/text-embedding-3-small", "input": "x"}, 404, "model"),
    ({"model": MODEL, "input": "x", "max_output_tokens": 10 ** 7}, 400, "max_output_tokens"),
    ({"model": MODEL, "input": "x", "tools": [{"type": "function", "name": "f", "parameters": {"type": 7}}]},
     400, "tools[0].parameters"),
])
def test_bad_requests_get_openai_shaped_errors(client, request_body, status, param):
    answer = client.post("/responses", json=request_body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"} and "max_tokens" not in error["message"]
    if param is not None:
        assert error["param"] == param
