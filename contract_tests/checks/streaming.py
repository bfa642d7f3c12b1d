"""SSE: a chat stream as the OpenAI SDKs read it."""

from __future__ import annotations

import json

import httpx

from contract_tests import sse
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, expect
from contract_tests.checks.values import number
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


CHECKS = [Check(name, func, OP, MUST, source=WIRE, reason=reason) for name, func, reason in (
    ("sse.content_type", content_type, "SDKs only parse a stream served as text/event-stream."),
    ("sse.data_json", data_json, "Every event is a `data:` line holding one JSON chunk (or the [DONE] terminator)."),
    ("sse.done_last", done_last, "`data: [DONE]` ends the stream; the SDKs stop reading there."),
    ("sse.one_id_model", one_id_model, "Every chunk of one completion carries the same id and model."),
    ("sse.role_first", role_first, "The first delta says who speaks: role assistant."),
    ("sse.one_finish_reason", one_finish_reason,
     "Exactly one chunk ends the choice with a finish_reason; the others carry null."),
)] + [
    Check("sse.usage_chunk", usage_chunk, OP, MUST,
          source=f"{WIRE}; Requesty changelog: cost on the final chunk with stream_options.include_usage",
          reason="With stream_options.include_usage, one last chunk before [DONE] has empty choices and the usage, "
                 "with its cost; every other chunk has usage null."),
    Check("sse.matches_non_stream", matches_non_stream, OP, MUST, live_level=SHOULD, source=WIRE,
          reason="A stream says what the same request says without streaming (a must on a deterministic target, "
                 "a should on a live router whose models sample)."),
]
