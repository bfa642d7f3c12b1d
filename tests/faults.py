"""Faults: each breaks exactly one documented behaviour of any gateway, for the check that must catch it.

A fault wraps a handler (``Call -> Answer``, see :mod:`tests.gateways`); the same
fault serves the reference gateway through ``httpx.MockTransport`` and any ASGI
app (the embedded mock) through :class:`FaultMiddleware`.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import anyio

from mockserver.auth import DEFAULT_API_KEY
from mockserver.media.audio import wav
from tests.gateways import Answer, Call, Handler

Fault = Callable[[Handler], Handler]


def missing(*prefixes: str) -> Fault:
    """A gateway without the paths under ``prefixes``: 404 ``unknown_path``, as for any path it does not serve."""

    def wrap(inner: Handler) -> Handler:
        def handler(call: Call) -> Answer:
            from tests.gateways import error

            return error(404, f"Unknown path {call.path}", "unknown_path") if call.path.startswith(prefixes) else inner(call)

        return handler

    return wrap


def on_answer(when: Callable[[Call, Answer], bool], edit: Callable[[Call, Answer], Answer]) -> Fault:
    """A fault that edits the answers ``when`` selects."""

    def wrap(inner: Handler) -> Handler:
        def handler(call: Call) -> Answer:
            answer = inner(call)
            return edit(call, answer) if when(call, answer) else answer

        return handler

    return wrap


def on_json(when: Callable[[Call, Answer], bool], edit: Callable[[Call, Any], Any]) -> Fault:
    """A fault that edits the JSON body of the 2xx answers ``when`` selects."""

    def change(call: Call, answer: Answer) -> Answer:
        value = edit(call, answer.parsed())
        return Answer(answer.status, json.dumps(value).encode(), answer.headers)

    return on_answer(lambda c, a: a.status < 300 and "json" in a.headers.get("content-type", "") and when(c, a), change)


def on_stream(edit: Callable[[list[str]], list[str]]) -> Fault:
    """A fault that edits the events (``data: ...`` lines) of a chat stream."""

    def change(call: Call, answer: Answer) -> Answer:
        events = [e for e in answer.body.decode().split("\n\n") if e]
        return Answer(answer.status, ("\n\n".join(edit(events)) + "\n\n").encode(), answer.headers)

    return on_answer(lambda c, a: "event-stream" in a.headers.get("content-type", ""), change)


def chunk_edit(edit: Callable[[int, dict], dict | None]) -> Fault:
    """Edit each JSON chunk of a stream by position (None drops it)."""

    def events(lines: list[str]) -> list[str]:
        out = []
        for i, event in enumerate(lines):
            if event.startswith("data: {"):
                changed = edit(i, json.loads(event[6:]))
                if changed is not None:
                    out.append("data: " + json.dumps(changed))
            else:
                out.append(event)
        return out

    return on_stream(events)


def typed_edit(edit: Callable[[dict], dict | None]) -> Fault:
    """Edit each JSON event of a typed stream (Responses, Messages: ``event:`` and ``data:`` lines); None drops it."""

    def events(blocks: list[str]) -> list[str]:
        out = []
        for block in blocks:
            name, _, data = block.partition("\ndata: ")
            if not (name.startswith("event: ") and data.startswith("{")):
                out.append(block)
                continue
            changed = edit(json.loads(data))
            if changed is not None:
                out.append(f"{name}\ndata: {json.dumps(changed)}")
        return out

    return on_stream(events)


def when_type(kind: str, edit: Callable[[dict], dict | None]) -> Callable[[dict], dict | None]:
    return lambda event: edit(event) if event.get("type") == kind else event


def _dead_keys_infer(inner: Handler) -> Handler:
    """A dead key is refused on GET /models only: inference answers it as if it were the admin's."""

    def handler(call: Call) -> Answer:
        answer = inner(call)
        if answer.status == 401 and call.token and call.method == "POST":
            return inner(_with_admin(call))
        return answer

    return handler


def _tool_deltas_without_index(chunk: dict) -> dict:
    for choice in chunk.get("choices") or []:
        for delta in (choice.get("delta") or {}).get("tool_calls") or []:
            delta.pop("index", None)
    return chunk


def _messages_error_in_openai_shape(call: Call, answer: Answer) -> Answer:
    error = answer.parsed().get("error") or {}
    return Answer.json({"error": {"message": error.get("message", ""), "type": error.get("type", "")}}, answer.status)


