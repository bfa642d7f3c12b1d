"""The mock's CORS answers as Starlette's CORSMiddleware does with the same settings.

The edge applies :class:`~mockserver.cors.CORS` to the request's exchange; here the same calls, in the
same order, are put around a plain app, so that its answers can be set (a ``Vary`` of their own) and
compared with CORSMiddleware's around the same app.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.app import EXPOSED_HEADERS
from mockserver.cors import CORS, with_vary
from mockserver.request_headers import headers_of


async def _hello(request):
    vary = {"Vary": "Accept"} if request.query_params.get("vary") else None
    return PlainTextResponse("hello", headers=vary)


def _inner() -> Starlette:
    return Starlette(routes=[Route("/x", _hello, methods=["GET", "POST", "OPTIONS"])])


def _with_cors(app, cors: CORS):
    """What the edge does with CORS (mockserver/edge.py and Exchange.send), around ``app``."""
    async def wrapped(scope, receive, send):
        headers = headers_of(scope)[0]
        if cors.is_preflight(scope["method"], headers):
            await cors.preflight(headers, send)
            return
        added = cors.added(headers)

        async def sending(message):
            if message["type"] == "http.response.start":
                message["headers"] = with_vary(message.get("headers", ()), added)
            await send(message)

        await app(scope, receive, sending)

    return wrapped


def _clients(origins: tuple[str, ...]) -> tuple[TestClient, TestClient]:
    ours = TestClient(_with_cors(_inner(), CORS(allow_origins=origins, expose_headers=EXPOSED_HEADERS)))
    theirs = TestClient(CORSMiddleware(_inner(), allow_origins=list(origins), allow_methods=["*"], allow_headers=["*"],
                                       expose_headers=EXPOSED_HEADERS))
    return ours, theirs


PREFLIGHT = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
CASES = [
    ("GET", "/x", {}),
    ("GET", "/x", {"Origin": "http://localhost:3000"}),
    ("GET", "/x?vary=1", {"Origin": "http://localhost:3000"}),
    ("GET", "/x?vary=1", {}),
    ("POST", "/x", {"Origin": "http://elsewhere.example"}),
    ("OPTIONS", "/x", PREFLIGHT),
    ("OPTIONS", "/x", {**PREFLIGHT, "Access-Control-Request-Headers": "authorization, content-type"}),
    ("OPTIONS", "/x", {**PREFLIGHT, "Access-Control-Request-Method": "BREW"}),
    ("OPTIONS", "/x", {**PREFLIGHT, "Access-Control-Request-Private-Network": "true"}),
    ("OPTIONS", "/x", {**PREFLIGHT, "Origin": "http://elsewhere.example"}),
    ("OPTIONS", "/x", {"Origin": "http://localhost:3000"}),  # no requested method: not a preflight
    ("OPTIONS", "/x", {"Access-Control-Request-Method": "POST"}),  # no origin: not a preflight
]


@pytest.mark.parametrize("origins", [("*",), ("http://localhost:3000",)])
@pytest.mark.parametrize(("method", "path", "headers"), CASES)
def test_same_answer_as_starlette(origins, method, path, headers):
    ours, theirs = _clients(origins)
    mine, reference = ours.request(method, path, headers=headers), theirs.request(method, path, headers=headers)
    assert (mine.status_code, mine.text) == (reference.status_code, reference.text)
    assert sorted(mine.headers.multi_items()) == sorted(reference.headers.multi_items())  # order across names is free
