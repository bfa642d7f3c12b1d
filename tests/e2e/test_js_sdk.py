"""The official OpenAI and Anthropic JavaScript SDKs against the mock on a real port: chat, streams, embeddings,
errors, the Responses API and the Messages API.

The SDKs are installed by npm on first use (:mod:`tests.e2e.node`).
"""

from __future__ import annotations

import json

import httpx

from mockserver.auth import DEFAULT_API_KEY
from tests.e2e.node import run_script


def test_the_javascript_sdk_reads_every_answer(node_sdk, serve):
    mock = serve()
    seen = run_script("sdk_check.mjs", mock.url, DEFAULT_API_KEY)
    assert seen["chat"]["content"] == "You said: Hello from JavaScript"
    usage = seen["chat"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert seen["stream"]["content"] == seen["chat"]["content"]  # the same reply, streamed
    assert seen["stream"]["usage"] == seen["chat"]["usage"] and seen["stream"]["usage"]["cost"] > 0
    assert [e["index"] for e in seen["embeddings"]] == [0, 1, 2]  # base64 by default, decoded by the SDK
    assert {e["type"] for e in seen["embeddings"]} == {"number"} and len({e["length"] for e in seen["embeddings"]}) == 1
    assert "openai/gpt-4o-mini" in seen["models"]
    assert seen["wrongKey"]["class"] == "AuthenticationError" and seen["wrongKey"]["status"] == 401
    assert seen["badBody"]["class"] == "BadRequestError" and seen["badBody"]["type"] == "invalid_request_error"
    assert seen["unknownModel"]["class"] == "NotFoundError" and seen["unknownModel"]["code"] == "model_not_found"


def test_the_javascript_sdks_stream_responses_and_messages(node_sdk, serve):
    mock = serve()
    stream_key = httpx.post(f"{mock.url}/api-keys", json={"name": "stream"},  # the stream's prompt: a first sight
                            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).json()["key"]
    seen = run_script("responses_messages_check.mjs", mock.url, mock.origin, DEFAULT_API_KEY, stream_key)
    assert seen["response"]["text"] == "You said: Hello from JavaScript"
    streamed = seen["responseStream"]
    assert streamed["text"] == seen["response"]["text"] and streamed["usage"] == seen["response"]["usage"]
    assert streamed["usage"]["cost"] > 0
    assert streamed["sequence"] == list(range(len(streamed["sequence"])))
    assert streamed["types"][:2] == ["response.created", "response.in_progress"]
    assert streamed["types"][-1] == "response.completed"
    tool = seen["responseTool"]
    assert tool["item"]["type"] == "function_call" and tool["streamedArguments"] == tool["item"]["arguments"]
    assert json.loads(tool["streamedArguments"])["city"]
    assert seen["message"]["text"] == seen["messageStream"]["text"] == "You said: Hello from JavaScript"
    usage, final = seen["message"]["usage"], seen["messageStream"]["usage"]
    assert (final["input_tokens"], final["output_tokens"]) == (usage["input_tokens"], usage["output_tokens"])
    assert seen["messageStream"]["deltaUsage"] == usage and usage["cost"] > 0
    assert seen["messageStream"]["names"][:2] == ["message_start", "content_block_start"]  # (the SDK skips ping)
    assert seen["messageStream"]["names"][-2:] == ["message_delta", "message_stop"]
    assert seen["messageTool"]["stop"] == "tool_use" and seen["messageTool"]["block"]["type"] == "tool_use"
    assert seen["messageTool"]["block"]["input"]["city"]
    wrong = seen["messageWrongKey"]
    assert wrong["class"] == "AuthenticationError" and wrong["status"] == 401
    assert wrong["body"]["type"] == "error" and wrong["body"]["error"]["type"] == "authentication_error"
