"""Stream faults: an ASGI ``send`` wrapper for any ``text/event-stream`` response.

Events are counted by their blank-line separator (``\\n\\n``); the fault fires
after ``after`` events, or before ``data: [DONE]`` when the stream has fewer:

- ``disconnect``: the connection is dropped (the client sees an incomplete body);
- ``truncate``: the body ends cleanly, without the remaining events and ``[DONE]``;
- ``stall``: nothing is sent for ``seconds``, then the stream goes on;
- ``malformed``: one event whose data is not valid JSON is sent, then the stream goes on;
- ``error``: an ``{"error": {...}}`` event ends the stream (an error after the 200 status), with
  ``origin: router`` and status-like code ``stream_error``: Requesty's "problem with the provider stream".

Responses of any other media type pass through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from mockserver.errors import error_body
from mockserver.faults.scenario import StreamFault

Send = Callable[[dict[str, Any]], Awaitable[None]]
SEPARATOR = b"\n\n"
MALFORMED_EVENT = b'data: {"id": "chatcmpl-malformed", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "\n\n'
ERROR_EVENT = b"data: " + orjson.dumps(error_body(
    502, "The upstream provider failed in the middle of the stream (injected fault).", code="stream_error",
    type="server_error", origin="router")) + SEPARATOR


class StreamAborted(Exception):
    """Raised out of ``send`` to stop the app at once when the connection is to be dropped."""


def is_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"text/event-stream"
    return False


def _is_done(event: bytes) -> bool:
    return event.lstrip().replace(b"data: ", b"data:", 1).startswith(b"data:[DONE]")


class FaultySend:
    """Wraps ``send``; call :attr:`fired` afterwards to know whether the fault happened."""

    def __init__(self, send: Send, fault: StreamFault, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.send = send
        self.fault = fault
        self.sleep = sleep
        self.streaming = False
        self.fired = False
        self.ended = False
        self.count = 0
        self.buffer = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if self.ended:
            return
        kind = message["type"]
        if kind == "http.response.start":
            self.streaming = is_event_stream(message.get("headers", []))
            await self.send(message)
            return
        if kind != "http.response.body" or not self.streaming or self.fired:
            await self.send(message)
            return
        self.buffer += message.get("body", b"")
        more = message.get("more_body", False)
        ready = []
        while (end := self.buffer.find(SEPARATOR)) >= 0:
            event, rest = self.buffer[: end + 2], self.buffer[end + 2:]
            if self.count >= self.fault.after or _is_done(event):
                break
            ready.append(event)
            self.count += 1
            self.buffer = rest
        else:
            if more:  # everything complete went out; wait for the rest of the next event
                if ready:
                    await self.send({"type": "http.response.body", "body": b"".join(ready), "more_body": True})
                return
        if ready:
            await self.send({"type": "http.response.body", "body": b"".join(ready), "more_body": True})
        await self._fire(more)

    async def _fire(self, more: bool) -> None:
        """The fault, then (for the faults that let it go on) the rest of what the app has sent."""
        self.fired = True
        fault, rest = self.fault.fault, self.buffer
        self.buffer = b""
        if fault == "disconnect":
            self.ended = True
            raise StreamAborted
        if fault in ("truncate", "error"):
            self.ended = True
            body = ERROR_EVENT if fault == "error" else b""
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if fault == "stall":
            await self.sleep(self.fault.seconds)
        else:
            rest = MALFORMED_EVENT + rest
        await self.send({"type": "http.response.body", "body": rest, "more_body": more})
