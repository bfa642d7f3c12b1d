"""SSE: a chat stream as the OpenAI SDKs read it."""

from __future__ import annotations

import json

import httpx

from contract_tests import sse
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import TOOL
from contract_tests.checks.outcomes import CheckFailed, expect
from contract_tests.checks.values import json_problem, number
from contract_tests.results import MUST, SHOULD

OP = "POST /chat/completions"
WIRE = "OpenAI API reference: Chat Completions streaming (chat.completion.chunk); spec/overlay.yml: ChatCompletionChunk"


def _stream(ctx: CheckContext) -> httpx.Response:
    return ctx.http.stream(ctx.catalog.chat_model())


def _chunks(ctx: CheckContext) -> list[dict]:
    return sse.chunks(_stream(ctx).text)


def content_type(ctx: CheckContext) -> None:
    received = _stream(ctx).headers.get("content-type", "")
    expect(received.split(";")[0].strip() == "text/event-stream",
           f"stream content type: received {received!r}, documented text/event-stream")


def data_json(ctx: CheckContext) -> None:
    events, problems = sse.parse(_stream(ctx).text)
    expect(not problems, f"stream grammar: {problems[0]}" if problems else "")
    expect(events, "stream: received no event, documented a sequence of data events")
    for position, event in enumerate(events, 1):
        expect(event.data or event.is_done, f"event {position} has no data line: {event.fields}")
        if event.is_done:
            continue
        try:
            value = json.loads(event.data)
        except ValueError:
            raise CheckFailed(f"event {position}: data is not JSON: {event.data[:120]!r}") from None
        expect(isinstance(value, dict), f"event {position}: data is JSON but not an object: {event.data[:120]!r}")


def done_last(ctx: CheckContext) -> None:
    events, _ = sse.parse(_stream(ctx).text)
    done = [i for i, e in enumerate(events) if e.is_done]
    expect(done, "stream: no `data: [DONE]` event, documented as the last event")
    expect(done == [len(events) - 1], f"stream: [DONE] at event {done[0] + 1} of {len(events)}, documented last and once")


def one_id_model(ctx: CheckContext) -> None:
    chunks = _chunks(ctx)
    expect(chunks, "stream: no JSON chunk received")
    ids = {c.get("id") for c in chunks}
    models = {c.get("model") for c in chunks}
    expect(len(ids) == 1 and None not in ids, f"stream: chunk ids {sorted(map(str, ids))}, documented one id")
    expect(len(models) == 1 and None not in models, f"stream: chunk models {sorted(map(str, models))}, documented one")


def role_first(ctx: CheckContext) -> None:
    chunks = [c for c in _chunks(ctx) if c.get("choices")]
    expect(chunks, "stream: no chunk with choices received")
    delta = (chunks[0]["choices"][0] or {}).get("delta") or {}
    expect(delta.get("role") == "assistant", f"first delta: received {delta}, documented role 'assistant'")


def one_finish_reason(ctx: CheckContext) -> None:
    reasons = [choice.get("finish_reason") for c in _chunks(ctx) for choice in c.get("choices") or []
               if isinstance(choice, dict) and choice.get("finish_reason") is not None]
    expect(len(reasons) == 1, f"stream: received {len(reasons)} finish_reason values {reasons[:5]}, documented one")


def usage_chunk(ctx: CheckContext) -> None:
    chunks = _chunks(ctx)
    expect(chunks, "stream: no JSON chunk received")
    last = chunks[-1]
    expect(last.get("choices") == [] and isinstance(last.get("usage"), dict),
           f"last chunk: received choices={str(last.get('choices'))[:80]} usage={last.get('usage')}, "
           "documented choices [] and a usage object")
    expect(number(last["usage"].get("cost")), f"usage chunk: received {last['usage']}, documented usage.cost")
    extra = [c for c in chunks[:-1] if c.get("usage") is not None]
    expect(not extra, f"stream: {len(extra)} chunk(s) before the last carry usage, documented null")


def matches_non_stream(ctx: CheckContext) -> None:
    text = _stream(ctx).text
    body = ctx.http.chat_json(ctx.catalog.chat_model())
    choices = body.get("choices") or [{}]
    expected = ((choices[0] or {}).get("message") or {}).get("content") or ""
    received = sse.content(text)
    expect(received == expected, f"stream content {received[:120]!r} differs from the non-stream content "
                                 f"{expected[:120]!r}")


