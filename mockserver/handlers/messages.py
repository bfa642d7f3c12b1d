"""Anthropic's Messages API: create (JSON and Anthropic's SSE grammar) and count tokens.

Thin, like :mod:`mockserver.handlers.inference`: the key's limit, the answer from
:mod:`mockserver.llm.messages`, its usage recorded in the same ledger as chat. Errors are in Anthropic's
shape (the operations' ``x-mock-error-shape``, applied where a :class:`MockError` becomes a response).
"""

from __future__ import annotations

import os
from functools import partial

from starlette.responses import Response, StreamingResponse

from mockserver.call import Call
from mockserver.handlers import handles
from mockserver.handlers.inference import STREAM_HEADERS
from mockserver.llm import messages
from mockserver.llm.chat import Completion
from mockserver.llm.overrides import read_overrides
from mockserver.llm.streaming import paced
from mockserver.responses import JSONResponse


@handles("createMessage")
async def create_message(call: Call) -> Response:
    overrides = read_overrides(call.headers, call.config.overrides)
    call.state.before_inference(call.principal)
    completion = messages.respond(call.body, call.config.catalog, overrides, call.config.seed)
    body = messages.message_body(completion, id=f"msg_{os.urandom(12).hex()}")
    if call.body.get("stream"):
        steps = paced(messages.stream_steps(body), ttft_ms=overrides.ttft_ms, tokens_per_s=overrides.tokens_per_s,
                      before_last=partial(_record, call, completion))
        return StreamingResponse(steps, media_type="text/event-stream", headers=STREAM_HEADERS)
    _record(call, completion)
    return JSONResponse(body)


def _record(call: Call, completion: Completion) -> None:
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=completion.model.id,
                            usage=completion.usage, headers=call.headers, cost_units=completion.cost_units)


@handles("countMessageTokens")
async def count_message_tokens(call: Call) -> Response:
    """Free, as Anthropic's is: not billed and not refused by a spending limit."""
    overrides = read_overrides(call.headers, call.config.overrides)
    return JSONResponse({"input_tokens": messages.count_input_tokens(call.body, call.config.catalog, overrides)})
