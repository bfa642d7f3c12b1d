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
        if call.method == "POST" and call.path in ("/chat/completions", "/embeddings"):
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
            self._alert(key, self.inner.ledger[-1][3])
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