def on_request(edit: Callable[[Call], Call]) -> Fault:
    def wrap(inner: Handler) -> Handler:
        return lambda call: inner(edit(call))

    return wrap


def path_is(method: str, pattern: str) -> Callable[[Call, Answer], bool]:
    return lambda c, a: c.method == method and re.fullmatch(pattern, c.path) is not None


def _chat_json(c: Call, a: Answer) -> bool:
    return c.path == "/chat/completions" and not (c.body or {}).get("stream")


def _usage(edit: Callable[[dict], None]) -> Fault:
    def change(call: Call, body: dict) -> dict:
        edit(body["usage"])
        return body

    return on_json(_chat_json, change)


def _embeddings(edit: Callable[[list[dict]], list[dict]]) -> Fault:
    def change(call: Call, body: dict) -> dict:
        body["data"] = edit(body["data"])
        return body

    return on_json(path_is("POST", "/embeddings"), change)


def _with_admin(call: Call) -> Call:
    return replace(call, headers={**call.headers, "authorization": f"Bearer {call.admin_key}"})


def retry_as_admin(status: int) -> Fault:
    """Answers ``status`` (a refusal) with what the admin key would get: the refusal is never enforced."""

    def wrap(inner: Handler) -> Handler:
        def handler(call: Call) -> Answer:
            answer = inner(call)
            return inner(_with_admin(call)) if answer.status == status else answer

        return handler

    return wrap


def secrets_in_reads() -> Fault:
    def wrap(inner: Handler) -> Handler:
        secrets: dict[str, str] = {}

        def handler(call: Call) -> Answer:
            answer = inner(call)
            if call.method == "POST" and call.path == "/api-keys" and answer.status == 200:
                body = answer.parsed()
                secrets[body["id"]] = body["key"]
            match = re.fullmatch(r"/api-keys/([^/]+)", call.path)
            if call.method == "GET" and match and match.group(1) in secrets and answer.status == 200:
                return Answer.json({**answer.parsed(), "key": secrets[match.group(1)]})
            return answer

        return handler

    return wrap


def late_keys() -> Fault:
    """A created key only works from its second use on (propagation delay)."""

    def wrap(inner: Handler) -> Handler:
        fresh: set[str] = set()

        def handler(call: Call) -> Answer:
            if call.token in fresh:
                fresh.discard(call.token)
                return Answer.json({"error": {"message": "unknown key", "type": "invalid_request_error"}}, 401)
            answer = inner(call)
            if call.method == "POST" and call.path == "/api-keys" and answer.status == 200:
                fresh.add(answer.parsed()["key"])
            return answer

        return handler

    return wrap


def frozen(pattern: str) -> Fault:
    """GET answers on ``pattern`` never change after the first (a report that is never updated)."""

    def wrap(inner: Handler) -> Handler:
        first: dict[str, Answer] = {}

        def handler(call: Call) -> Answer:
            if call.method == "GET" and re.fullmatch(pattern, call.path):
                return first.setdefault(call.path, inner(call))
            return inner(call)

        return handler

    return wrap


def _twice(body: dict) -> dict:
    body["data"] = body["data"] + body["data"][:1]
    return body


def _negative_price(body: dict) -> dict:
    body["data"][0]["input_price"] = -1
    return body


def _set(path: tuple[str, ...], value: Any) -> Callable[[Call, dict], dict]:
    def change(call: Call, body: dict) -> dict:
        node = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return body

    return change


def _error_object(edit: Callable[[dict], None], when: Callable[[Call, Answer], bool]) -> Fault:
    """A fault that edits the ``error`` object of the JSON error answers ``when`` selects."""

    def change(call: Call, answer: Answer) -> Answer:
        try:
            body = answer.parsed()
        except ValueError:
            return answer
        if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
            return answer
        edit(body["error"])
        return Answer(answer.status, json.dumps(body).encode(), answer.headers)

    return on_answer(lambda c, a: a.status >= 400 and when(c, a), change)


def _chat_body(edit: Callable[[dict], dict], when: Callable[[dict], bool] = lambda body: True) -> Fault:
    """A fault that changes the chat requests' bodies ``when`` selects before the gateway reads them."""
    return on_request(lambda c: replace(c, body=edit(dict(c.body)))
                      if c.path == "/chat/completions" and isinstance(c.body, dict) and when(c.body) else c)


