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
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

ADMIN_KEY = "rq-reference-admin-secret-0001"
BASE = "/v1"
MODELS = [
    {"id": "openai/gpt-4o-mini", "object": "model", "type": "chat", "input_price": 0.15, "output_price": 0.6},
    {"id": "acme/tiny-chat", "object": "model", "type": "chat", "input_price": 0.1, "output_price": 0.2},
    {"id": "acme/embed-small", "object": "model", "type": "embedding", "input_price": 0.02, "output_price": 0,
     "dimensions": 8},
]


@dataclass
class Call:
    method: str
    path: str  # without the base path
    headers: dict[str, str]  # lower-case names
    body: Any = None
    admin_key: str = ADMIN_KEY  # the wrapped gateway's admin key, for faults that act as admin

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


def error(status: int, message: str, code: str | None = None, kind: str = "invalid_request_error") -> Answer:
    return Answer.json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status)


class ReferenceGateway:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {"admin": {"id": "admin", "name": "admin", "key": ADMIN_KEY,
                                                            "limit": None, "expiry": None, "admin": True}}
        self.ledger: list[tuple[str, str, int, float]] = []  # key id, model, tokens, cost
        self.counter = 0

    # -- plumbing ---------------------------------------------------------------------------------------------------
    def __call__(self, call: Call) -> Answer:
        principal = self._authenticate(call)
        if isinstance(principal, Answer):
            return principal
        fixed = {("GET", "/models"): self.models, ("POST", "/chat/completions"): self.chat,
                 ("POST", "/embeddings"): self.embeddings, ("GET", "/api-keys"): self.list_keys,
                 ("POST", "/api-keys"): self.create_key, ("GET", "/organization/usage"): self.org_usage}
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
        return sum(cost for k, _, _, cost in self.ledger if k == key_id)

    # -- inference --------------------------------------------------------------------------------------------------
    def models(self, call: Call, principal: dict) -> Answer:
        return Answer.json({"object": "list", "data": MODELS})

    def _gate(self, call: Call, principal: dict, kind: str) -> dict | Answer:
        body = call.body if isinstance(call.body, dict) else None
        if body is None:
            return error(400, "body must be a JSON object")
        model = next((m for m in MODELS if m["id"] == body.get("model", "openai/gpt-4o-mini")), None)
        if model is None or model["type"] != kind:
            return error(404, f"unknown {kind} model", "model_not_found")
        limit = principal.get("limit")
        if limit is not None and self._spent(principal["id"]) >= limit:
            return error(402, "spend limit reached", "key_limit_exceeded", "insufficient_quota")
        return model

    def chat(self, call: Call, principal: dict) -> Answer:
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return error(400, "messages must be a non-empty list", "invalid_request")
        model = self._gate(call, principal, "chat")
        if isinstance(model, Answer):
            return model
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict)) + 3
        completion = min(int(body.get("max_tokens") or 4), 4)
        words = ["pong"] * completion
        cost = (prompt * model["input_price"] + completion * model["output_price"]) / 1e6
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "cost": cost}
        self.ledger.append((principal["id"], model["id"], prompt + completion, cost))
        self.counter += 1
        cid, created = f"chatcmpl-{self.counter}", 1_700_000_000
        finish = "length" if completion == int(body.get("max_tokens") or 0) else "stop"
        if not body.get("stream"):
            return Answer.json({"id": cid, "object": "chat.completion", "created": created, "model": model["id"],
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(words)},
                                             "finish_reason": finish}], "usage": usage})
        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model["id"]}
        deltas = [{"role": "assistant", "content": ""}] + [{"content": (" " if i else "") + w} for i, w in enumerate(words)]
        chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}], "usage": None} for d in deltas]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}], "usage": None})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": usage})
        text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Answer(200, text.encode(), {"content-type": "text/event-stream"})

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
        self.ledger.append((principal["id"], model["id"], tokens, cost))
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

    def _report(self, rows: list[tuple[str, str, int, float]]) -> dict:
        models: dict[str, dict] = {}
        for _, model, tokens, cost in rows:
            entry = models.setdefault(model, {"model": model, "requests": 0, "tokens": 0, "cost": 0.0})
            entry["requests"] += 1
            entry["tokens"] += tokens
            entry["cost"] += cost
        return {"total_cost": sum(r[3] for r in rows), "total_requests": len(rows),
                "total_tokens": sum(r[2] for r in rows), "breakdown": list(models.values())}

    def key_usage(self, call: Call, key: dict) -> Answer:
        return Answer.json(self._report([r for r in self.ledger if r[0] == key["id"]]))

    def org_usage(self, call: Call, principal: dict) -> Answer:
        return Answer.json(self._report(self.ledger))


def to_call(request: httpx.Request) -> Call:
    path = request.url.path.removeprefix(BASE)
    content = request.read()
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = content
    return Call(request.method, path, {k.lower(): v for k, v in request.headers.items()}, body)


def mock_transport(handler: Handler) -> httpx.MockTransport:
    """``handler`` (a gateway, faulty or not) as an httpx transport."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = handler(to_call(request))
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    return httpx.MockTransport(handle)
