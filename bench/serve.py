"""Serve one benchmark target under explicit uvicorn settings, in its own process.

``python -m bench.serve bare|mock --port N [--http h11|httptools] [--loop asyncio|uvloop]``

* ``bare``: the ceiling of a Python server here: Starlette + uvicorn answering fixed
  bytes. It reads the request body (as the mock must), answers a JSON chat body, and
  for ``"stream": true`` a stream of ``max_tokens`` fixed SSE chunks, paced by the same
  ``X-Mock-TTFT-Ms`` / ``X-Mock-Tokens-Per-S`` headers the mock honours.
* ``mock``: the mock exactly as ``mockserver serve`` builds it, with the settings given.
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver.server import bind, serve

MODELS = orjson.dumps({"object": "list", "data": [{"id": "openai/gpt-4o-mini", "object": "model", "created": 0,
                                                   "owned_by": "openai"}]})
COMPLETION = orjson.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the ceiling."},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
})
CHUNK = b"data: " + orjson.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}],
}) + b"\n\n"
DONE = b"data: [DONE]\n\n"


async def _models(request: Request) -> Response:
    return Response(MODELS, media_type="application/json")


async def _chat(request: Request) -> Response:
    body = await request.body()
    if b'"stream":true' not in body.replace(b" ", b""):
        return Response(COMPLETION, media_type="application/json")
    tokens = int(orjson.loads(body).get("max_tokens") or 16)
    ttft = float(request.headers.get("x-mock-ttft-ms", 0)) / 1000
    per_token = 1 / float(request.headers["x-mock-tokens-per-s"]) if "x-mock-tokens-per-s" in request.headers else 0

    async def events():
        # Each chunk is due at an absolute time (TTFT + index / rate), so the event loop's
        # lateness on one chunk is not added to every later one.
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(tokens):
            delay = start + ttft + index * per_token - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield CHUNK
        yield DONE

    return StreamingResponse(events(), media_type="text/event-stream")


def bare_app() -> Starlette:
    return Starlette(routes=[Route("/v1/models", _models), Route("/v1/chat/completions", _chat, methods=["POST"])])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=["bare", "mock"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    args = parser.parse_args(argv)
    if args.kind == "mock":
        from mockserver.config import MockConfig

        serve(MockConfig(), "127.0.0.1", args.port, http=args.http, loop=args.loop)
        return
    import uvicorn

    sock = bind("127.0.0.1", args.port)
    print(f"  base URL:  http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    config = uvicorn.Config(bare_app(), http=args.http, loop=args.loop, log_level="warning", access_log=False,
                            lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
