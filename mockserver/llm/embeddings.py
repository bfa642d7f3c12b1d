"""Embeddings, computed: one deterministic unit vector per input, in input order. No I/O.

A vector depends only on the model and the text: a ``random.Random`` seeded
from their SHA-256 draws Gaussian components, which are normalised to length
1. With ``dimensions`` below the model's size the vector is cut and
normalised again, as OpenAI shortens embeddings. Values are float32 (what
the ``base64`` form carries), so both encodings give the same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Mapping
from typing import Any

from mockserver.errors import MockError
from mockserver.llm import tokens
from mockserver.llm.catalog import Catalog, ModelInfo

MAX_INPUTS = 2048  # OpenAI's limit on inputs per embeddings request


def vector(model_id: str, text: str, size: int, dimensions: int | None = None) -> list[float]:
    rng = random.Random(hashlib.sha256(f"{model_id}\x00{text}".encode()).digest())
    values = [rng.gauss(0.0, 1.0) for _ in range(size)][: dimensions or size]
    norm = math.sqrt(math.fsum(v * v for v in values))
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *(v / norm for v in values))))


def encode_base64(values: list[float]) -> str:
    """OpenAI's base64 form: little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def embed(request: Mapping[str, Any], catalog: Catalog) -> tuple[ModelInfo, dict[str, Any]]:
    """The model and the ``CreateEmbeddingResponse`` body for a (schema-valid) request."""
    model = catalog.require(request["model"], "embedding")
    size = model.dimensions or 1
    raw = request["input"]
    inputs = [raw] if isinstance(raw, str) else list(raw)
    if len(inputs) > MAX_INPUTS:
        raise MockError(400, f"input has {len(inputs)} items; at most {MAX_INPUTS} can be embedded in one request.",
                        code="invalid_value", param="input")
    dimensions = None if request.get("dimensions") is None else int(request["dimensions"])  # 8.0 is an integer too
    if dimensions is not None and dimensions > size:
        raise MockError(400, f"dimensions is {dimensions}, but {model.id} makes vectors of at most {size}.",
                        code="invalid_value", param="dimensions")
    counts = [tokens.count(text) for text in inputs]
    for index, count in enumerate(counts):
        if count > model.context_window:
            raise MockError(400, f"input[{index}] is {count} tokens, over the {model.context_window}-token limit of "
                                 f"{model.id}. Split the text into smaller pieces.",
                            code="context_length_exceeded", param="input")
    as_base64 = request.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(inputs):
        values = vector(model.id, text, size, dimensions)
        data.append({"object": "embedding", "index": index, "embedding": encode_base64(values) if as_base64 else values})
    prompt_tokens = sum(counts)
    usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens, "cost": model.cost(prompt_tokens)}
    return model, {"object": "list", "data": data, "model": model.id, "usage": usage}
