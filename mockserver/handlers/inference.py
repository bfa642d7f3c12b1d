"""The inference operations: list models, chat completions (JSON and SSE), embeddings.

Thin wrappers: read the overrides, ask the accounting seam, route the model (:mod:`mockserver.router`),
compute the answer with :mod:`mockserver.llm`, record its usage with the request's metadata, send it.
"""

from __future__ import annotations

import os
import time
from functools import partial

from starlette.responses import Response, StreamingResponse

from mockserver.accounts.ledger import UsageMeta
from mockserver.call import Call
from mockserver.governance.gate import admit_model, visible
from mockserver.llm.chat import Completion, complete, completion_body
from mockserver.llm.embeddings import embed
from mockserver.llm.overrides import read_overrides
from mockserver.llm.requesty import read_meta
from mockserver.llm.streaming import paced, stream_steps
from mockserver.responses import JSONResponse
from mockserver.router.dispatch import route_call, with_presets
from mockserver.state import ANONYMOUS_KEY_ID

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def list_models(call: Call) -> Response:
    return JSONResponse(visible(call, call.config.catalog.listing()))


async def create_chat_completion(call: Call) -> Response:
    overrides = read_overrides(call.headers, call.config.overrides)
    call.state.before_inference(call.principal)
    meta = read_meta(call.body)
    candidate = (await route_call(call, meta.trace_id)).candidate
    request = with_presets(call.body, candidate.parameters)
    key_id = call.principal.key_id if call.principal is not None else ANONYMOUS_KEY_ID
    cache, digest = call.state.prompt_cache.look(key_id, candidate.model, request["messages"], meta.auto_cache)
    completion = complete(request, call.config.catalog, overrides, call.config.seed, model=candidate.model,
                          served=candidate.name if candidate.region else None, cache=cache)
    call.state.prompt_cache.remember(key_id, digest)
    usage_meta = UsageMeta(call.body.get("model") or None, meta.tags, meta.user_id, meta.trace_id, _violations(call))
    ident, created = f"chatcmpl-{os.urandom(16).hex()}", int(time.time())
    if call.body.get("stream"):
        include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
        steps = stream_steps(completion, id=ident, created=created, include_usage=include_usage)
        body = paced(steps, ttft_ms=overrides.ttft_ms, tokens_per_s=overrides.tokens_per_s,
                     before_last=partial(_record, call, completion, usage_meta))
        return StreamingResponse(body, media_type="text/event-stream", headers=STREAM_HEADERS)
    _record(call, completion, usage_meta)
    return JSONResponse(completion_body(completion, id=ident, created=created))


def _record(call: Call, completion: Completion, meta: UsageMeta) -> None:
    if meta.model_asked == completion.model.id:
        meta = meta._replace(model_asked=None)
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=completion.model.id,
                            usage=completion.usage, headers=call.headers, cost_units=completion.cost_units,
                            meta=meta)


def _violations(call: Call) -> tuple[tuple[str, str, int, int], ...]:
    found = call.exchange.violations if call.exchange is not None else None
    return tuple((v["kind"], v["path"], v["start"], v["end"]) for v in found) if found else ()


async def create_embedding(call: Call) -> Response:
    call.state.before_inference(call.principal)
    admit_model(call, call.config.catalog.require(call.body["model"], "embedding").id)
    model, body = embed(call.body, call.config.catalog)
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=model.id,
                            usage=body["usage"], headers=call.headers, meta=UsageMeta(violations=_violations(call)))
    return JSONResponse(body)
