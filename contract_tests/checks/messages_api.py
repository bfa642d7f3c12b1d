"""Anthropic's Messages API: its stream grammar, deltas against the JSON answer, usage, and its error shape."""

from __future__ import annotations

import json
from dataclasses import replace

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import ANTHROPIC_VERSION, MESSAGES, TOOL
from contract_tests.checks.outcomes import expect
from contract_tests.checks.values import json_problem, usage_of
from contract_tests.results import MUST, SHOULD

OP = MESSAGES
STREAMING = "Anthropic API reference: Messages streaming; spec/overlay.yml: MessageStreamEvent"
WRONG_KEY = "contract-tests-not-a-key"


def _events(ctx: CheckContext, *, tools: bool = False) -> list[tuple[str | None, dict]]:
    return ctx.http.events(ctx.http.messages(ctx.catalog.chat_model(), stream=True, tools=tools), OP)


def _json(ctx: CheckContext) -> dict:
    return ctx.http.answered(ctx.http.messages(ctx.catalog.chat_model()), OP)


def grammar_problem(events: list[tuple[str | None, dict]]) -> str | None:
    """Why ``events`` are not a Messages stream, or None: message_start, per content block a
    content_block_start, its deltas and content_block_stop, then message_delta and message_stop (ping anywhere)."""
    for name, value in events:
        if name != value.get("type"):
            return f"event field {name!r} names type {value.get('type')!r}"
    kinds = [(v.get("type"), v) for _, v in events if v.get("type") != "ping"]
    if not kinds or kinds[0][0] != "message_start":
        return f"first event {kinds[0][0] if kinds else None!r}, documented message_start"
    if [k for k, _ in kinds[-2:]] != ["message_delta", "message_stop"]:
        return f"last events {[k for k, _ in kinds[-2:]]}, documented message_delta then message_stop"
    block, expected_index = None, 0
    for kind, value in kinds[1:-2]:
        index = value.get("index")
        if kind == "content_block_start" and block is None and index == expected_index:
            block = index
        elif kind == "content_block_delta" and block is not None and index == block:
            if (value.get("delta") or {}).get("type") not in ("text_delta", "input_json_delta"):
                return f"content_block_delta of type {(value.get('delta') or {}).get('type')!r}"
        elif kind == "content_block_stop" and block is not None and index == block:
            block, expected_index = None, expected_index + 1
        else:
            return f"{kind} (index {index!r}) out of order: documented content_block_start, deltas, stop per block"
    if block is not None or expected_index == 0:
        return "a content block is not closed by content_block_stop" if block is not None else "no content block"
    delta = kinds[-2][1]
    if "stop_reason" not in (delta.get("delta") or {}) or not isinstance(delta.get("usage"), dict):
        return f"message_delta {str(delta)[:160]}, documented delta.stop_reason and usage"
    return None


def stream_grammar(ctx: CheckContext) -> None:
    for tools in (False, True):
        problem = grammar_problem(_events(ctx, tools=tools))
        expect(problem is None, f"Messages stream{' (tool use)' if tools else ''}: {problem}")


def text_deltas(ctx: CheckContext) -> None:
    joined = "".join((v.get("delta") or {}).get("text") or "" for _, v in _events(ctx)
                     if (v.get("delta") or {}).get("type") == "text_delta")
    answer = "".join(b.get("text") or "" for b in _json(ctx).get("content") or [] if b.get("type") == "text")
    expect(joined == answer, f"text_delta joined {joined[:120]!r} differs from the JSON answer's text {answer[:120]!r}")


def tool_input_json(ctx: CheckContext) -> None:
    events = _events(ctx, tools=True)
    starts = {v.get("index"): v.get("content_block") or {} for _, v in events if v.get("type") == "content_block_start"}
    tools = [i for i, block in starts.items() if block.get("type") == "tool_use"]
    expect(tools, "tool_choice any: the stream has no tool_use content block")
    for index in tools:
        expect(starts[index].get("name") == TOOL["name"], f"tool_use name {starts[index].get('name')!r}, "
                                                          f"the tool is {TOOL['name']!r}")
        joined = "".join((v.get("delta") or {}).get("partial_json") or "" for _, v in events
                         if v.get("type") == "content_block_delta" and v.get("index") == index)
        problem = json_problem(joined, TOOL["parameters"], "input_json_delta joined")
        expect(problem is None, problem or "")


def usage_matches(ctx: CheckContext) -> None:
    events = _events(ctx)
    start = ((next((v for _, v in events if v.get("type") == "message_start"), {}).get("message")) or {}).get("usage")
    final = next((v for _, v in events if v.get("type") == "message_delta"), {}).get("usage") or {}
    answered = usage_of(_json(ctx), OP)
    streamed = {**(start or {}), **{k: v for k, v in final.items() if v is not None}}

    def prompt(usage: dict) -> int:
        return sum(usage.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))

    expect(streamed.get("output_tokens") == answered.get("output_tokens"),
           f"message_delta usage.output_tokens {streamed.get('output_tokens')}, the JSON answer's "
           f"{answered.get('output_tokens')}")
    expect(prompt(streamed) == prompt(answered), f"stream input tokens (with cache) {prompt(streamed)}, the JSON "
                                                 f"answer's {prompt(answered)}")


def error_shape(ctx: CheckContext) -> None:
    model = ctx.catalog.chat_model()
    bad = ctx.http.implemented(ctx.http.request("POST", "/messages", headers=ANTHROPIC_VERSION,
                                                json={"model": model, "max_tokens": 1, "messages": "not a list"}), OP)
    wrong = ctx.http.request("POST", "/messages", key=WRONG_KEY, headers=ANTHROPIC_VERSION,
                             json={"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]})
    for status, response in ((400, bad), (401, wrong)):
        expect(response.status_code == status, f"{OP}: received {response.status_code}, documented {status}")
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        expect(isinstance(body, dict) and body.get("type") == "error" and isinstance(error, dict)
               and isinstance(error.get("type"), str) and isinstance(error.get("message"), str),
               f"{OP} {status}: received {response.text[:200]!r}, documented Anthropic's "
               "{'type': 'error', 'error': {'type', 'message'}}")


# Why contract-tests audit cannot judge these from traffic:
NOT_JUDGED = "it sends its own probe requests (a prompt and a probe tool), as JSON and as a stream, and compares the two"
CHECKS = [replace(check, not_judged=NOT_JUDGED) for check in (
    Check("messages.stream_grammar", stream_grammar, OP, MUST, source=STREAMING, basis="overlay",
          reason="message_start, per content block content_block_start, text_delta or input_json_delta deltas and "
                 "content_block_stop, then message_delta (stop_reason, usage) and message_stop; ping anywhere."),
    Check("messages.text_deltas", text_deltas, OP, MUST, live_level=SHOULD, source=STREAMING, basis="overlay",
          reason="text_delta deltas join to the same request's JSON text (a should on a live router)."),
    Check("messages.tool_input_json", tool_input_json, OP, MUST, source=STREAMING, basis="overlay",
          reason="input_json_delta fragments join to JSON valid against the tool's input_schema."),
    Check("messages.usage_matches", usage_matches, OP, MUST, live_level=SHOULD, source=STREAMING, basis="overlay",
          reason="The stream's usage (message_start, then message_delta) equals the same request's JSON usage."),
    Check("messages.error_shape", error_shape, OP, MUST, basis="overlay",
          source="Anthropic API reference: Errors; spec/overlay.yml: AnthropicError",
          reason="A 400 and a 401 are in Anthropic's shape, {'type': 'error', 'error': {'type', 'message'}}: the "
                 "Anthropic SDKs raise typed errors from it."),
)]
