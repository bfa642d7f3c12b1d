"""What a check gets: the target's client, the shared calls (cached, so a run pays for them once), and helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from contract_tests.checks.registry import CheckFailed, CheckSkipped
from contract_tests.target import Target
from mockserver.spec import LoadedSpec

PROMPT = "Reply with the single word: pong."
DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"


class CheckContext:
    def __init__(self, target: Target, spec: LoadedSpec, *, deterministic: bool, allow_writes: bool,
                 max_tokens: int = 16):
        self.target = target
        self.spec = spec
        self.client = target.client
        self.deterministic = deterministic
        self.allow_writes = allow_writes
        self.max_tokens = max_tokens
        self._cache: dict[object, Any] = {}
        self.created_keys: list[str] = []

    # -- requests -------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, key: str | None = None, auth: bool = True,
                json: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = dict(headers or {})
        if auth:
            sent.update(self.target.auth_headers(key))
        return self.client.request(method, path, json=json, headers=sent)

    def once(self, name: object, factory: Callable[[], Any]) -> Any:
        """``factory()`` the first time ``name`` is asked for; the same value afterwards (failures too)."""
        if name not in self._cache:
            try:
                self._cache[name] = factory()
            except (CheckFailed, CheckSkipped) as exc:
                self._cache[name] = exc
        value = self._cache[name]
        if isinstance(value, (CheckFailed, CheckSkipped)):
            raise value
        return value

    def ok(self, response: httpx.Response, what: str, status: int = 200, *, resource: bool = False) -> Any:
        """The JSON of a ``status`` answer to ``what``; drift (404/405 on a documented path) is said plainly.

        ``resource``: the path names one resource, so a 404 may be about it rather than the operation.
        """
        if response.status_code == 405 or (response.status_code == 404 and not resource):
            raise CheckFailed(f"documented operation missing on target: {what} answered {response.status_code}")
        if response.status_code != status:
            raise CheckFailed(f"{what}: expected {status}, received {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError:
            raise CheckFailed(f"{what}: expected a JSON body, received {response.text[:200]!r}") from None

    # -- the catalog ------------------------------------------------------------------------------------------------
    def models(self) -> list[dict]:
        def load() -> list[dict]:
            body = self.ok(self.request("GET", "/models"), "GET /models")
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise CheckFailed(f"GET /models: expected a data list, received {str(body)[:200]}")
            return [m for m in data if isinstance(m, dict)]

        return self.once("models", load)

    def model(self, model_id: str) -> dict | None:
        return next((m for m in self.models() if m.get("id") == model_id), None)

    def chat_model(self) -> str:
        candidates = [m for m in self.models() if kind(m) == "chat"]
        if not candidates:
            return DEFAULT_CHAT_MODEL
        return min(candidates, key=_price)["id"]

    def paid_chat_model(self) -> str:
        """The cheapest chat model that costs something (a free model cannot spend a limit)."""
        candidates = [m for m in self.models() if kind(m) == "chat" and 0 < _price(m) < 1e9]
        if not candidates:
            raise CheckSkipped("GET /models lists no priced chat model")
        return min(candidates, key=_price)["id"]

    def embedding_model(self) -> str:
        candidates = [m for m in self.models() if kind(m) == "embedding"]
        if not candidates:
            raise CheckSkipped("GET /models lists no model of type embedding")
        return min(candidates, key=_price)["id"]

    # -- inference --------------------------------------------------------------------------------------------------
    def chat_body(self, **extra: Any) -> dict[str, Any]:
        body = {"model": self.chat_model(), "messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": self.max_tokens, "temperature": 0}
        body.update(extra)
        return body

    def chat(self, *, stream: bool = False, include_usage: bool = False, key: str | None = None,
             **extra: Any) -> httpx.Response:
        """A chat completion (cached per arguments when sent with the run's key)."""
        body = self.chat_body(**extra)
        if stream:
            body["stream"] = True
            if include_usage:
                body["stream_options"] = {"include_usage": True}

        def send() -> httpx.Response:
            return self.request("POST", "/chat/completions", json=body, key=key)

        if key is not None:
            return send()
        return self.once(("chat", stream, include_usage, tuple(sorted(extra.items()))), send)

    def chat_json(self, **extra: Any) -> dict:
        return self.ok(self.chat(**extra), "POST /chat/completions")

    def stream_text(self, *, include_usage: bool = True) -> tuple[httpx.Response, str]:
        response = self.chat(stream=True, include_usage=include_usage)
        if response.status_code in (404, 405):
            self.ok(response, "POST /chat/completions")
        if response.status_code != 200:
            raise CheckFailed(f"POST /chat/completions (stream): expected 200, received {response.status_code}: "
                              f"{response.text[:300]}")
        return response, response.text

    def embeddings(self, inputs: list[str], encoding_format: str = "float") -> dict:
        model = self.embedding_model()
        key = ("embeddings", tuple(inputs), encoding_format)
        return self.once(key, lambda: self.ok(self.request(
            "POST", "/embeddings", json={"model": model, "input": inputs, "encoding_format": encoding_format}),
            "POST /embeddings"))

    # -- keys -------------------------------------------------------------------------------------------------------
    def require_writes(self) -> None:
        if not self.allow_writes:
            raise CheckSkipped("creates or deletes API keys: run with --allow-writes")

    def create_key(self, **fields: Any) -> dict:
        self.require_writes()
        body = {"name": "contract-tests", **fields}
        created = self.ok(self.request("POST", "/api-keys", json=body), "POST /api-keys")
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise CheckFailed(f"POST /api-keys: expected an object with an id, received {str(created)[:200]}")
        self.target.redactor.add(created.get("key"))
        self.created_keys.append(created["id"])
        return created

    def secret(self, created: dict) -> str:
        secret = created.get("key")
        if not isinstance(secret, str) or not secret:
            raise CheckFailed("POST /api-keys: the answer carries no key secret (documented: returned on creation)")
        return secret

    def cleanup(self) -> None:
        """Delete the keys the run created (best effort: the budget may be spent)."""
        for key_id in self.created_keys:
            try:
                self.request("DELETE", f"/api-keys/{key_id}")
            except Exception:  # noqa: BLE001  (cleanup never hides the run's results)
                pass
        self.created_keys.clear()


def kind(model: dict) -> str:
    """``type`` as the overlay documents it; a catalog without it (the live router's) is read by the id."""
    if model.get("type") in ("chat", "embedding"):
        return model["type"]
    if "type" in model:
        return str(model["type"])
    return "embedding" if "embed" in str(model.get("id", "")).lower() else "chat"


def _price(model: dict) -> float:
    total = 0.0
    for name in ("input_price", "output_price"):
        value = model.get(name)
        total += float(value) if isinstance(value, (int, float)) else 1e9
    return total


def usage_of(body: dict, what: str) -> dict:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        raise CheckFailed(f"{what}: expected a usage object, received {str(usage)[:200]}")
    return usage


def number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
