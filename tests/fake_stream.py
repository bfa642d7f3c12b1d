"""A tiny chat stream for the stream-fault tests: ``testChatStream`` answers OpenAI chunks then ``[DONE]``.

The request's ``X-Test-Chunks`` (default 5) sets how many content chunks, and
``X-Test-Pace-Ms`` (default 0) the pause before each one.
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.responses import StreamingResponse

from mockserver.call import Call
from mockserver.handlers import handles

WORDS = ("Hello", " from", " the", " fake", " stream", ".")


def chunk(index: int, content: str | None, finish: str | None = None) -> bytes:
    delta = {"role": "assistant", "content": content} if index == 0 else {"content": content}
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1, "model": "test/model",
            "choices": [{"index": 0, "delta": delta if finish is None else {}, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(body) + b"\n\n"


@handles("testChatStream")
async def stream(call: Call):
    count = int(call.headers.get("x-test-chunks", "5"))
    pace = float(call.headers.get("x-test-pace-ms", "0")) / 1000

    async def events():
        for i in range(count):
            if pace:
                await asyncio.sleep(pace)
            yield chunk(i, WORDS[i % len(WORDS)])
        yield chunk(count, None, "stop")
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