def refuse_chat(when: Callable[[dict], bool], message: str) -> Fault:
    """Chat requests whose body ``when`` selects get a 400 (a gateway that does not know the feature)."""

    def wrap(inner: Handler) -> Handler:
        def handler(call: Call) -> Answer:
            if call.path == "/chat/completions" and isinstance(call.body, dict) and when(call.body):
                return Answer.json({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                              "code": "invalid_request", "origin": "router"}}, 400)
            return inner(call)

        return handler

    return wrap


def _asks_policy(call: Call) -> bool:
    return call.path == "/chat/completions" and str((call.body or {}).get("model", "")).startswith("policy/")


def bills_twice(inner: Handler) -> Handler:
    """A policy's call is sent upstream twice, both billed (a fallback that bills every try)."""

    def handler(call: Call) -> Answer:
        if _asks_policy(call):
            inner(call)
        return inner(call)

    return handler


def new_trace_each_call() -> Fault:
    """Every call's requesty.trace_id is made unique: the gateway balances as if no trace id were sent."""
    count = iter(range(1_000_000))

    def edit(body: dict) -> dict:
        requesty = body["requesty"]
        return {**body, "requesty": {**requesty, "trace_id": f"{requesty['trace_id']}-{next(count)}"}}

    return _chat_body(edit, lambda body: isinstance(body.get("requesty"), dict) and "trace_id" in body["requesty"])


def _usage_details(name: str, **values: Callable[[dict], int]) -> Fault:
    """Sets token details of chat usage (each value computed from the usage)."""
    return _usage(lambda u: u.update({name: {**(u.get(name) or {}), **{k: f(u) for k, f in values.items()}}}))


def _is_effort_extension(body: dict) -> bool:
    effort = body.get("reasoning_effort")
    return effort in ("max", "min", "none") or (isinstance(effort, str) and effort.isdigit())


