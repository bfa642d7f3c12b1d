"""The model catalog: judges of a ``GET /models`` answer, and the active checks that read it."""

from __future__ import annotations

from collections import Counter

from contract_tests.checks.catalog import kind
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.judge import History, Judge, judge_all, operation_is
from contract_tests.checks.outcomes import CheckFailed, expect
from contract_tests.checks.values import number
from contract_tests.results import MUST, SHOULD
from contract_tests.traffic import Seen

OP = "GET /models"


def _models(seen: Seen) -> list[dict]:
    body = seen.response_json
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise CheckFailed(f"GET /models: expected a data list, received {seen.response_body[:200]}")
    return [m for m in data if isinstance(m, dict)]


def judge_unique_ids(seen: Seen, history: History) -> None:
    ids = [m.get("id") for m in _models(seen)]
    expect(ids, "GET /models: received no model")
    twice = [i for i, n in Counter(ids).items() if n > 1]
    expect(not twice, f"GET /models: ids listed more than once: {twice[:5]}")
    expect(all(isinstance(i, str) and i for i in ids), "GET /models: a model without a string id")


def judge_non_negative_prices(seen: Seen, history: History) -> None:
    for model in _models(seen):
        for name in ("input_price", "output_price"):
            value = model.get(name)
            if value is not None:
                expect(number(value) and value >= 0, f"model {model.get('id')}: {name} {value!r}, documented >= 0")


def _judge_catalog(ctx: CheckContext, name: str) -> None:
    ctx.catalog.models()  # read once a run; its failure is every catalog check's failure
    judge_all(JUDGES[name], [ctx.seen(ctx.catalog.response())])


def unique_ids(ctx: CheckContext) -> None:
    _judge_catalog(ctx, "models.unique_ids")


def non_negative_prices(ctx: CheckContext) -> None:
    _judge_catalog(ctx, "models.non_negative_prices")


LISTED = operation_is("GET", "/models", 200)
JUDGES = {
    "models.unique_ids": Judge(LISTED, judge_unique_ids),
    "models.non_negative_prices": Judge(LISTED, judge_non_negative_prices),
}

def prices_listed(ctx: CheckContext) -> None:
    unpriced = [str(m.get("id")) for m in ctx.catalog.models() if kind(m) in ("chat", "embedding")
                and not (number(m.get("input_price")) and number(m.get("output_price")))]
    expect(not unpriced, f"GET /models: {len(unpriced)} chat or embedding model(s) without input_price and "
                         f"output_price, e.g. {unpriced[:3]}: their costs cannot be checked")


CHECKS = [
    Check("models.unique_ids", unique_ids, OP, MUST,
          source="spec/requesty-openapi.yml: ListModelsResponse, Model.id; OpenAI API reference: Models",
          reason="A model id names one model: clients route and price by it.", judge=JUDGES["models.unique_ids"]),
    Check("models.non_negative_prices", non_negative_prices, OP, MUST, basis="overlay",
          source="spec/overlay.yml: Model input_price output_price ('Prices and context windows are never negative')",
          reason="A price is a non-negative USD amount per million tokens.",
          judge=JUDGES["models.non_negative_prices"]),
    Check("models.prices_listed", prices_listed, OP, SHOULD,
          source="spec/requesty-openapi.yml: Model.input_price, Model.output_price ('price per million tokens in USD')",
          reason="Every chat and embedding model lists its prices: without them no cost can be checked.",
          not_judged="it reads the catalog it asks for itself; a recorded /models is judged by the checks above"),
]
