"""The mock's JSONResponse builds its headers directly: they must be exactly what Starlette's would be."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse as StarletteJSONResponse

from mockserver.responses import JSONResponse


class Reference(StarletteJSONResponse):
    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


CASES = [
    ({"a": 1},),
    ({"a": [1, "é"]}, 201),
    ({"error": {"message": "x"}}, 400),
    ({"a": 1}, 200, {"X-Request-Id": "r1"}),
    ({"a": 1}, 200, None, "application/vnd.api+json"),
    (None, 204),
    ({"a": 1}, 101),
]


def sent(response) -> list[dict]:
    messages: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    asyncio.run(response(scope, receive, send))
    return messages


@pytest.mark.parametrize("args", CASES)
def test_same_status_headers_and_body_as_starlette(args):
    ours, theirs = JSONResponse(*args), Reference(*args)
    assert (ours.status_code, ours.raw_headers, ours.body) == (theirs.status_code, theirs.raw_headers, theirs.body)
    assert sent(ours) == sent(theirs)


def test_a_background_task_still_runs():
    ran = []
    sent(JSONResponse({"a": 1}, background=BackgroundTask(ran.append, True)))
    assert ran == [True]
