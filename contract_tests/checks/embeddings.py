"""Embeddings: one vector per input, in order, all of one size, finite, and the base64 form decodes."""

from __future__ import annotations

import base64
import math
import struct

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, expect
from contract_tests.checks.values import number
from contract_tests.results import MUST

OP = "POST /embeddings"
SOURCE = "OpenAI API reference: Embeddings; spec/overlay.yml: CreateEmbeddingResponse"
INPUTS = ["red apple", "blue ocean", "green forest"]


def _vectors(ctx: CheckContext, encoding_format: str = "float") -> list[dict]:
    body = ctx.http.embeddings(ctx.catalog.embedding_model(), INPUTS, encoding_format)
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


def one_per_input(ctx: CheckContext) -> None:
    data = _vectors(ctx)
    expect(len(data) == len(INPUTS), f"received {len(data)} embeddings for {len(INPUTS)} inputs")


def index_order(ctx: CheckContext) -> None:
    indexes = [item.get("index") for item in _vectors(ctx)]
    expect(indexes == list(range(len(indexes))), f"embedding indexes: received {indexes}, documented 0..n-1 in order")


def equal_dimensions(ctx: CheckContext) -> None:
    sizes = [len(decode(item.get("embedding"))) for item in _vectors(ctx)]
    expect(sizes and len(set(sizes)) == 1 and sizes[0] > 0, f"embedding sizes: received {sizes}, documented one size")
    listed = (ctx.catalog.model(ctx.catalog.embedding_model()) or {}).get("dimensions")
    if number(listed):
        expect(sizes[0] == listed, f"embedding size: received {sizes[0]}, /models lists dimensions {listed}")


def finite_values(ctx: CheckContext) -> None:
    for item in _vectors(ctx):
        values = decode(item.get("embedding"))
        bad = [v for v in values if not (number(v) and math.isfinite(v))]
        expect(not bad, f"embedding {item.get('index')}: received non-finite values {bad[:3]}")


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


CHECKS = [
    Check("embeddings.one_per_input", one_per_input, OP, MUST, source=SOURCE,
          reason="Each input gets exactly one embedding."),
    Check("embeddings.index_order", index_order, OP, MUST, source=SOURCE,
          reason="data[i].index == i: clients pair vectors with inputs by index."),
    Check("embeddings.equal_dimensions", equal_dimensions, OP, MUST, source=SOURCE + ", Model.dimensions",
          reason="Every vector of one model has the same size, the model's listed dimensions when /models gives them."),
    Check("embeddings.finite_values", finite_values, OP, MUST, source=SOURCE,
          reason="Vectors hold finite numbers: NaN or infinity breaks every similarity."),
    Check("embeddings.base64_decodes", base64_decodes, OP, MUST,
          source="OpenAI API reference: Embeddings (encoding_format base64); "
                 "spec/overlay.yml: CreateEmbeddingResponse ('little-endian float32')",
          reason="The base64 form decodes to float32 values, the same vectors as the float form."),
]
