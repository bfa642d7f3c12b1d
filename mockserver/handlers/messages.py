"""Anthropic's Messages API: create (JSON and Anthropic's SSE grammar) and count tokens.

Thin, like :mod:`mockserver.handlers.inference`: the key's limit, the answer from
:mod:`mockserver.llm.messages`, its usage recorded in the same ledger as chat. Errors are in Anthropic's
shape (the operations' ``x-mock-error-shape``, applied where a :class:`MockError` becomes a response).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from starlette.responses import Response, StreamingResponse

from mockserver.call import Call
from mockserver.handlers.inference import STREAM_HEADERS, completer, record, route
from mockserver.ids import new_id
from mockserver.llm import messages
from mockserver.llm.chat import Completion, complete
from mockserver.llm.overrides import read_overrides
from mockserver.llm.streaming import paced
from mockserver.responses import JSONResponse


async def create_message(call: Call) -> Response:
    overrides = read_overrides(call.headers, call.config.overrides)
    routed = await route(call)
    completion = messages.respond(call.body, completer(call, routed, overrides))
    body = messages.message_body(completion, id=new_id("msg_", 12))
    if call.body.get("stream"):
        steps = paced(messages.stream_steps(body), ttft_ms=overrides.ttft_ms, tokens_per_s=overrides.tokens_per_s,
                      before_last=partial(record, call, completion, routed.usage))
        return StreamingResponse(steps, media_type="text/event-stream", headers=STREAM_HEADERS)
    record(call, completion, routed.usage)
    return JSONResponse(body)


async def count_message_tokens(call: Call) -> Response:
    """Free, as Anthropic's is: not billed and not refused by a spending limit."""
    overrides = read_overrides(call.headers, call.config.overrides)
    config = call.config

    def complete_chat(chat: Mapping[str, Any]) -> Completion:
        return complete(chat, config.catalog, overrides, config.seed)

    return JSONResponse({"input_tokens": messages.count_input_tokens(call.body, complete_chat)})
