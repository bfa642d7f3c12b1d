"""A stand-in inference handler that follows the accounting seam's contract: check, work, record."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from mockserver import handlers
from mockserver.call import Call
from mockserver.responses import JSONResponse


async def stand_in_embedding(call: Call) -> Response:
    call.state.before_inference(call.principal)
    tokens = len(call.body["input"])
    usage = {"prompt_tokens": tokens, "total_tokens": tokens, "cost": tokens / 10_000}
    call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=call.body["model"],
                            usage=usage, headers=call.headers)
    return JSONResponse({"object": "list", "model": call.body["model"], "usage": usage,
                         "data": [{"object": "embedding", "index": 0, "embedding": [0.0]}]})


def use_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer createEmbedding with the stand-in in apps built from now until the test ends."""
    monkeypatch.setitem(handlers._REGISTRY, "createEmbedding", stand_in_embedding)