# One fault per semantic check: the faulty gateway that check must fail on.
FAULTS: dict[str, Fault] = {
    "sse.content_type": on_answer(lambda c, a: "event-stream" in a.headers.get("content-type", ""),
                                  lambda c, a: Answer(a.status, a.body, {"content-type": "text/plain"})),
    "sse.data_json": on_stream(lambda events: [events[0][:-5], *events[1:]]),
    "sse.done_last": on_stream(lambda events: [e for e in events if e != "data: [DONE]"]),
    "sse.one_id_model": chunk_edit(lambda i, chunk: {**chunk, "id": "other"} if i == 1 else chunk),
    "sse.role_first": chunk_edit(lambda i, chunk: {**chunk, "choices": [{**chunk["choices"][0], "delta": {"content": ""}}]}
                                 if i == 0 else chunk),
    "sse.one_finish_reason": chunk_edit(lambda i, chunk: {**chunk, "choices": [{**c, "finish_reason": "stop"}
                                                                               for c in chunk["choices"]]}),
    "sse.usage_chunk": chunk_edit(lambda i, chunk: None if chunk["choices"] == [] else chunk),
    "sse.matches_non_stream": on_json(_chat_json, lambda c, body: _set(("choices",), [
        {**body["choices"][0], "message": {"role": "assistant", "content": "ping"}}])(c, body)),
    "usage.total_is_sum": _usage(lambda u: u.update(total_tokens=u["total_tokens"] + 1)),
    "usage.cost_present": _usage(lambda u: u.pop("cost")),
    "usage.cost_matches_prices": _usage(lambda u: u.update(cost=u["cost"] * 2)),
    "usage.max_tokens_honoured": _usage(lambda u: u.update(completion_tokens=u["completion_tokens"] + 5,
                                                           total_tokens=u["total_tokens"] + 5)),
    "embeddings.one_per_input": _embeddings(lambda data: data[:-1]),
    "embeddings.index_order": _embeddings(lambda data: [{**d, "index": len(data) - 1 - d["index"]} for d in data]),
    "embeddings.equal_dimensions": _embeddings(lambda data: [{**d, "embedding": d["embedding"][:-1]} if i == 0 else d
                                                             for i, d in enumerate(data)]),
    "embeddings.finite_values": _embeddings(lambda data: [{**d, "embedding": [math.nan, *d["embedding"][1:]]}
                                                          for d in data]),
    "embeddings.base64_decodes": on_request(lambda c: replace(c, body={
        k: v for k, v in c.body.items() if k != "encoding_format"}) if isinstance(c.body, dict) else c),
    "models.unique_ids": on_json(path_is("GET", "/models"), lambda c, body: _twice(body)),
    "models.non_negative_prices": on_json(path_is("GET", "/models"), lambda c, body: _negative_price(body)),
    "keys.secret_only_on_create": secrets_in_reads(),
    "keys.created_key_authenticates": late_keys(),
    "keys.deleted_key_rejected": lambda inner: lambda call: (
        Answer.json({"id": call.path.rsplit("/", 1)[-1], "deleted": True}) if call.method == "DELETE" else inner(call)),
    "keys.expired_key_rejected": on_request(lambda c: replace(c, body={
        k: v for k, v in c.body.items() if k != "expiry"}) if c.method == "POST" and c.path == "/api-keys" else c),
    "keys.limit_enforced": retry_as_admin(402),
    "keys.admin_required": retry_as_admin(403),
    "reports.grow_by_calls": frozen(r"/api-keys/[^/]+/usage"),
    "reports.breakdown_sums": on_json(path_is("GET", "/organization/usage"),
                                      lambda c, body: {**body, "breakdown": body["breakdown"][1:]}),
    "reports.org_covers_keys": on_json(path_is("GET", "/organization/usage"),
                                       lambda c, body: {**body, "total_requests": 0, "total_cost": 0.0, "breakdown": []}),
    "errors.error_shape": on_answer(lambda c, a: a.status >= 400,
                                    lambda c, a: Answer(a.status, b"something went wrong", {"content-type": "text/plain"})),
    "errors.auth_required": retry_as_admin(401),
    "spec.operations_present": on_answer(path_is("GET", "/organization/usage"),
                                         lambda c, a: Answer.json({"error": {"message": "Not Found", "type": "x",
                                                                             "code": "unknown_path"}}, 404)),
    "origin.on_every_error": _error_object(lambda e: e.pop("origin", None), lambda c, a: True),
    "origin.router_errors": _error_object(lambda e: e.update(origin="provider"), lambda c, a: a.status in (401, 404)),
    "origin.provider_errors": _error_object(lambda e: e.update(origin="router"),
                                            lambda c, a: a.status == 429 or a.status >= 500),
    "origin.stream_error": chunk_edit(lambda i, chunk: {**chunk, "error": {**chunk["error"], "origin": "provider"}}
                                      if isinstance(chunk.get("error"), dict) else chunk),
    "routing.regions_enforced": _chat_body(lambda body: {**body, "model": str(body["model"]).partition("@")[0]}),
    "routing.catalog_fields": on_json(path_is("GET", "/models"), lambda c, body: _set(("data",), [
        {**body["data"][0], "regions": "us"}, *body["data"][1:]])(c, body)),
    "routing.fallback_names_model": on_json(_chat_json, lambda c, body: {**body, "model": c.body["model"]}),
    "routing.fallback_bills_once": bills_twice,
    "routing.trace_sticks": new_trace_each_call(),
    "requesty.accepted": refuse_chat(lambda body: "requesty" in body, "Unrecognized request argument: requesty"),
    "requesty.type_checked": _chat_body(lambda body: {k: v for k, v in body.items() if k != "requesty"}),
    "reasoning.effort_values": refuse_chat(_is_effort_extension, "reasoning_effort must be low, medium or high"),
    "reasoning.billed_as_output": _usage_details("completion_tokens_details",
                                                 reasoning_tokens=lambda u: u["completion_tokens"] + 5),
    "caching.within_prompt": _usage_details("prompt_tokens_details", cached_tokens=lambda u: u["prompt_tokens"],
                                            caching_tokens=lambda u: 1),
    "caching.auto_cache_reads": _usage_details("prompt_tokens_details", cached_tokens=lambda u: 0),
    "reports.groups_sum": on_json(lambda c, a: c.method == "GET" and c.path.endswith("/usage"),
                                  lambda c, body: {**body, "groups": body["groups"][:-1]} if body.get("groups") else body),
    "responses.stream_order": typed_edit(when_type("response.in_progress", lambda e: None)),
    "responses.sequence_numbers": typed_edit(lambda e: {**e, "sequence_number": 1}),
    "responses.ids_consistent": typed_edit(lambda e: {**e, "item_id": "item_elsewhere"} if "item_id" in e else e),
    "responses.function_arguments": typed_edit(when_type("response.function_call_arguments.delta",
                                                         lambda e: {**e, "delta": e["delta"] + ","})),
    "responses.usage_matches": typed_edit(when_type("response.completed", lambda e: {**e, "response": {
        **e["response"], "usage": {**e["response"]["usage"], "output_tokens": e["response"]["usage"]["output_tokens"] + 1}}})),
    "responses.text_deltas": typed_edit(when_type("response.output_text.delta", lambda e: {**e, "delta": e["delta"] + "~"})),
    "responses.cost_matches_prices": on_json(path_is("POST", "/responses"), lambda c, body: {
        **body, "usage": {**body["usage"], "cost": body["usage"]["cost"] * 2}}),
    "messages.stream_grammar": typed_edit(when_type("content_block_stop", lambda e: None)),
    "messages.text_deltas": typed_edit(when_type("content_block_delta", lambda e: {
        **e, "delta": {**e["delta"], "text": e["delta"]["text"] + "~"}} if "text" in e["delta"] else e)),
    "messages.tool_input_json": typed_edit(when_type("content_block_delta", lambda e: {
        **e, "delta": {**e["delta"], "partial_json": e["delta"]["partial_json"] + "}"}} if "partial_json" in e["delta"]
        else e)),
    "messages.usage_matches": typed_edit(when_type("message_delta", lambda e: {
        **e, "usage": {**e["usage"], "output_tokens": e["usage"]["output_tokens"] + 1}})),
    "messages.error_shape": on_answer(lambda c, a: c.path.startswith("/messages") and a.status >= 400,
                                      _messages_error_in_openai_shape),
    "sse.chunk_object": chunk_edit(lambda i, chunk: {**chunk, "object": "chat.completion"} if i == 1 else chunk),
    "sse.tool_call_deltas": chunk_edit(lambda i, chunk: _tool_deltas_without_index(chunk)),
    "sse.usage_only_when_asked": on_request(lambda c: replace(c, body={
        **c.body, "stream_options": {"include_usage": True}}) if isinstance(c.body, dict) and c.body.get("stream")
        and c.path == "/chat/completions" else c),
    "structured.json_schema_reply": on_json(lambda c, a: _chat_json(c, a) and "response_format" in (c.body or {}),
                                            lambda c, body: _set(("choices",), [{**body["choices"][0], "message": {
                                                "role": "assistant", "content": '{"word": 1}'}}])(c, body)),
    "keys.dead_key_refused_everywhere": _dead_keys_infer,
    "errors.wrong_key_401": on_answer(lambda c, a: a.status == 401 and c.token is not None, lambda c, a: Answer.json(
        {"error": {"message": "invalid request", "type": "invalid_request_error", "code": "invalid_request"}}, 400)),
    "models.prices_listed": on_json(path_is("GET", "/models"), lambda c, body: _set(("data",), [
        {k: v for k, v in body["data"][0].items() if k != "input_price"}, *body["data"][1:]])(c, body)),
    "reports.filters_keep": on_json(lambda c, a: path_is("GET", "/organization/usage")(c, a) and "tag" in c.query,
                                    lambda c, body: {**body, "total_requests": body["total_requests"] + 1}),
}


