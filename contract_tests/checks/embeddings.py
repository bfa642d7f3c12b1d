"""Embeddings: one vector per input, in order, all of one size, finite, and the base64 form decodes."""

from __future__ import annotations

import base64
import math
import struct

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.judge import History, Judge, judge_all
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number
from contract_tests.results import MUST
from contract_tests.traffic import Seen

OP = "POST /embeddings"
SOURCE = "OpenAI API reference: Embeddings; spec/overlay.yml: CreateEmbeddingResponse"
INPUTS = ["red apple", "blue ocean", "green forest"]


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


def is_embedding(seen: Seen) -> bool:
    return seen.label == OP and seen.status == 200


def _decoded(seen: Seen) -> list[list[float]]:
    """The vectors of an answer; a base64 answer that does not decode is embeddings.base64_decodes' to judge."""
    data = _data(seen)
    if seen.asked("encoding_format") != "base64":
        return [decode(item.get("embedding")) for item in data]
    try:
        if not all(isinstance(item.get("embedding"), str) for item in data):
            raise CheckFailed("not base64 strings")
        return [decode(item["embedding"]) for item in data]
    except CheckFailed:
        raise CheckSkipped("the base64 form does not decode (embeddings.base64_decodes judges it)") from None


def asked_base64(seen: Seen) -> bool:
    return is_embedding(seen) and seen.asked("encoding_format") == "base64"


def _data(seen: Seen) -> list[dict]:
    body = seen.response_json
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise CheckFailed(f"POST /embeddings: expected a data list, received {seen.response_body[:200]}")
    return [d if isinstance(d, dict) else {} for d in data]


def _inputs(seen: Seen) -> int:
    """How many inputs the request sent: a string or a token array is one, a list of them is one each."""
    value = seen.asked("input")
    if isinstance(value, list) and value and all(isinstance(v, (str, list)) for v in value):
        return len(value)
    return 1


# -- judges ---------------------------------------------------------------------------------------------------------
def judge_one_per_input(seen: Seen, history: History) -> None:
    data, inputs = _data(seen), _inputs(seen)
    expect(len(data) == inputs, f"received {len(data)} embeddings for {inputs} inputs")


def judge_index_order(seen: Seen, history: History) -> None:
    indexes = [item.get("index") for item in _data(seen)]
    expect(indexes == list(range(len(indexes))), f"embedding indexes: received {indexes}, documented 0..n-1 in order")


def judge_equal_dimensions(seen: Seen, history: History) -> None:
    sizes = [len(vector) for vector in _decoded(seen)]
    expect(sizes and len(set(sizes)) == 1 and sizes[0] > 0, f"embedding sizes: received {sizes}, documented one size")
    listed = (history.model(seen.asked("model")) or {}).get("dimensions")
    if number(listed) and seen.asked("dimensions") is None:
        expect(sizes[0] == listed, f"embedding size: received {sizes[0]}, /models lists dimensions {listed}")


def judge_finite_values(seen: Seen, history: History) -> None:
    for item, values in zip(_data(seen), _decoded(seen), strict=True):
        bad = [v for v in values if not (number(v) and math.isfinite(v))]
        expect(not bad, f"embedding {item.get('index')}: received non-finite values {bad[:3]}")


def judge_base64_decodes(seen: Seen, history: History) -> None:
    for item in _data(seen):
        expect(isinstance(item.get("embedding"), str),
               f"encoding_format base64: received {type(item.get('embedding')).__name__}, documented a base64 string")
        decode(item["embedding"])


# -- the active checks -----------------------------------------------------------------------------------------------
def _vectors(ctx: CheckContext, encoding_format: str = "float") -> Seen:
    model = ctx.catalog.embedding_model()
    response = ctx.http.embeddings_response(model, INPUTS, encoding_format)
    ctx.http.ok(response, OP)
    return ctx.seen(response)


def one_per_input(ctx: CheckContext) -> None:
    judge_all(JUDGES["embeddings.one_per_input"], [_vectors(ctx)], History(catalog=ctx.catalog.models()))


def index_order(ctx: CheckContext) -> None:
    judge_all(JUDGES["embeddings.index_order"], [_vectors(ctx)], History(catalog=ctx.catalog.models()))


def equal_dimensions(ctx: CheckContext) -> None:
    judge_all(JUDGES["embeddings.equal_dimensions"], [_vectors(ctx)], History(catalog=ctx.catalog.models()))


def finite_values(ctx: CheckContext) -> None:
    judge_all(JUDGES["embeddings.finite_values"], [_vectors(ctx)], History(catalog=ctx.catalog.models()))


def base64_decodes(ctx: CheckContext) -> None:
    plain, encoded = _vectors(ctx), _vectors(ctx, "base64")
    judge_all(JUDGES["embeddings.base64_decodes"], [encoded])
    floats = [decode(item.get("embedding")) for item in _data(plain)]
    decoded = [decode(item.get("embedding")) for item in _data(encoded)]
    expect(len(decoded) == len(floats), f"base64 form: {len(decoded)} vectors, float form: {len(floats)}")
    if ctx.deterministic:
        for i, (a, b) in enumerate(zip(floats, decoded, strict=True)):
            expect(len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6) for x, y in zip(a, b, strict=True)),
                   f"embedding {i}: the base64 form decodes to other values than the float form")


JUDGES = {
    "embeddings.one_per_input": Judge(is_embedding, judge_one_per_input),
    "embeddings.index_order": Judge(is_embedding, judge_index_order),
    "embeddings.equal_dimensions": Judge(is_embedding, judge_equal_dimensions),
    "embeddings.finite_values": Judge(is_embedding, judge_finite_values),
    "embeddings.base64_decodes": Judge(asked_base64, judge_base64_decodes),
}

CHECKS = [
    Check("embeddings.one_per_input", one_per_input, OP, MUST, source=SOURCE,
          reason="Each input gets exactly one embedding.", judge=JUDGES["embeddings.one_per_input"]),
    Check("embeddings.index_order", index_order, OP, MUST, source=SOURCE,
          reason="data[i].index == i: clients pair vectors with inputs by index.",
          judge=JUDGES["embeddings.index_order"]),
    Check("embeddings.equal_dimensions", equal_dimensions, OP, MUST,
          source=SOURCE + ", Model.dimensions",
          reason="Every vector of one model has the same size, the model's listed dimensions when /models gives them.",
          judge=JUDGES["embeddings.equal_dimensions"]),
    Check("embeddings.finite_values", finite_values, OP, MUST, source=SOURCE,
          reason="Vectors hold finite numbers: NaN or infinity breaks every similarity.",
          judge=JUDGES["embeddings.finite_values"]),
    Check("embeddings.base64_decodes", base64_decodes, OP, MUST,
          source="OpenAI API reference: Embeddings (encoding_format base64); "
                 "spec/overlay.yml: CreateEmbeddingResponse ('little-endian float32')",
          reason="The base64 form decodes to float32 values, the same vectors as the float form.",
          judge=JUDGES["embeddings.base64_decodes"]),
]
