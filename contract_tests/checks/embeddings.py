"""Embeddings: one vector per input, in order, all of one size, finite, and the base64 form decodes."""

from __future__ import annotations

import base64
import math
import struct

from contract_tests.checks.context import CheckContext, number
from contract_tests.checks.registry import MUST, CheckFailed, check, expect

OP = "POST /embeddings"
SOURCE = "OpenAI embeddings API; overlay: CreateEmbeddingResponse"
INPUTS = ["red apple", "blue ocean", "green forest"]


def _vectors(ctx: CheckContext, encoding_format: str = "float") -> list[dict]:
    body = ctx.embeddings(INPUTS, encoding_format)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise CheckFailed(f"POST /embeddings: expected a data list, received {str(body)[:200]}")
    return data


def decode(value: object) -> list[float]:
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise CheckFailed(f"embedding: received {type(value).__name__}, documented a list or a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise CheckFailed(f"embedding: {value[:40]!r} is not base64") from None
    if len(raw) % 4:
        raise CheckFailed(f"embedding: {len(raw)} decoded bytes is not a whole number of float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


@check("embeddings.one_per_input", operation=OP, level=MUST, source=SOURCE,
       reason="Each input gets exactly one embedding.")
def one_per_input(ctx: CheckContext) -> None:
    data = _vectors(ctx)
    expect(len(data) == len(INPUTS), f"received {len(data)} embeddings for {len(INPUTS)} inputs")


@check("embeddings.index_order", operation=OP, level=MUST, source=SOURCE,
       reason="data[i].index == i: clients pair vectors with inputs by index.")
def index_order(ctx: CheckContext) -> None:
    indexes = [item.get("index") for item in _vectors(ctx)]
    expect(indexes == list(range(len(indexes))), f"embedding indexes: received {indexes}, documented 0..n-1 in order")


@check("embeddings.equal_dimensions", operation=OP, level=MUST,
       source=SOURCE + "; /models dimensions",
       reason="Every vector of one model has the same size, the model's listed dimensions when /models gives them.")
def equal_dimensions(ctx: CheckContext) -> None:
    sizes = [len(decode(item.get("embedding"))) for item in _vectors(ctx)]
    expect(sizes and len(set(sizes)) == 1 and sizes[0] > 0, f"embedding sizes: received {sizes}, documented one size")
    listed = (ctx.model(ctx.embedding_model()) or {}).get("dimensions")
    if number(listed):
        expect(sizes[0] == listed, f"embedding size: received {sizes[0]}, /models lists dimensions {listed}")


@check("embeddings.finite_values", operation=OP, level=MUST, source=SOURCE,
       reason="Vectors hold finite numbers: NaN or infinity breaks every similarity.")
def finite_values(ctx: CheckContext) -> None:
    for item in _vectors(ctx):
        values = decode(item.get("embedding"))
        bad = [v for v in values if not (number(v) and math.isfinite(v))]
        expect(not bad, f"embedding {item.get('index')}: received non-finite values {bad[:3]}")


@check("embeddings.base64_decodes", operation=OP, level=MUST,
       source="OpenAI embeddings API: encoding_format base64 (little-endian float32); the SDK's default",
       reason="The base64 form decodes to float32 values, the same vectors as the float form.")
def base64_decodes(ctx: CheckContext) -> None:
    floats = [decode(item.get("embedding")) for item in _vectors(ctx)]
    encoded = _vectors(ctx, "base64")
    for item in encoded:
        expect(isinstance(item.get("embedding"), str),
               f"encoding_format base64: received {type(item.get('embedding')).__name__}, documented a base64 string")
    decoded = [decode(item.get("embedding")) for item in encoded]
    expect(len(decoded) == len(floats), f"base64 form: {len(decoded)} vectors, float form: {len(floats)}")
    if ctx.deterministic:
        for i, (a, b) in enumerate(zip(floats, decoded, strict=True)):
            expect(len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6) for x, y in zip(a, b, strict=True)),
                   f"embedding {i}: the base64 form decodes to other values than the float form")
