"""The checks' HTTP part: requests through the target's guarded client, the calls several checks share (made once
a run), and the exchanges a check caused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from contract_tests import sse
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, NotImplementedOnTarget, expect
from contract_tests.target import Exchange, Target

PROMPT = "Reply with the single word: pong."
CHAT = "POST /chat/completions"
RESPONSES = "POST /responses"
MESSAGES = "POST /messages"
ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}
# The function tool and the json_schema reply format the checks ask for (what they are validated against).
PROBES = json.loads((Path(__file__).resolve().parents[1] / "data" / "probe-schemas.json").read_text())
TOOL = PROBES["tool"]
REPLY = PROBES["reply"]


class HttpCalls:
    def __init__(self, target: Target, *, max_tokens: int = 16):
        self._target = target
        self.max_tokens = max_tokens
        self._cache: dict[object, Any] = {}
        self.last_response: httpx.Response | None = None  # the answer to the last request sent
        self.missing: dict[str, int] = {}  # documented operations the target lacks, with the status it answered

    # -- requests and their record -----------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, key: str | None = None, auth: bool = True,
                json: Any = None, headers: dict[str, str] | None = None, data: dict[str, str] | None = None,
                files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
        """One request with the run's key (or ``key``; none when ``auth`` is false)."""
        sent = dict(headers or {})
        if auth:
            sent.update(self._target.auth_headers(key))
        if files is not None:  # multipart/form-data, encoded before sending so the exchange can record it
            request = self._target.client.build_request(method, path, data=data, files=files, headers=sent)
            request.read()
            self.last_response = self._target.client.send(request)
        else:
            self.last_response = self._target.client.request(method, path, json=json, headers=sent)
        return self.last_response

    def mark(self) -> int:
        """A place in the run's exchanges: :meth:`exchanges_since` gives what came after it."""
        return len(self._target.exchanges)

    def exchanges_since(self, mark: int) -> list[Exchange]:
        """The exchanges (redacted) sent since ``mark``, oldest first."""
        return self._target.exchanges[mark:]

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

    @staticmethod
    def ok(response: httpx.Response, what: str, status: int = 200, *, resource: bool = False) -> Any:
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

    def implemented(self, response: httpx.Response, what: str) -> httpx.Response:
        """``response``, unless it says the operation ``what`` is not there (405, or a 404 about the path rather
        than the model): then the checks that depend on it are skipped, and the run says so once."""
        unknown_path = response.status_code == 404 and "model" not in response.text.lower()
        if response.status_code == 405 or unknown_path:
            self.missing.setdefault(what, response.status_code)
            raise NotImplementedOnTarget(what, response.status_code)
        return response

    def lacks(self, response: httpx.Response, operation: str) -> bool:
        """Whether ``response`` says the path of ``operation`` is unknown to the target (recorded for the run's
        notes): a 404 that names the unknown path, or a 405."""
        text = response.text.lower()
        if response.status_code == 405 or (response.status_code == 404
                                           and ("unknown_path" in text or "unknown path" in text)):
            self.missing.setdefault(operation, response.status_code)
            return True
        return False

    # -- inference: the model is the caller's choice (see Catalog) ---------------------------------------------------
    def chat_body(self, model: str, **extra: Any) -> dict[str, Any]:
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": self.max_tokens,
                "temperature": 0}
        body.update(extra)
        return body

    def chat(self, model: str, *, stream: bool = False, include_usage: bool = False, key: str | None = None,
             **extra: Any) -> httpx.Response:
        """A chat completion (made once a run per arguments when sent with the run's key)."""
        body = self.chat_body(model, **extra)
        if stream:
            body["stream"] = True
            if include_usage:
                body["stream_options"] = {"include_usage": True}

        def send() -> httpx.Response:
            return self.request("POST", "/chat/completions", json=body, key=key)

        if key is not None:
            return send()
        return self.once(("chat", model, stream, include_usage, json.dumps(extra, sort_keys=True)), send)

    def chat_json(self, model: str, **extra: Any) -> dict:
        return self.ok(self.chat(model, **extra), CHAT)

    def stream(self, model: str, *, include_usage: bool = True) -> httpx.Response:
        """A streamed chat completion answered 200 (its text is the whole stream, buffered)."""
        response = self.chat(model, stream=True, include_usage=include_usage)
        if response.status_code in (404, 405):
            self.ok(response, CHAT)
        if response.status_code != 200:
            raise CheckFailed(f"{CHAT} (stream): expected 200, received {response.status_code}: {response.text[:300]}")
        return response

    def embeddings(self, model: str, inputs: list[str], encoding_format: str = "float") -> dict:
        return self.ok(self.embeddings_response(model, inputs, encoding_format), "POST /embeddings")

    def embeddings_response(self, model: str, inputs: list[str], encoding_format: str = "float") -> httpx.Response:
        """An embeddings answer (made once a run per arguments)."""
        body = {"model": model, "input": inputs, "encoding_format": encoding_format}
        return self.once(("embeddings", model, tuple(inputs), encoding_format),
                         lambda: self.request("POST", "/embeddings", json=body))

    # -- the Responses and Messages APIs ------------------------------------------------------------------------------
    def responses(self, model: str, *, stream: bool = False, tools: bool = False) -> httpx.Response:
        """``POST /responses`` with the prompt (or the probe tool, required), made once a run per arguments."""
        body: dict[str, Any] = {"model": model, "input": PROMPT, "max_output_tokens": self.max_tokens, "temperature": 0}
        if tools:
            body.update(tools=[{"type": "function", "strict": True, **TOOL}], tool_choice="required")  # OpenAI: required
        if stream:
            body["stream"] = True
        return self.once(("responses", model, stream, tools), lambda: self.implemented(
            self.request("POST", "/responses", json=body), RESPONSES))

    def messages(self, model: str, *, stream: bool = False, tools: bool = False) -> httpx.Response:
        """``POST /messages`` (Anthropic's Messages API) with the prompt or the probe tool, made once a run."""
        body: dict[str, Any] = {"model": model, "max_tokens": self.max_tokens, "temperature": 0,
                                "messages": [{"role": "user", "content": PROMPT}]}
        if tools:
            body.update(tools=[{"name": TOOL["name"], "description": TOOL["description"],
                                "input_schema": TOOL["parameters"]}], tool_choice={"type": "any"})
        if stream:
            body["stream"] = True
        return self.once(("messages", model, stream, tools), lambda: self.implemented(
            self.request("POST", "/messages", json=body, headers=ANTHROPIC_VERSION), MESSAGES))

    def events(self, response: httpx.Response, what: str) -> list[tuple[str | None, dict]]:
        """The named events (``event:`` and JSON ``data:``) of a 200 stream answering ``what``; at least one."""
        found = sse.typed(self.answered(response, what, stream=True))
        expect(found, f"{what} (stream): received no event")
        return found

    def answered(self, response: httpx.Response, what: str, *, stream: bool = False) -> Any:
        """The JSON (or, ``stream``, the text) of a 200 answer to ``what``."""
        if not stream:
            return self.ok(response, what)
        if response.status_code != 200:
            raise CheckFailed(f"{what} (stream): expected 200, received {response.status_code}: {response.text[:300]}")
        return response.text
