"""Stream faults: an ASGI ``send`` wrapper for any ``text/event-stream`` response, in the stream's own grammar.

Events are counted by their blank-line separator (``\\n\\n``); the fault fires
after ``after`` events, or before the stream's last event when it has fewer
(``data: [DONE]`` of a chat stream, ``response.completed`` / ``response.incomplete``
of a Responses stream, ``message_stop`` of a Messages stream):

- ``disconnect``: the connection is dropped (the client sees an incomplete body);
- ``truncate``: the body ends cleanly, without the remaining events;
- ``stall``: nothing is sent for ``seconds``, then the stream goes on;
- ``malformed``: one event whose data is not valid JSON is sent, then the stream goes on;
- ``error``: an error event ends the stream (an error after the 200 status): ``{"error": {...}}`` in a
  chat stream (with ``origin: router`` and code ``stream_error``: Requesty's "problem with the provider
  stream"), ``response.failed`` (the response with ``status: failed`` and its ``error``, the next
  ``sequence_number``) in a Responses stream, Anthropic's ``event: error`` in a Messages stream.

The grammar is recognised from the stream's first event. Responses of any other media type pass through untouched.
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
ERROR_MESSAGE = "The upstream provider failed in the middle of the stream (injected fault)."
MALFORMED_EVENT = b'data: {"id": "chatcmpl-malformed", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "\n\n'
ERROR_EVENT = b"data: " + orjson.dumps(error_body(
    502, ERROR_MESSAGE, code="stream_error", type="server_error", origin="router")) + SEPARATOR


class ChatGrammar:
    """OpenAI's chat chunks (and any other ``data:``-only stream)."""

    malformed = MALFORMED_EVENT

    def observe(self, event: bytes) -> None:
        pass

    def is_last(self, event: bytes) -> bool:
        return event.lstrip().replace(b"data: ", b"data:", 1).startswith(b"data:[DONE]")

    def error(self) -> bytes:
        return ERROR_EVENT


class MessagesGrammar:
    """Anthropic's Messages stream: named events; an ``error`` event ends it."""

    malformed = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "te\n\n'
    ERROR = b"event: error\ndata: " + orjson.dumps(
        {"type": "error", "error": {"type": "api_error", "message": ERROR_MESSAGE}}) + SEPARATOR

    def observe(self, event: bytes) -> None:
        pass

    def is_last(self, event: bytes) -> bool:
        return event.startswith(b"event: message_stop")

    def error(self) -> bytes:
        return self.ERROR


class ResponsesGrammar:
    """OpenAI's Responses stream: typed ``response.*`` events with a ``sequence_number``; it fails with
    ``response.failed``, which carries the response (as ``response.created`` showed it) with its error."""

    malformed = b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "delta": "\n\n'

    def __init__(self) -> None:
        self.response: dict[str, Any] = {}
        self.sequence = -1

    def observe(self, event: bytes) -> None:
        data = _data(event)
        if isinstance(data, dict):
            if isinstance(data.get("sequence_number"), int):
                self.sequence = data["sequence_number"]
            if data.get("type") == "response.created" and isinstance(data.get("response"), dict):
                self.response = data["response"]

    def is_last(self, event: bytes) -> bool:
        return event.startswith((b"event: response.completed", b"event: response.incomplete"))

    def error(self) -> bytes:
        response = {**self.response, "status": "failed", "usage": None,
                    "error": {"code": "server_error", "message": ERROR_MESSAGE}}
        payload = {"type": "response.failed", "sequence_number": self.sequence + 1, "response": response}
        return b"event: response.failed\ndata: " + orjson.dumps(payload) + SEPARATOR


def grammar_of(first_event: bytes) -> ChatGrammar | MessagesGrammar | ResponsesGrammar:
    if first_event.startswith(b"event: response."):
        return ResponsesGrammar()
    if first_event.startswith(b"event: message_start"):
        return MessagesGrammar()
    return ChatGrammar()


def _data(event: bytes) -> Any:
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            try:
                return orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return None
    return None


class StreamAborted(Exception):
    """Raised out of ``send`` to stop the app at once when the connection is to be dropped."""


def is_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"text/event-stream"
    return False


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
        self.grammar: ChatGrammar | MessagesGrammar | ResponsesGrammar | None = None

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
            if self.grammar is None:
                self.grammar = grammar_of(event)
            if self.count >= self.fault.after or self.grammar.is_last(event):
                break
            self.grammar.observe(event)
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
        grammar = self.grammar or ChatGrammar()
        self.buffer = b""
        if fault == "disconnect":
            self.ended = True
            raise StreamAborted
        if fault in ("truncate", "error"):
            self.ended = True
            body = grammar.error() if fault == "error" else b""
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if fault == "stall":
            await self.sleep(self.fault.seconds)
        else:
            rest = grammar.malformed + rest
        await self.send({"type": "http.response.body", "body": rest, "more_body": more})
