"""openapi-core as an independent oracle: a different implementation judges the mock's answers.

openapi-core has no reader for ``text/event-stream`` or binary bodies, so two are given to it
here: a binary body is read as a (latin-1) string, which is what ``type: string, format: binary``
describes; an event stream is split into its events and each event's data is judged against the
documented schema on its own (the schema describes one event). The spec's own defects are not
the oracle's business: its spec validation is off, so imperfect specs can be judged too.
"""

from __future__ import annotations

import json

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from mockserver.spec import LoadedSpec

HOST = "https://router.requesty.ai"
BINARY = ("application/octet-stream", "audio/", "image/", "video/", "application/zip", "application/pdf")


def _latin1(data: bytes) -> str:
    return data.decode("latin-1")


_CACHE: dict[int, tuple[LoadedSpec, OpenAPI]] = {}


def _openapi(spec: LoadedSpec) -> OpenAPI:
    cached = _CACHE.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    document = _without_implicit_discriminators(spec.document)
    document["servers"] = [{"url": f"{HOST}{spec.base_path}"}]
    readers = {kind: _text for kind in _text_types(spec)}
    readers.update({kind: _latin1 for kind in _binary_types(spec)})
    readers["text/event-stream"] = _event_data  # fed one event at a time
    openapi = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None, extra_media_type_deserializers=readers))
    _CACHE[id(spec)] = (spec, openapi)
    return openapi


def _without_implicit_discriminators(node: object) -> object:
    """A copy without ``discriminator`` objects that have no ``mapping``.

    openapi-core resolves such a discriminator's value as a schema name (OAS's implicit mapping); OpenAI's
    spec uses values such as ``function`` that name no schema, and every such value is then refused.
    Without the hint, ``oneOf``/``anyOf`` decide, as they do in the mock.
    """
    if isinstance(node, dict):
        return {k: _without_implicit_discriminators(v) for k, v in node.items()
                if not (k == "discriminator" and isinstance(v, dict) and "mapping" not in v)}
    if isinstance(node, list):
        return [_without_implicit_discriminators(v) for v in node]
    return node


def _text(data: bytes) -> str:
    return data.decode("utf-8")


def _text_types(spec: LoadedSpec) -> set[str]:
    """Response media types that are neither JSON nor binary (``application/sdp``, ``text/plain``): read as text."""
    return {name for op in spec.operations for response in op.responses.values() for name in response.content
            if "json" not in name and not name.startswith(BINARY) and name != "text/event-stream"}


def _binary_types(spec: LoadedSpec) -> set[str]:
    kinds = {"application/octet-stream", "image/png", "audio/mpeg", "audio/wav"}
    for op in spec.operations:
        for response in op.responses.values():
            kinds.update(name for name in response.content if name.startswith(BINARY))
    return kinds


def _event_data(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode()


def sse_events(text: str) -> list[str]:
    """The data of each event of an SSE body (multi-line data joined with newlines)."""
    events, data = [], []
    for line in text.split("\n"):
        if line == "":
            if data:
                events.append("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        events.append("\n".join(data))
    return events


def assert_valid_response(spec: LoadedSpec, method: str, path: str, response: httpx.Response) -> None:
    """Raise if openapi-core finds ``response`` invalid for ``method path`` of ``spec``."""
    openapi = _openapi(spec)
    request = MockRequest(HOST, method.lower(), spec.base_path + path)
    content_type = response.headers.get("content-type", "").split(";")[0] or None
    if content_type == "text/event-stream":
        events = sse_events(response.text)
        assert events, "an event stream without events"
        for data in events:
            if data == "[DONE]":
                continue  # OpenAI's stream terminator, documented in prose, not an event of the schema
            openapi.validate_response(request, MockResponse(data.encode(), status_code=response.status_code,
                                                            content_type=content_type, headers=dict(response.headers)))
        return
    openapi.validate_response(
        request,
        MockResponse(response.content, status_code=response.status_code, content_type=content_type,
                     headers=dict(response.headers)),
    )
