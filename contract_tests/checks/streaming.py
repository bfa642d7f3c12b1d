"""SSE: a chat stream as the OpenAI SDKs read it.

Each check is a judge of one streamed answer (``judge_*``), which the audit
applies to every 200 stream it sees, and an active part that asks for a stream
and hands it to the judge.
"""

from __future__ import annotations

import json

import httpx

from contract_tests import sse
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.http_calls import TOOL
from contract_tests.checks.judge import History, Judge, judge_all
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import json_problem, number
from contract_tests.results import MUST, SHOULD
from contract_tests.traffic import Seen

OP = "POST /chat/completions"
WIRE = "OpenAI API reference: Chat Completions streaming (chat.completion.chunk); spec/overlay.yml: ChatCompletionChunk"
STREAM_FIELDS = ("stream", "stream_options")


def _stream(ctx: CheckContext) -> httpx.Response:
    return ctx.http.stream(ctx.catalog.chat_model())


def is_chat(seen: Seen) -> bool:
    return seen.label == OP and seen.status == 200


def is_stream(seen: Seen) -> bool:
    """A chat completion asked with ``stream: true`` and answered 200."""
    return is_chat(seen) and seen.asked_stream


def with_usage(seen: Seen) -> bool:
    return is_stream(seen) and (seen.asked("stream_options") or {}).get("include_usage") is True


# -- judges: one streamed answer in, CheckFailed out ----------------------------------------------------------------
def judge_content_type(seen: Seen, history: History) -> None:
    received = seen.content_type
    expect(received.split(";")[0].strip() == "text/event-stream",
           f"stream content type: received {received!r}, documented text/event-stream")


def judge_data_json(seen: Seen, history: History) -> None:
    events, problems = sse.parse(seen.response_body)
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


def judge_done_last(seen: Seen, history: History) -> None:
    events, _ = sse.parse(seen.response_body)
    done = [i for i, e in enumerate(events) if e.is_done]
    expect(done, "stream: no `data: [DONE]` event, documented as the last event")
    expect(done == [len(events) - 1], f"stream: [DONE] at event {done[0] + 1} of {len(events)}, documented last and once")


def judge_one_id_model(seen: Seen, history: History) -> None:
    chunks = seen.chunks
    expect(chunks, "stream: no JSON chunk received")
    ids = {c.get("id") for c in chunks}
    models = {c.get("model") for c in chunks}
    expect(len(ids) == 1 and None not in ids, f"stream: chunk ids {sorted(map(str, ids))}, documented one id")
    expect(len(models) == 1 and None not in models, f"stream: chunk models {sorted(map(str, models))}, documented one")


def judge_role_first(seen: Seen, history: History) -> None:
    chunks = [c for c in seen.chunks if c.get("choices")]
    expect(chunks, "stream: no chunk with choices received")
    delta = (chunks[0]["choices"][0] or {}).get("delta") or {}
    expect(delta.get("role") == "assistant", f"first delta: received {delta}, documented role 'assistant'")


def judge_one_finish_reason(seen: Seen, history: History) -> None:
    reasons = [choice.get("finish_reason") for c in seen.chunks for choice in c.get("choices") or []
               if isinstance(choice, dict) and choice.get("finish_reason") is not None]
    expect(len(reasons) == 1, f"stream: received {len(reasons)} finish_reason values {reasons[:5]}, documented one")


def judge_usage_chunk(seen: Seen, history: History) -> None:
    chunks = seen.chunks
    expect(chunks, "stream: no JSON chunk received")
    last = chunks[-1]
    expect(last.get("choices") == [] and isinstance(last.get("usage"), dict),
           f"last chunk: received choices={str(last.get('choices'))[:80]} usage={last.get('usage')}, "
           "documented choices [] and a usage object")
    expect(number(last["usage"].get("cost")), f"usage chunk: received {last['usage']}, documented usage.cost")
    extra = [c for c in chunks[:-1] if c.get("usage") is not None]
    expect(not extra, f"stream: {len(extra)} chunk(s) before the last carry usage, documented null")


def _without_stream(seen: Seen) -> object:
    body = seen.request_json
    return {k: v for k, v in body.items() if k not in STREAM_FIELDS} if isinstance(body, dict) else None


def _content(seen: Seen) -> str:
    if seen.asked_stream:
        return sse.content(seen.response_body)
    body = seen.response_json if isinstance(seen.response_json, dict) else {}
    choices = body.get("choices") or [{}]
    return ((choices[0] or {}).get("message") or {}).get("content") or ""


def judge_matches_non_stream(seen: Seen, history: History) -> None:
    """A chat answer against an earlier answer to the same request the other way (streamed or not)."""
    asked = _without_stream(seen)
    partner = history.latest(lambda s: is_chat(s) and s.asked_stream != seen.asked_stream and asked is not None
                             and _without_stream(s) == asked)
    if partner is None:
        raise CheckSkipped("no answer to the same request the other way (streamed or not) before it")
    stream, plain = (seen, partner) if seen.asked_stream else (partner, seen)
    received, expected = _content(stream), _content(plain)
    expect(received == expected, f"stream content {received[:120]!r} differs from the non-stream content "
                                 f"{expected[:120]!r}")


