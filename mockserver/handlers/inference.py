"""The inference operations: list models, chat completions (JSON and SSE), embeddings; and the one path
into a model that chat, the Responses API and the Messages API share (:func:`route`, :func:`completer`,
:func:`record`).

Thin wrappers: read the overrides, ask the accounting seam, route the model (:mod:`mockserver.router`),
compute the answer with :mod:`mockserver.llm`, record its usage with the request's metadata, send it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

from starlette.responses import Response, StreamingResponse

from mockserver.accounts.ledger import NO_META, UsageMeta
from mockserver.call import Call
from mockserver.governance.gate import admit_model, visible
from mockserver.ids import new_id
from mockserver.llm.chat import Completion, complete, completion_body
from mockserver.llm.embeddings import embed
from mockserver.llm.overrides import Overrides, read_overrides
from mockserver.llm.requesty import NO_META as NO_REQUEST_META
from mockserver.llm.requesty import RequestMeta, read_meta
from mockserver.llm.streaming import paced, stream_steps
from mockserver.responses import JSONResponse
from mockserver.router.dispatch import route_call, with_presets
from mockserver.router.resolve import Candidate
from mockserver.state import ANONYMOUS_KEY_ID

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def list_models(call: Call) -> Response:
    return JSONResponse(visible(call, call.config.catalog.listing()))


class Routed(NamedTuple):
    """An inference call past the router: the model that serves it and what is recorded with its usage."""

    candidate: Candidate
    request: RequestMeta
    usage: UsageMeta


async def route(call: Call) -> Routed:
    """The one way into a model for every inference API (chat, responses, messages): the key's limit,
    the ``requesty`` metadata, the routing (policies, aliases, regions, availability per candidate)."""
    call.state.before_inference(call.principal)
    meta = read_meta(call.body)
    candidate = (await route_call(call, meta.trace_id)).candidate
    asked = call.body.get("model") or None
    violations = _violations(call)
    if meta is NO_REQUEST_META and not violations and (asked is None or asked == candidate.model.id):
        return Routed(candidate, meta, NO_META)  # the usual call: nothing more to record with its usage
    return Routed(candidate, meta, UsageMeta(None if asked == candidate.model.id else asked, meta.tags, meta.user_id,
                                             meta.trace_id, violations))


def completer(call: Call, routed: Routed, overrides: Overrides) -> Callable[[Mapping[str, Any]], Completion]:
    """Answers a chat-form request with the routed model: presets, the prompt cache, the catalog's prices."""
    candidate = routed.candidate
    key_id = call.principal.key_id if call.principal is not None else ANONYMOUS_KEY_ID

    def answer(chat: Mapping[str, Any]) -> Completion:
        request = with_presets(chat, candidate.parameters)
        cache, digest = call.state.prompt_cache.look(key_id, candidate.model, request["messages"],
                                                     routed.request.auto_cache)
        completion = complete(request, call.config.catalog, overrides, call.config.seed, model=candidate.model,
                              served=candidate.name if candidate.region else None, cache=cache)
        call.state.prompt_cache.remember(key_id, digest)
        return completion

    return answer


def record(call: Call, completion: Completion, meta: UsageMeta) -> None:
    """The call's usage in the ledger, with the model asked for when it is not the one that served (``route``
    leaves it out of ``meta`` when it is)."""
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=completion.model.id,
                            usage=completion.usage, headers=call.headers, cost_units=completion.cost_units,
                            meta=meta)


async def create_chat_completion(call: Call) -> Response:
    overrides = read_overrides(call.headers, call.config.overrides)
    routed = await route(call)
    completion = completer(call, routed, overrides)(call.body)
    ident, created = new_id("chatcmpl-", 16), int(time.time())
    if call.body.get("stream"):
        include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
        steps = stream_steps(completion, id=ident, created=created, include_usage=include_usage)
        body = paced(steps, ttft_ms=overrides.ttft_ms, tokens_per_s=overrides.tokens_per_s,
                     before_last=partial(record, call, completion, routed.usage))
        return StreamingResponse(body, media_type="text/event-stream", headers=STREAM_HEADERS)
    record(call, completion, routed.usage)
    return JSONResponse(completion_body(completion, id=ident, created=created))


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
