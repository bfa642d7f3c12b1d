"""A completion as server-sent events, the way OpenAI streams it. Pure, plus one pacing generator.

Steps: the first carries the role chunk and the first token; each further
step one token (a content delta, or a fragment of tool-call arguments); the
last also carries the chunk with the finish reason, the usage chunk (with
``stream_options.include_usage``) and ``[DONE]``. Content deltas join to the
non-stream reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from mockserver.llm import tokens
from mockserver.llm.chat import SYSTEM_FINGERPRINT, Completion

DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def typed_event(payload: dict[str, Any]) -> bytes:
    """An event named by its payload's ``type`` (the Responses and Messages grammars): ``event:`` then ``data:``."""
    return b"event: " + payload["type"].encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class Steps:
    """Events grouped into pacing steps, as :func:`paced` sends them: every token event but the first starts a
    new step; other events join the step in progress. So the first step carries the stream's opening events and
    the first token, and the last the closing events, as in a chat stream."""

    def __init__(self) -> None:
        self.steps: list[bytes] = [b""]
        self.tokens = 0

    def add(self, data: bytes, *, token: bool = False) -> None:
        if token:
            if self.tokens:
                self.steps.append(b"")
            self.tokens += 1
        self.steps[-1] += data


def stream_steps(completion: Completion, *, id: str, created: int, include_usage: bool) -> list[bytes]:
    """The stream's bytes, one item per token step (see the module doc)."""
    head: dict[str, Any] = {"id": id, "object": "chat.completion.chunk", "created": created,
                            "model": completion.model_name, "system_fingerprint": SYSTEM_FINGERPRINT}
    if include_usage:
        head["usage"] = None

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return event({**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    if completion.tool_calls:
        deltas = []
        for index, call in enumerate(completion.tool_calls):
            deltas.append({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                           "function": {"name": call.name, "arguments": ""}}]})
            deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                       for piece in tokens.split(call.arguments)]
        role = {"role": "assistant", "content": None}
    else:
        deltas = [{"content": piece} for piece in tokens.split(completion.content or "")]
        role = {"role": "assistant", "content": "", "refusal": None}
    if completion.reasoning_content:  # the reasoning text streams first, as DeepSeek streams it
        deltas[0:0] = [{"reasoning_content": piece} for piece in tokens.split(completion.reasoning_content)]
    steps = [chunk(role)] + [chunk(delta) for delta in deltas]
    if len(steps) > 1:
        steps[0:2] = [steps[0] + steps[1]]
    tail = chunk({}, completion.finish_reason)
    if include_usage:
        tail += event({**head, "choices": [], "usage": completion.usage})
    steps[-1] += tail + DONE
    return steps


async def paced(steps: list[bytes], *, ttft_ms: float, tokens_per_s: float,
                before_last: Callable[[], None]) -> AsyncIterator[bytes]:
    """Send ``steps``: at once when unpaced; else the first after ``ttft_ms``, then one per 1/``tokens_per_s``.

    ``before_last`` runs once, just before the last step goes out (usage is recorded there).
    """
    if ttft_ms <= 0 and tokens_per_s <= 0:
        before_last()
        yield b"".join(steps)
        return
    gap = 1 / tokens_per_s if tokens_per_s > 0 else 0.0
    start = time.monotonic()
    for index, step in enumerate(steps):
        # Each step has its own deadline from the start, so time lost to a busy loop is caught up, not added.
        # The real clock is checked again after each sleep: uvloop's millisecond timers may wake a little early.
        deadline = start + ttft_ms / 1000 + index * gap
        while (delay := deadline - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        if index == len(steps) - 1:
            before_last()
        yield step