class FaultMiddleware:
    """ASGI middleware: ``app`` with one fault, e.g. the embedded mock that drops ``[DONE]``.

    The fault is plain synchronous code over :class:`Call` and :class:`Answer`;
    it runs in a worker thread and reaches ``app`` through the event loop.
    """

    def __init__(self, app, fault: Fault, base_path: str = "/v1", admin_key: str = DEFAULT_API_KEY):
        self.app = app
        self.fault = fault
        self.base_path = base_path
        self.admin_key = admin_key
        self._local = threading.local()  # the ASGI scope of the request the fault is handling
        self._handler = fault(lambda sent: anyio.from_thread.run(self._forward, self._local.scope, sent))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body
        call = Call(scope["method"], scope["path"].removeprefix(self.base_path), headers, parsed, self.admin_key,
                    dict(parse_qsl(scope.get("query_string", b"").decode())))

        def handle(call: Call) -> Answer:  # one wrapped handler for all requests: faults may keep state
            self._local.scope = scope
            return self._handler(call)

        answer = await anyio.to_thread.run_sync(handle, call)
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items() if k != "content-length"]
                    + [(b"content-length", str(len(answer.body)).encode())]})
        await send({"type": "http.response.body", "body": answer.body})

    async def _forward(self, scope, call: Call) -> Answer:
        content = call.body if isinstance(call.body, bytes) else b"" if call.body is None else json.dumps(call.body).encode()
        headers = [(k.encode(), v.encode()) for k, v in call.headers.items() if k != "content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        sent = {**scope, "headers": headers, "path": self.base_path + call.path, "method": call.method}
        chunks: list[bytes] = []
        start: dict = {}
        delivered = False

        async def receive():
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": content, "more_body": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(sent, receive, capture)
        return Answer(start["status"], b"".join(chunks),
                      {k.decode().lower(): v.decode() for k, v in start.get("headers", [])})


# -- governance (contract_tests/checks/governance.py): each check's faulty gateway ----------------------------------


def _unsigned_alerts(call: Call) -> Call:
    """Alert settings arrive without their webhook secret: deliveries go out unsigned."""
    if call.method == "PUT" and call.path.endswith("/alerts") and isinstance(call.body, dict):
        return replace(call, body={k: v for k, v in call.body.items() if k != "webhook_secret"})
    return call


def _mask_as_report(call: Call) -> Call:
    """Mask is taken for Report: the values reach the model, and its echo."""
    if call.method == "PUT" and call.path.endswith("/guardrails") and isinstance(call.body, dict) \
            and call.body.get("action") == "mask":
        return replace(call, body={"action": "report"})
    return call


FAULTS.update({
    # embeddings served as if the admin key had called: the key's access list is not enforced there
    "governance.access_list_enforced": on_request(lambda c: _with_admin(c) if c.method == "POST"
                                                  and c.path == "/embeddings" else c),
    "governance.alert_delivered_once": on_request(_unsigned_alerts),
    "governance.guardrail_report_mask": on_request(_mask_as_report),
})


# -- speech, transcription, images --------------------------------------------------------------------------------------
def _speech_format(call: Call) -> str:
    return (call.body or {}).get("response_format", "mp3") if isinstance(call.body, dict) else ""


def _transcription_format(call: Call) -> str:
    from tests.media_gateway import form

    return form(call).get("response_format", "json") if isinstance(call.body, bytes) else ""


def _raw(status: int, body: bytes, media_type: str) -> Answer:
    return Answer(status, body, {"content-type": media_type})


def _images_usage(edit: Callable[[dict, int], None]) -> Fault:
    def change(call: Call, body: dict) -> dict:
        edit(body["usage"], len(body["data"]))
        return body

    return on_json(lambda c, a: c.path == "/images/generations" and "usage" in a.parsed(), change)


FAULTS.update({
    # every format but wav answered with a WAV file, under the format's own type
    "speech.audio_format": on_answer(lambda c, a: c.path == "/audio/speech" and a.status == 200
                                     and _speech_format(c) not in ("wav", "pcm"),
                                     lambda c, a: _raw(200, wav(1.0), a.headers.get("content-type", "audio/mpeg"))),
    # one second of audio whatever the text
    "speech.duration_grows": on_answer(lambda c, a: c.path == "/audio/speech" and a.status == 200,
                                       lambda c, a: _raw(200, wav(1.0), a.headers.get("content-type", "audio/wav"))
                                       if _speech_format(c) == "wav" else a),
    # a key's usage report counts its speech twice
    "speech.billed_per_character": on_json(lambda c, a: re.fullmatch(r"/api-keys/[^/]+/usage", c.path) is not None,
                                           lambda c, body: {**body, "total_cost": body["total_cost"] * 2}),
    # srt answered as JSON
    "transcription.response_formats": on_answer(
        lambda c, a: c.path == "/audio/transcriptions" and a.status == 200 and _transcription_format(c) == "srt",
        lambda c, a: Answer.json({"text": a.body.decode(errors="replace")})),
    "transcription.billed_by_duration": on_json(
        lambda c, a: c.path == "/audio/transcriptions" and "usage" in a.parsed(),
        lambda c, body: {**body, "usage": {**body["usage"], "cost": body["usage"]["cost"] * 2}}),
    "images.size_and_count": on_json(lambda c, a: c.path == "/images/generations",
                                     lambda c, body: {**body, "data": body["data"][:-1]}),
    "images.billed_per_image": _images_usage(lambda usage, n: usage.update(cost=usage["cost"] / n)),
    # a mask of another size accepted: the refusal turned into an empty success
    "images.mask_size": on_answer(lambda c, a: c.path == "/images/edits" and a.status == 400,
                                  lambda c, a: Answer.json({"created": 0, "data": []})),
})
