"""A small, correct reference gateway for unit-testing the conformance checks.

It implements the documented behaviour the checks rest on (catalog, chat with
usage and cost, SSE streams, embeddings, keys, usage reports, limits) as a
plain handler from a :class:`Call` to an :class:`Answer`, so the same gateway
serves ``httpx.MockTransport`` (in these tests) and ASGI (through
:mod:`tests.faults`). Faulty gateways are this one wrapped by one fault.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from contract_tests.checks.policies import Policies
from tests import media_gateway

ADMIN_KEY = "rq-reference-admin-secret-0001"
BASE = "/v1"
MODELS = [
    {"id": "openai/gpt-4o-mini", "object": "model", "type": "chat", "input_price": 0.15, "output_price": 0.6,
     "cached_price": 0.075, "caching_price": 0.15, "supports_caching": True, "supports_reasoning": False,
     "regions": ["us", "eu"]},
    {"id": "acme/tiny-chat", "object": "model", "type": "chat", "input_price": 0.1, "output_price": 0.2,
     "supports_caching": False, "supports_reasoning": False, "regions": ["us"]},
    {"id": "acme/think", "object": "model", "type": "chat", "input_price": 0.5, "output_price": 2.0,
     "supports_caching": False, "supports_reasoning": True, "regions": ["us"]},
    {"id": "acme/embed-small", "object": "model", "type": "embedding", "input_price": 0.02, "output_price": 0,
     "dimensions": 8},
]
MODELS += media_gateway.MEDIA_MODELS


@dataclass
class Call:
    method: str
    path: str  # without the base path
    headers: dict[str, str]  # lower-case names
    body: Any = None
    admin_key: str = ADMIN_KEY  # the wrapped gateway's admin key, for faults that act as admin
    query: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        prefix, _, value = self.headers.get("authorization", "").partition(" ")
        return value.strip() or None if prefix.lower() == "bearer" else None


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Answer:
        return cls(status, json.dumps(value).encode(), {"content-type": "application/json", **headers})

    def parsed(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Call], Answer]


def error(status: int, message: str, code: str | None = None, kind: str = "invalid_request_error", *,
          param: str | None = None, origin: str = "router") -> Answer:
    return Answer.json({"error": {"message": message, "type": kind, "param": param, "code": code, "origin": origin}},
                       status)


ROUTING_FILE = Path(__file__).parent / "data" / "reference-routing.yml"
POLICIES = Policies.from_file(ROUTING_FILE)  # what the suite is told of the reference gateway's policies
EFFORT = re.compile(r"(low|medium|high|max|min|none|[0-9]{1,9})")
REQUESTY_TYPES = {"tags": list, "user_id": str, "trace_id": str, "extra": dict, "auto_cache": bool}
PROVIDER_FAULTS = {429: ("rate_limit_exceeded", "rate_limit_error"), 500: ("server_error", "server_error"),
                   502: ("bad_gateway", "server_error"), 503: ("service_unavailable", "server_error")}
GROUPS = ("model", "model_asked", "tag", "user_id", "origin", "key", "day")


@dataclass
class Entry:
    """One billed call, with what the usage reports filter and group by."""

    key: str
    model: str
    tokens: int
    cost: float
    asked: str = ""
    tags: tuple[str, ...] = ()
    user_id: str | None = None
    origin: str | None = None
    day: str = field(default_factory=lambda: datetime.now(UTC).date().isoformat())

    def group(self, by: str) -> str | None:
        values = {"model": self.model, "model_asked": self.asked or self.model, "user_id": self.user_id,
                  "origin": self.origin, "key": self.key, "day": self.day,
                  "tag": ",".join(sorted(set(self.tags))) or None}
        return values[by]


class ReferenceGateway:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {"admin": {"id": "admin", "name": "admin", "key": ADMIN_KEY,
                                                            "limit": None, "expiry": None, "admin": True}}
        self.ledger: list[Entry] = []
        self.counter = 0
        self.routing = yaml.safe_load(ROUTING_FILE.read_text())["policies"]
        self.caches: dict[tuple[str, str], set[str]] = {}  # (key id, model) -> prefixes cached
        self.turns: dict[str, int] = {}  # load balancing without a trace id: round robin per policy

    # -- plumbing ---------------------------------------------------------------------------------------------------
    def __call__(self, call: Call) -> Answer:
        answer = self._route(call)
        if call.path.startswith("/messages") and answer.status >= 400:  # Anthropic's error shape there
            problem = answer.parsed().get("error") or {}
            kinds = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                     403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
            return Answer.json({"type": "error", "error": {"type": kinds.get(answer.status, "api_error"),
                                                           "message": problem.get("message", "")}}, answer.status)
        return answer

    def _route(self, call: Call) -> Answer:
        principal = self._authenticate(call)
        if isinstance(principal, Answer):
            return principal
        prefer = re.search(r"code=(\d{3})", call.headers.get("prefer", ""))
        if prefer and int(prefer.group(1)) in PROVIDER_FAULTS and call.path in ("/chat/completions", "/embeddings"):
            status = int(prefer.group(1))
            code, kind = PROVIDER_FAULTS[status]
            return error(status, "the upstream provider failed (injected fault)", code, kind, origin="provider")
        fixed = {("GET", "/models"): self.models, ("POST", "/chat/completions"): self.chat,
                 ("POST", "/embeddings"): self.embeddings, ("GET", "/api-keys"): self.list_keys,
                 ("POST", "/api-keys"): self.create_key, ("GET", "/organization/usage"): self.org_usage,
                 ("POST", "/responses"): self.responses, ("POST", "/messages"): self.messages,
                 ("POST", "/messages/count_tokens"): self.count_tokens,
                 ("POST", "/audio/speech"): lambda c, p: media_gateway.speech(self, c, p),
                 ("POST", "/audio/transcriptions"): lambda c, p: media_gateway.transcription(self, c, p),
                 ("POST", "/images/generations"): lambda c, p: media_gateway.images(self, c, p),
                 ("POST", "/images/edits"): lambda c, p: media_gateway.images(self, c, p, edit=True)}
        func = fixed.get((call.method, call.path))
        if func is not None:
            if call.path.startswith(("/api-keys", "/organization")) and principal["id"] != "admin":
                return error(403, "management needs the admin key", "permission_denied", "permission_error")
            return func(call, principal)
        if any(path == call.path for _, path in fixed):
            allowed = ", ".join(m for m, path in fixed if path == call.path)
            return Answer.json(error(405, "method not allowed").parsed(), 405, allow=allowed)
        parts = call.path.strip("/").split("/")
        if parts[0] == "api-keys" and len(parts) in (2, 3):
            key = self.keys.get(parts[1])
            handlers = {("GET", 2): self.get_key, ("DELETE", 2): self.delete_key, ("GET", 3, "usage"): self.key_usage,
                        ("PATCH", 3, "limit"): self.set_limit}
            func = handlers.get((call.method, len(parts), *parts[2:]))
            if func is None:
                allowed = {2: "DELETE, GET", 3: "PATCH" if parts[2:] == ["limit"] else "GET"}[len(parts)]
                return Answer.json(error(405, "method not allowed").parsed(), 405, allow=allowed)
            if principal["id"] != "admin":
                return error(403, "management needs the admin key", "permission_denied", "permission_error")
            if key is None:
                return error(404, f"no key {parts[1]}", "not_found")
            return func(call, key)
        if parts[0] == "responses" and len(parts) == 2 and call.method == "GET":  # it stores no responses
            return error(404, f"no stored response {parts[1]}", "response_not_found")
        return error(404, f"Unknown path {call.path}", "unknown_path")

    def _authenticate(self, call: Call) -> dict | Answer:
        token = call.token
        key = next((k for k in self.keys.values() if k["key"] == token), None) if token else None
        if key is None:
            return error(401, "Incorrect or missing API key.", "invalid_api_key")
        if key["expiry"] and datetime.fromisoformat(key["expiry"].replace("Z", "+00:00")).timestamp() <= time.time():
            return error(401, "The API key has expired.", "expired_api_key")
        return key

    def _spent(self, key_id: str) -> float:
        return sum(entry.cost for entry in self.ledger if entry.key == key_id)

    # -- inference --------------------------------------------------------------------------------------------------
    def models(self, call: Call, principal: dict) -> Answer:
        return Answer.json({"object": "list", "data": MODELS})

    def _gate(self, call: Call, principal: dict, kind: str, model_id: str | None = None) -> dict | Answer:
        body = call.body if isinstance(call.body, dict) else None
        if body is None:
            return error(400, "body must be a JSON object")
        model_id = model_id or body.get("model", "openai/gpt-4o-mini")
        model = next((m for m in MODELS if m["id"] == model_id), None)
        if model is None or model["type"] != kind:
            return error(404, f"unknown {kind} model", "model_not_found", param="model")
        limit = principal.get("limit")
        if limit is not None and self._spent(principal["id"]) >= limit:
            return error(402, "spend limit reached", "key_limit_exceeded", "insufficient_quota")
        return model

    def _resolve(self, name: str, body: dict) -> tuple[str, str] | Answer:
        """The catalog id a requested name is served by, and the name the answer gives it."""
        if name.startswith("policy/"):
            policy = self.routing.get(name.removeprefix("policy/"))
            if policy is None:
                return error(404, f"no routing policy named {name!r}", "model_not_found", param="model")
            entries = [e["model"] if isinstance(e, dict) else e for e in policy["models"]]
            if policy["type"] == "fallback":
                return self._resolve(entries[0], body)
            trace = (body.get("requesty") or {}).get("trace_id")
            if trace:
                turn = int(hashlib.sha256(f"{name}\0{trace}".encode()).hexdigest(), 16)
            else:
                turn = self.turns[name] = self.turns.get(name, -1) + 1
            return self._resolve(entries[turn % len(entries)], body)
        model_id, _, region = name.partition("@")
        model = next((m for m in MODELS if m["id"] == model_id), None)
        if model is not None and region and region not in model.get("regions", []):
            return error(404, f"{model_id} is not served in region {region!r}; it is served in: "
                              f"{', '.join(model['regions'])}", "region_not_supported", param="model")
        return model_id, name

    @staticmethod
    def _extensions_problem(body: dict) -> Answer | None:
        """The 400 for a requesty object or reasoning_effort of the wrong type or value."""
        requesty = body.get("requesty")
        if requesty is not None and not isinstance(requesty, dict):
            return error(400, "requesty must be an object", "invalid_request", param="requesty")
        for name, kind in REQUESTY_TYPES.items():
            value = (requesty or {}).get(name)
            if value is not None and (not isinstance(value, kind)
                                      or (name == "tags" and not all(isinstance(t, str) for t in value))):
                return error(400, f"requesty.{name} has the wrong type", "invalid_request", param=f"requesty.{name}")
        effort = body.get("reasoning_effort")
        if effort is not None and not (isinstance(effort, str) and EFFORT.fullmatch(effort)):
            return error(400, f"reasoning_effort {effort!r} is not a documented value", "invalid_request",
                         param="reasoning_effort")
        return None

    def _cache(self, principal: dict, model: dict, body: dict) -> tuple[int, int]:
        """(cached, caching) tokens: the messages before the last user message, read or written with auto_cache."""
        if not (model.get("supports_caching") and (body.get("requesty") or {}).get("auto_cache")):
            return 0, 0
        messages = [m for m in body["messages"] if isinstance(m, dict)]
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
        prefix = messages[:last_user]
        if not prefix:
            return 0, 0
        tokens = sum(len(str(m.get("content", "")).split()) for m in prefix)
        digest = hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest()
        cache = self.caches.setdefault((principal["id"], model["id"]), set())
        if digest in cache:
            return tokens, 0
        cache.add(digest)
        return 0, tokens

    def chat(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return error(400, "messages must be a non-empty list", "invalid_request")
        problem = self._extensions_problem(body)
        if problem is not None:
            return problem
        asked = str(body.get("model", "openai/gpt-4o-mini"))
        resolved = self._resolve(asked, body)
        if isinstance(resolved, Answer):
            return resolved
        model = self._gate(call, principal, "chat", resolved[0])
        if isinstance(model, Answer):
            return model
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict)) + 3
        answered = min(int(body.get("max_tokens") or 4), 4)
        reasoning = 2 if model.get("supports_reasoning") and body.get("reasoning_effort") != "none" else 0
        completion = answered + reasoning
        cached, caching = self._cache(principal, model, body)
        cost = ((prompt - cached - caching) * model["input_price"] + cached * model.get("cached_price", model["input_price"])
                + caching * model.get("caching_price", model["input_price"]) + completion * model["output_price"]) / 1e6
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "cost": cost, "prompt_tokens_details": {"cached_tokens": cached, "caching_tokens": caching},
                 "completion_tokens_details": {"reasoning_tokens": reasoning}}
        requesty = body.get("requesty") or {}
        self.ledger.append(Entry(principal["id"], model["id"], prompt + completion, cost, asked,
                                 tuple(requesty.get("tags") or ()), requesty.get("user_id"),
                                 call.headers.get("http-referer")))
        self.counter += 1
        cid, created = f"chatcmpl-{self.counter}", 1_700_000_000
        words = ["pong"] * answered
        finish = "length" if answered == int(body.get("max_tokens") or 0) else "stop"
        content: str | None = " ".join(words)
        tool = _called_tool(body)
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            content, finish = json.dumps(example((fmt.get("json_schema") or {}).get("schema") or {})), "stop"
        tool_calls = None
        if tool is not None:
            content, finish = None, "tool_calls"
            tool_calls = [{"id": f"call_{self.counter}", "type": "function",
                           "function": {"name": tool["name"], "arguments": json.dumps(example(tool.get("parameters") or {}))}}]
        if not body.get("stream"):
            message = {"role": "assistant", "content": content, **({"tool_calls": tool_calls} if tool_calls else {})}
            return Answer.json({"id": cid, "object": "chat.completion", "created": created, "model": resolved[1],
                                "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": resolved[1]}
        if tool_calls:
            first = {**tool_calls[0], "index": 0, "function": {"name": tool["name"], "arguments": ""}}
            deltas = [{"role": "assistant", "content": None}, {"tool_calls": [first]}] + [
                {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                for piece in pieces(tool_calls[0]["function"]["arguments"])]
        else:
            deltas = [{"role": "assistant", "content": ""}] + [{"content": piece} for piece in pieces(content or "")]
        chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}], "usage": None} for d in deltas]
        if call.headers.get("x-mock-stream-fault", "").startswith("error"):
            failed = {"error": {"message": "a problem with the provider stream", "type": "server_error", "param": None,
                                "code": "stream_error", "origin": "router"}}
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in [chunks[0], failed])
            return Answer(200, text.encode(), {"content-type": "text/event-stream"})
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}], "usage": None})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": usage})
        text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Answer(200, text.encode(), {"content-type": "text/event-stream"})

    # -- the Responses and Messages APIs, answered by chat -------------------------------------------------------------
    def _chat_for(self, call: Call, principal: dict, body: dict) -> dict | Answer:
        """The JSON chat completion ``body`` (a chat request) gets, or the error answer."""
        answer = self.chat(Call("POST", "/chat/completions", call.headers, body, call.admin_key), principal)
        return answer.parsed() if answer.status == 200 else answer

    def responses(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        given = body.get("input")
        messages = [{"role": "user", "content": given}] if isinstance(given, str) else [
            {"role": m.get("role", "user"), "content": m.get("content")} for m in given or [] if isinstance(m, dict)]
        chat = {"model": body.get("model"), "messages": messages, "max_tokens": body.get("max_output_tokens")}
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        if tools:
            chat.update(tools=[{"type": "function", "function": {k: t[k] for k in ("name", "parameters") if k in t}}
                               for t in tools], tool_choice=body.get("tool_choice", "auto"))
        completion = self._chat_for(call, principal, chat)
        if isinstance(completion, Answer):
            return completion
        rid = f"resp_{self.counter}"
        choice = completion["choices"][0]
        message = choice["message"]
        usage = completion["usage"]
        details = usage["prompt_tokens_details"]
        output = [{"type": "function_call", "id": f"fc_{self.counter}_{i}", "call_id": c["id"], "status": "completed",
                   "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                  for i, c in enumerate(message.get("tool_calls") or [])]
        output = output or [{"type": "message", "id": f"msg_{self.counter}", "status": "completed", "role": "assistant",
                             "content": [{"type": "output_text", "text": message["content"], "annotations": []}]}]
        final = {"id": rid, "object": "response", "created_at": 1_700_000_000, "status": "completed",
                 "model": completion["model"], "output": output,
                 "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                           "total_tokens": usage["total_tokens"], "cost": usage["cost"],
                           "input_tokens_details": {"cached_tokens": details["cached_tokens"],
                                                    "cache_write_tokens": details["caching_tokens"]}}}
        if not body.get("stream"):
            return Answer.json(final)
        events: list[dict] = []
        opening = {**final, "status": "in_progress", "output": [], "usage": None}
        events += [{"type": "response.created", "response": opening}, {"type": "response.in_progress", "response": opening}]
        for index, item in enumerate(output):
            where = {"item_id": item["id"], "output_index": index}
            if item["type"] == "message":
                text = item["content"][0]["text"]
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "status": "in_progress", "content": []}})
                events.append({"type": "response.content_part.added", **where, "content_index": 0,
                               "part": {"type": "output_text", "text": "", "annotations": []}})
                events += [{"type": "response.output_text.delta", **where, "content_index": 0, "delta": piece}
                           for piece in pieces(text)]
                events.append({"type": "response.output_text.done", **where, "content_index": 0, "text": text})
                events.append({"type": "response.content_part.done", **where, "content_index": 0,
                               "part": item["content"][0]})
            else:
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "arguments": "", "status": "in_progress"}})
                events += [{"type": "response.function_call_arguments.delta", **where, "delta": piece}
                           for piece in pieces(item["arguments"])]
                events.append({"type": "response.function_call_arguments.done", **where, "arguments": item["arguments"]})
            events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        events.append({"type": "response.completed", "response": final})
        return typed_stream({**e, "sequence_number": n} for n, e in enumerate(events))

    def messages(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return error(400, "messages: Input should be a valid list", "invalid_request", param="messages")
        messages = [{"role": m.get("role"), "content": m.get("content") if isinstance(m.get("content"), str) else
                     " ".join(b.get("text", "") for b in m.get("content") or [] if isinstance(b, dict))}
                    for m in body["messages"] if isinstance(m, dict)]
        chat = {"model": body.get("model"), "messages": messages, "max_tokens": body.get("max_tokens")}
        if body.get("tools"):
            choice = (body.get("tool_choice") or {}).get("type", "auto")
            chat.update(tools=[{"type": "function", "function": {"name": t["name"], "parameters": t.get("input_schema")}}
                               for t in body["tools"]], tool_choice={"any": "required", "tool": "required"}.get(choice, choice))
        completion = self._chat_for(call, principal, chat)
        if isinstance(completion, Answer):
            return completion
        choice = completion["choices"][0]
        message = choice["message"]
        usage = completion["usage"]
        cached, caching = usage["prompt_tokens_details"]["cached_tokens"], usage["prompt_tokens_details"]["caching_tokens"]
        content = [{"type": "tool_use", "id": "toolu_" + c["id"], "name": c["function"]["name"],
                    "input": json.loads(c["function"]["arguments"])} for c in message.get("tool_calls") or []]
        content = content or [{"type": "text", "text": message["content"]}]
        final_usage = {"input_tokens": usage["prompt_tokens"] - cached - caching, "output_tokens": usage["completion_tokens"],
                       "cache_creation_input_tokens": caching, "cache_read_input_tokens": cached, "cost": usage["cost"]}
        stop = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}[choice["finish_reason"]]
        final = {"id": f"msg_{self.counter}", "type": "message", "role": "assistant", "model": completion["model"],
                 "content": content, "stop_reason": stop, "stop_sequence": None, "usage": final_usage}
        if not body.get("stream"):
            return Answer.json(final)
        events: list[dict] = [{"type": "message_start", "message": {
            **final, "content": [], "stop_reason": None, "usage": {**final_usage, "output_tokens": 0, "cost": None}}},
            {"type": "ping"}]
        for index, block in enumerate(content):
            if block["type"] == "text":
                events.append({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
                deltas = [{"type": "text_delta", "text": piece} for piece in pieces(block["text"])]
            else:
                events.append({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
                deltas = [{"type": "input_json_delta", "partial_json": piece}
                          for piece in pieces(json.dumps(block["input"]))]
            events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
            events.append({"type": "content_block_stop", "index": index})
        events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": final_usage})
        events.append({"type": "message_stop"})
        return typed_stream(events)

    def count_tokens(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("messages"), list):
            return error(400, "messages: Input should be a valid list", "invalid_request", param="messages")
        return Answer.json({"input_tokens": sum(len(str(m.get("content", "")).split()) for m in body["messages"]) + 3})

    def embeddings(self, call: Call, principal: dict) -> Answer:
        model = self._gate(call, principal, "embedding")
        if isinstance(model, Answer):
            return model
        inputs = call.body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = []
        for index, text in enumerate(inputs):
            digest = hashlib.sha256(text.encode()).digest()
            vector = [round((b - 128) / 128, 4) for b in digest[: model["dimensions"]]]
            embedding: Any = vector
            if call.body.get("encoding_format") == "base64":
                embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(t.split()) for t in inputs)
        cost = tokens * model["input_price"] / 1e6
        self.ledger.append(Entry(principal["id"], model["id"], tokens, cost, model["id"]))
        return Answer.json({"object": "list", "data": data, "model": model["id"],
                            "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "cost": cost}})

    # -- keys and reports -------------------------------------------------------------------------------------------
    @staticmethod
    def _public(key: dict) -> dict:
        return {k: v for k, v in key.items() if k not in ("key", "admin")}

    def list_keys(self, call: Call, principal: dict) -> Answer:
        return Answer.json({"data": [self._public(k) for k in self.keys.values() if k["id"] != "admin"]})

    def create_key(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        self.counter += 1
        key = {"id": f"key-{self.counter}", "name": body.get("name", ""), "key": f"rq-ref-secret-{self.counter:08d}x",
               "limit": body.get("limit"), "expiry": body.get("expiry"), "admin": False}
        self.keys[key["id"]] = key
        return Answer.json({k: v for k, v in key.items() if k != "admin"})

    def get_key(self, call: Call, key: dict) -> Answer:
        return Answer.json(self._public(key))

    def delete_key(self, call: Call, key: dict) -> Answer:
        del self.keys[key["id"]]
        return Answer.json({"id": key["id"], "deleted": True})

    def set_limit(self, call: Call, key: dict) -> Answer:
        key["limit"] = (call.body or {}).get("limit")
        return Answer.json(self._public(key))

    FILTERS: dict[str, Callable[[Entry, str], bool]] = {
        "tag": lambda e, v: v in e.tags, "user_id": lambda e, v: e.user_id == v, "origin": lambda e, v: e.origin == v,
        "model": lambda e, v: e.model == v, "model_asked": lambda e, v: (e.asked or e.model) == v}

    def _report(self, rows: list[Entry], query: dict[str, str]) -> dict:
        for name, keep in self.FILTERS.items():
            if name in query:
                rows = [e for e in rows if keep(e, query[name])]
        models: dict[str, dict] = {}
        for entry in rows:
            row = models.setdefault(entry.model, {"model": entry.model, "requests": 0, "tokens": 0, "cost": 0.0})
            row["requests"] += 1
            row["tokens"] += entry.tokens
            row["cost"] += entry.cost
        report = {"total_cost": sum(e.cost for e in rows), "total_requests": len(rows),
                  "total_tokens": sum(e.tokens for e in rows), "breakdown": list(models.values())}
        by = query.get("group_by")
        if by in GROUPS:
            groups: dict[str | None, dict] = {}
            for entry in rows:
                name = entry.group(by)
                group = groups.setdefault(name, {"group": name, "requests": 0, "tokens": 0, "cost": 0.0})
                group["requests"] += 1
                group["tokens"] += entry.tokens
                group["cost"] += entry.cost
            report.update(group_by=by, groups=list(groups.values()))
        return report

    def key_usage(self, call: Call, key: dict) -> Answer:
        return Answer.json(self._report([e for e in self.ledger if e.key == key["id"]], call.query))

    def org_usage(self, call: Call, principal: dict) -> Answer:
        return Answer.json(self._report(self.ledger, call.query))


def _called_tool(body: dict) -> dict | None:
    """The function a chat request makes the model call: tool_choice required (the first tool) or a named one."""
    functions = [t.get("function") or {} for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice")
    if not functions or choice in (None, "none", "auto"):
        return None
    named = ((choice or {}).get("function") or {}).get("name") if isinstance(choice, dict) else None
    return next((f for f in functions if f.get("name") == named), functions[0])


def example(schema: dict) -> Any:
    """A small value valid against a simple JSON Schema (objects, strings, numbers, booleans, arrays)."""
    kind = schema.get("type")
    if kind == "object":
        return {name: example(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    return "pong"


def pieces(text: str) -> list[str]:
    """``text`` in stream deltas: word by word, spaces kept (an empty text is one empty delta)."""
    return re.findall(r"\s*\S+|\s+$", text) or [text]


def typed_stream(events) -> Answer:
    """Events of the Responses and Messages grammars: ``event:`` names the JSON's type."""
    text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return Answer(200, text.encode(), {"content-type": "text/event-stream"})


