"""One exchange as the checks' judges read it, whoever made it: an active check, a recording, the audit proxy.

A :class:`Seen` is a request and its answer, already redacted, with the spec
operation it reached and, when the one who saw it knew the credential, a
fingerprint of that credential (never the credential). The active checks build
one from the ``httpx.Response`` they got (:func:`from_response`); the audit
builds one from each recorded exchange (:func:`from_recorded`) or from each
exchange that passes through the proxy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from contract_tests import sse
from contract_tests.curl import curl_line
from contract_tests.redact import MASK, Redactor
from mockserver.routing import Dispatcher
from mockserver.spec import LoadedSpec, Operation


@dataclass(frozen=True)
class Seen:
    method: str
    url: str  # the full URL as sent (redacted), for curl lines
    path: str  # the path as sent, base path included
    request_headers: dict[str, str]  # lower-case names, redacted
    request_body: str
    status: int | None  # None: no answer came
    response_headers: dict[str, str]  # lower-case names
    response_body: str
    source: str = ""  # where it was read: "file:line", "file#entries[i]", "proxy #n", or "" for an active check
    credential: str | None = None  # a fingerprint of the bearer token, when known (the live proxy)
    has_credential: bool = True  # the request carried an Authorization header at all
    created_credential: str | None = None  # a key creation's answer: its secret's fingerprint, when known
    operation: Operation | None = field(default=None, compare=False)
    curl: str = ""

    # -- what the judges read --------------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The operation as the matrix files it: ``POST /chat/completions`` (the raw path when not a spec path)."""
        return f"{self.operation.method} {self.operation.path}" if self.operation else f"{self.method} {self.path}"

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    @property
    def is_stream(self) -> bool:
        return "text/event-stream" in self.content_type

    @cached_property
    def request_json(self) -> Any:
        return _json(self.request_body)

    @cached_property
    def response_json(self) -> Any:
        return _json(self.response_body)

    @cached_property
    def chunks(self) -> list[dict]:
        return sse.chunks(self.response_body)

    def asked(self, name: str, default: Any = None) -> Any:
        """A field of the JSON request body."""
        body = self.request_json
        return body.get(name, default) if isinstance(body, dict) else default

    @property
    def asked_stream(self) -> bool:
        return self.asked("stream") is True

    @property
    def where(self) -> str:
        """How a finding names this exchange: its source, or its method and URL."""
        return self.source or f"{self.method} {self.url}"


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def fingerprint(token: str | None) -> str | None:
    """A stable, non-reversible name for a credential: judges tell keys apart by it, reports never see the key."""
    if not token or MASK in token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def bearer(headers: dict[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class Operations:
    """The spec operation a method and path reach (the base path optional)."""

    def __init__(self, spec: LoadedSpec):
        table: dict[str, dict[str, Operation]] = {}
        for op in spec.operations:
            table.setdefault(op.path, {})[op.method] = op
        self.base_path = spec.base_path
        self._dispatcher: Dispatcher[dict[str, Operation]] = Dispatcher(table)

    def find(self, method: str, path: str, query: str = "") -> Operation | None:
        """With ``query``, an operation the spec keys with that query (OpenAI's ``/responses/{id}?beta=true``)
        when it has the method, else the path's own."""
        method = method.upper()
        for candidate in (path.removeprefix(self.base_path) if self.base_path else path, path):
            if query:
                found = self._dispatcher.match(candidate or "/", query)
                if found is not None and method in found[0]:
                    return found[0][method]
            found = self._dispatcher.match(candidate or "/")
            if found is not None:
                return found[0].get(method)
        return None

    def documents(self, path: str) -> bool:
        """The path is one of the spec's (for any method)."""
        stripped = path.removeprefix(self.base_path) if self.base_path else path
        return self._dispatcher.match(stripped or "/") is not None


def make(method: str, url: str, request_headers: dict[str, str], request_body: bytes | str, status: int | None,
         response_headers: dict[str, str], response_body: bytes | str, redactor: Redactor, *, source: str = "",
         operations: Operations | None = None, know_credential: bool = False, path: str | None = None) -> Seen:
    """A :class:`Seen`, redacted by ``redactor``; the credential fingerprinted first when ``know_credential``."""
    headers = {k.lower(): v for k, v in request_headers.items()}
    token = bearer(headers)
    credential = fingerprint(token) if know_credential else None
    if know_credential:
        redactor.add(token)
    path = path if path is not None else httpx.URL(url).path
    body = _text(request_body)
    operation = operations.find(method, path) if operations else None
    created = None
    if know_credential and operation is not None and (operation.method, operation.path) == ("POST", "/api-keys"):
        answer = _json(_text(response_body))
        secret = answer.get("key") if isinstance(answer, dict) else None
        created = fingerprint(secret) if isinstance(secret, str) else None
        redactor.add(secret if isinstance(secret, str) else None)
    shown_url = redactor.text(url)
    shown_headers = redactor.headers(headers)
    return Seen(method=method.upper(), url=shown_url, path=path, request_headers=shown_headers,
                request_body=redactor.text(body), status=status,
                response_headers={k.lower(): v for k, v in redactor.headers(dict(response_headers)).items()},
                response_body=redactor.text(_text(response_body)), source=source, credential=credential,
                has_credential="authorization" in headers, created_credential=created, operation=operation,
                curl=curl_line(method.upper(), shown_url, shown_headers, body, redactor))


def from_response(response: httpx.Response, redactor: Redactor | None = None,
                  operations: Operations | None = None) -> Seen:
    """The exchange an active check made (the answer read whole), credential fingerprinted: the check sent it."""
    request = response.request
    return make(request.method, str(request.url), dict(request.headers), request.content, response.status_code,
                dict(response.headers), response.content, redactor or Redactor(), operations=operations,
                know_credential=True)


def from_recorded(exchange: Any, origin: str, redactor: Redactor, operations: Operations | None) -> Seen:
    """A recorded exchange (:class:`mockserver.recording.RecordedExchange`); its credentials were redacted on disk."""
    request, response = exchange.request, exchange.response
    query = f"?{request.query}" if request.query else ""
    url = origin.rstrip("/") + request.path + query
    headers: dict[str, str] = {}
    for name, value in request.headers:
        headers.setdefault(name, value)
    token = bearer(headers)
    if token and MASK not in token:  # a HAR from a browser holds the key in clear: masked everywhere from now on
        redactor.add(token)
    status = response.status if response is not None else None
    response_headers: dict[str, str] = {}
    for name, value in (response.headers if response is not None else ()):
        response_headers.setdefault(name, value)
    return make(request.method, url, headers, request.body, status, response_headers,
                response.body if response is not None else b"", redactor, source=exchange.source,
                operations=operations, path=request.path)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