def chunk_object(ctx: CheckContext) -> None:
    objects = [c.get("object") for c in _chunks(ctx)]
    wrong = [o for o in objects if o != "chat.completion.chunk"]
    expect(objects and not wrong, f"stream: chunk object {wrong[:1] or objects[:1]}, documented "
                                  "'chat.completion.chunk' on every chunk")


def tool_call_deltas(ctx: CheckContext) -> None:
    tools = [{"type": "function", "function": TOOL}]
    response = ctx.http.chat(ctx.catalog.chat_model(), stream=True, tools=tools, tool_choice="required")
    if response.status_code != 200:
        ctx.http.ok(response, OP)
    calls: dict[int, dict] = {}
    for chunk in sse.chunks(response.text):
        for choice in chunk.get("choices") or []:
            for delta in ((choice or {}).get("delta") or {}).get("tool_calls") or []:
                index = delta.get("index")
                expect(isinstance(index, int) and not isinstance(index, bool),
                       f"tool_calls delta {str(delta)[:160]}: no integer index, documented on every delta")
                call = calls.setdefault(index, {"ids": [], "name": None, "arguments": ""})
                if delta.get("id") is not None:
                    call["ids"].append(delta["id"])
                function = delta.get("function") or {}
                call["name"] = call["name"] or function.get("name")
                call["arguments"] += function.get("arguments") or ""
    expect(calls, "tool_choice required: the stream carries no tool_calls delta")
    for index, call in sorted(calls.items()):
        expect(len(call["ids"]) == 1, f"tool call {index}: id given {len(call['ids'])} times {call['ids'][:3]}, "
                                      "documented once, on its first delta")
        expect(call["name"] == TOOL["name"], f"tool call {index}: name {call['name']!r}, the tool is {TOOL['name']!r}")
        problem = json_problem(call["arguments"], TOOL["parameters"], f"tool call {index} arguments joined")
        expect(problem is None, problem or "")


def usage_only_when_asked(ctx: CheckContext) -> None:
    chunks = sse.chunks(ctx.http.stream(ctx.catalog.chat_model(), include_usage=False).text)
    expect(chunks, "stream: no JSON chunk received")
    carrying = [i for i, c in enumerate(chunks, 1) if c.get("usage") is not None]
    expect(not carrying, f"stream without stream_options.include_usage: chunk {carrying[:1]} carries usage "
                         f"{str(chunks[carrying[0] - 1].get('usage'))[:120] if carrying else ''}, documented none")


CHECKS = [Check(name, func, OP, MUST, source=WIRE, reason=reason) for name, func, reason in (
    ("sse.content_type", content_type, "SDKs only parse a stream served as text/event-stream."),
    ("sse.data_json", data_json, "Every event is a `data:` line holding one JSON chunk (or the [DONE] terminator)."),
    ("sse.done_last", done_last, "`data: [DONE]` ends the stream; the SDKs stop reading there."),
    ("sse.one_id_model", one_id_model, "Every chunk of one completion carries the same id and model."),
    ("sse.role_first", role_first, "The first delta says who speaks: role assistant."),
    ("sse.one_finish_reason", one_finish_reason,
     "Exactly one chunk ends the choice with a finish_reason; the others carry null."),
    ("sse.chunk_object", chunk_object, "Every chunk's object is 'chat.completion.chunk'."),
    ("sse.tool_call_deltas", tool_call_deltas,
     "Every streamed tool_calls delta carries its index; a call's id comes once; its arguments join to JSON valid "
     "against the tool's parameters."),
    ("sse.usage_only_when_asked", usage_only_when_asked,
     "Without stream_options.include_usage no chunk carries usage: the SDKs only expect it when asked."),
)] + [
    Check("sse.usage_chunk", usage_chunk, OP, MUST,
          source=f"{WIRE}; Requesty changelog: cost on the final chunk with stream_options.include_usage",
          reason="With stream_options.include_usage, one last chunk before [DONE] has empty choices and the usage, "
                 "with its cost; every other chunk has usage null."),
    Check("sse.matches_non_stream", matches_non_stream, OP, MUST, live_level=SHOULD, source=WIRE,
          reason="A stream says what the same request says without streaming (a must on a deterministic target, "
                 "a should on a live router whose models sample)."),
]