def to_call(request: httpx.Request) -> Call:
    path = request.url.path.removeprefix(BASE)
    content = request.read()
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = content
    return Call(request.method, path, {k.lower(): v for k, v in request.headers.items()}, body,
                query=dict(request.url.params))


def mock_transport(handler: Handler) -> httpx.MockTransport:
    """``handler`` (a gateway, faulty or not) as an httpx transport."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = handler(to_call(request))
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    return httpx.MockTransport(handle)


# -- governance: access lists, spend alerts, guardrails (docs/governance.md) --------------------------------------------

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_CARD = r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"
_SECRET = r"sk-[A-Za-z0-9_-]{20,}"


def _luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()][::-1]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)) % 10 == 0


PlainReferenceGateway = ReferenceGateway  # without the governance controls


class GovernedGateway:
    """The reference gateway with the governance controls in front of it: a handler wrapping a
    :class:`PlainReferenceGateway`, written independently of the mock's code."""

    def __getattr__(self, name: str) -> Any:  # keys, ledger, counter: the wrapped gateway's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __init__(self, inner: PlainReferenceGateway | None = None) -> None:
        import re

        self.inner = inner or PlainReferenceGateway()
        self.lists: dict[str, list[str]] = {}
        self.key_lists: dict[str, str] = {}
        self.alerts: dict[str, dict] = {}
        self.guardrails: dict[str, str] = {}
        self.fired: set[tuple[str, float]] = set()
        self.journal: list[dict] = []
        self.patterns = [(kind, re.compile(p)) for kind, p in (("email", _EMAIL), ("card_number", _CARD),
                                                                ("secret", _SECRET))]

    def __call__(self, call: Call) -> Answer:
        if call.path == "/__mock/journal":
            return Answer.json({"object": "list", "data": self.journal[::-1]})
        key = self.inner._authenticate(call)
        if isinstance(key, Answer):
            return self.inner(call)
        parts = call.path.strip("/").split("/")
        if parts[0] == "access-lists" or (parts[0] == "api-keys" and parts[2:] in (["access-list"], ["alerts"],
                                                                                   ["guardrails"])):
            if not key.get("admin"):
                return error(403, "management needs the admin key", "permission_denied", "permission_error")
            return self._manage(call, parts)
        name = self.key_lists.get(key["id"])
        allowed = self.lists.get(name) if name else None
        if call.path == "/models" and allowed is not None:
            answer = self.inner(call)
            body = answer.parsed()
            return Answer.json({**body, "data": [m for m in body["data"] if m["id"] in allowed]})
        if call.method == "POST" and call.path in ("/chat/completions", "/embeddings", "/responses", "/messages"):
            return self._infer(call, key, name, allowed)
        return self.inner(call)

    def _manage(self, call: Call, parts: list[str]) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if parts == ["access-lists"] and call.method == "POST":
            if body.get("name") in self.lists:
                return error(409, "exists", "access_list_exists")
            self.lists[body["name"]] = list(body["models"])
            return Answer.json({"name": body["name"], "models": body["models"]})
        if parts[0] == "access-lists" and len(parts) == 2 and call.method == "DELETE":
            if self.lists.pop(parts[1], None) is None:
                return error(404, "no such list", "access_list_not_found")
            return Answer.json({"name": parts[1], "deleted": True})
        if parts[0] == "access-lists":
            return Answer.json({"data": [{"name": n, "models": m} for n, m in self.lists.items()]})
        key_id, what = parts[1], parts[2]
        if key_id not in self.inner.keys:
            return error(404, f"no key {key_id}", "not_found")
        if what == "access-list":
            name = body.get("access_list")
            if name is not None and name not in self.lists:
                return error(404, "no such list", "access_list_not_found")
            self.key_lists.pop(key_id, None) if name is None else self.key_lists.__setitem__(key_id, name)
            return Answer.json({"key_id": key_id, "access_list": name})
        if what == "guardrails":
            self.guardrails[key_id] = body.get("action") or "disabled"
            return Answer.json({"key_id": key_id, "action": self.guardrails[key_id]})
        if call.method == "PUT":
            self.alerts[key_id] = body
        settings = self.alerts.get(key_id, {})
        return Answer.json({"key_id": key_id, "thresholds": settings.get("thresholds", []),
                            "webhook_url": settings.get("webhook_url")})

    def _infer(self, call: Call, key: dict, name: str | None, allowed: list[str] | None) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if allowed is not None and body.get("model") not in allowed:
            return error(403, f"the model is not on the key's access list '{name}'", "model_not_allowed",
                         "permission_error")
        action = self.guardrails.get(key["id"], "disabled")
        texts = [m.get("content") for m in body.get("messages", []) if isinstance(m, dict)]
        found = []
        for index, text in enumerate(texts):
            if isinstance(text, str) and action != "disabled":
                for kind, pattern in self.patterns:
                    found += [{"kind": kind, "path": f"$.messages[{index}].content", "start": m.start(), "end": m.end()}
                              for m in pattern.finditer(text) if kind != "card_number" or _luhn(m.group())]
        if found:
            self.journal.append({"path": call.path, "guardrail": action, "violations": found})
        recorded = len(self.inner.ledger)
        answer = self.inner(call)
        if action in ("report", "mask") and answer.status == 200 and call.path == "/chat/completions" and texts \
                and "json" in answer.headers.get("content-type", ""):
            last = texts[-1] if isinstance(texts[-1], str) else ""
            if action == "mask":
                for kind, pattern in self.patterns:
                    last = pattern.sub(lambda m, k=kind: f"[{k.upper()}]" if k != "card_number" or _luhn(m.group())
                                       else m.group(), last)
            reply = answer.parsed()
            reply["choices"][0]["message"]["content"] = last  # the reference echoes what its model saw
            answer = Answer.json(reply)
        if len(self.inner.ledger) > recorded:
            self._alert(key, self.inner.ledger[-1].cost)
        return answer

    def _alert(self, key: dict, cost: float) -> None:
        import hmac as _hmac
        import threading

        settings = self.alerts.get(key["id"])
        if not settings or not settings.get("webhook_url"):
            return
        spend = self.inner._spent(key["id"])
        for threshold in settings.get("thresholds", []):
            amount = threshold.get("usd") or (threshold.get("percent", 0) / 100 * (key.get("limit") or 0))
            if not amount or not (spend - cost < amount <= spend) or (key["id"], amount) in self.fired:
                continue
            self.fired.add((key["id"], amount))
            event = json.dumps({"key_id": key["id"], "threshold": threshold, "spend_usd": spend,
                                "limit_usd": key.get("limit"), "created_at": int(time.time())}).encode()
            headers = {"content-type": "application/json"}
            if settings.get("webhook_secret"):
                t = str(int(time.time()))
                digest = _hmac.new(settings["webhook_secret"].encode(), t.encode() + b"." + event,
                                   hashlib.sha256).hexdigest()
                headers["x-mock-signature"] = f"t={t},v1={digest}"
            threading.Thread(target=httpx.post, args=(settings["webhook_url"],),
                             kwargs={"content": event, "headers": headers}, daemon=True).start()


class ReferenceGateway(GovernedGateway):  # noqa: F811  (the reference gateway is the governed one)
    """The reference gateway every check passes on: the plain one with the governance controls."""

    def __init__(self) -> None:
        super().__init__(PlainReferenceGateway())