# -- the active checks: ask, then judge what came ------------------------------------------------------------------
def content_type(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.content_type"], [ctx.seen(_stream(ctx))])


def data_json(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.data_json"], [ctx.seen(_stream(ctx))])


def done_last(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.done_last"], [ctx.seen(_stream(ctx))])


def one_id_model(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.one_id_model"], [ctx.seen(_stream(ctx))])


def role_first(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.role_first"], [ctx.seen(_stream(ctx))])


def one_finish_reason(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.one_finish_reason"], [ctx.seen(_stream(ctx))])


def usage_chunk(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.usage_chunk"], [ctx.seen(_stream(ctx))])


def matches_non_stream(ctx: CheckContext) -> None:
    stream = ctx.seen(_stream(ctx))
    plain = ctx.http.chat(ctx.catalog.chat_model())
    ctx.http.ok(plain, OP)
    judge_all(MATCHES, [stream, ctx.seen(plain)])


def judge_chunk_object(seen: Seen, history: History) -> None:
    objects = [c.get("object") for c in sse.chunks(seen.response_body)]
    wrong = [o for o in objects if o != "chat.completion.chunk"]
    expect(objects and not wrong, f"stream: chunk object {wrong[:1] or objects[:1]}, documented "
                                  "'chat.completion.chunk' on every chunk")


def without_usage(seen: Seen) -> bool:
    return is_stream(seen) and not (seen.asked("stream_options") or {}).get("include_usage")


def judge_usage_only_when_asked(seen: Seen, history: History) -> None:
    chunks = sse.chunks(seen.response_body)
    expect(chunks, "stream: no JSON chunk received")
    carrying = [i for i, c in enumerate(chunks, 1) if c.get("usage") is not None]
    expect(not carrying, f"stream without stream_options.include_usage: chunk {carrying[:1]} carries usage "
                         f"{str(chunks[carrying[0] - 1].get('usage'))[:120] if carrying else ''}, documented none")


def chunk_object(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.chunk_object"], [ctx.seen(_stream(ctx))])


def usage_only_when_asked(ctx: CheckContext) -> None:
    judge_all(JUDGES["sse.usage_only_when_asked"],
              [ctx.seen(ctx.http.stream(ctx.catalog.chat_model(), include_usage=False))])


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


MATCHES = Judge(is_chat, judge_matches_non_stream)
JUDGES = {
    "sse.content_type": Judge(is_stream, judge_content_type),
    "sse.data_json": Judge(is_stream, judge_data_json),
    "sse.done_last": Judge(is_stream, judge_done_last),
    "sse.one_id_model": Judge(is_stream, judge_one_id_model),
    "sse.role_first": Judge(is_stream, judge_role_first),
    "sse.one_finish_reason": Judge(is_stream, judge_one_finish_reason),
    "sse.usage_chunk": Judge(with_usage, judge_usage_chunk),
    "sse.chunk_object": Judge(is_stream, judge_chunk_object),
    "sse.usage_only_when_asked": Judge(without_usage, judge_usage_only_when_asked),
}

CHECKS = [Check(f"sse.{func.__name__}", func, OP, MUST, source=WIRE, reason=reason, judge=JUDGES[f"sse.{func.__name__}"])
          for func, reason in (
    (content_type, "SDKs only parse a stream served as text/event-stream."),
    (data_json, "Every event is a `data:` line holding one JSON chunk (or the [DONE] terminator)."),
    (done_last, "`data: [DONE]` ends the stream; the SDKs stop reading there."),
    (one_id_model, "Every chunk of one completion carries the same id and model."),
    (role_first, "The first delta says who speaks: role assistant."),
    (one_finish_reason, "Exactly one chunk ends the choice with a finish_reason; the others carry null."),
)] + [
    Check("sse.usage_chunk", usage_chunk, OP, MUST,
          source=f"{WIRE}; Requesty changelog: cost on the final chunk with stream_options.include_usage",
          reason="With stream_options.include_usage, one last chunk before [DONE] has empty choices and the usage, "
                 "with its cost; every other chunk has usage null.", judge=JUDGES["sse.usage_chunk"]),
    Check("sse.matches_non_stream", matches_non_stream, OP, MUST, live_level=SHOULD, source=WIRE,
          reason="A stream says what the same request says without streaming (a must on a deterministic target, "
                 "a should on a live router whose models sample).", judge=MATCHES),
    Check("sse.chunk_object", chunk_object, OP, MUST, source=WIRE, judge=JUDGES["sse.chunk_object"],
          reason="Every chunk's object is 'chat.completion.chunk'."),
    Check("sse.tool_call_deltas", tool_call_deltas, OP, MUST, source=WIRE,
          not_judged="it asks for a streamed tool call with a probe tool of its own, whose parameters it validates against",
          reason="Every streamed tool_calls delta carries its index; a call's id comes once; its arguments join to JSON "
                 "valid against the tool's parameters."),
    Check("sse.usage_only_when_asked", usage_only_when_asked, OP, MUST, source=WIRE,
          judge=JUDGES["sse.usage_only_when_asked"],
          reason="Without stream_options.include_usage no chunk carries usage: the SDKs only expect it when asked."),
]
