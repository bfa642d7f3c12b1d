"""The model catalog."""

from __future__ import annotations

from collections import Counter

from contract_tests.checks.catalog import kind
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import expect
from contract_tests.checks.values import number
from contract_tests.results import MUST, SHOULD

OP = "GET /models"


def unique_ids(ctx: CheckContext) -> None:
    ids = [m.get("id") for m in ctx.catalog.models()]
    expect(ids, "GET /models: received no model")
    twice = [i for i, n in Counter(ids).items() if n > 1]
    expect(not twice, f"GET /models: ids listed more than once: {twice[:5]}")
    expect(all(isinstance(i, str) and i for i in ids), "GET /models: a model without a string id")


def non_negative_prices(ctx: CheckContext) -> None:
    for model in ctx.catalog.models():
        for name in ("input_price", "output_price"):
            value = model.get(name)
            if value is not None:
                expect(number(value) and value >= 0, f"model {model.get('id')}: {name} {value!r}, documented >= 0")


def prices_listed(ctx: CheckContext) -> None:
    unpriced = [str(m.get("id")) for m in ctx.catalog.models() if kind(m) in ("chat", "embedding")
                and not (number(m.get("input_price")) and number(m.get("output_price")))]
    expect(not unpriced, f"GET /models: {len(unpriced)} chat or embedding model(s) without input_price and "
                         f"output_price, e.g. {unpriced[:3]}: their costs cannot be checked")


CHECKS = [
    Check("models.unique_ids", unique_ids, OP, MUST,
          source="spec/requesty-openapi.yml: ListModelsResponse, Model.id; OpenAI API reference: Models",
          reason="A model id names one model: clients route and price by it."),
    Check("models.non_negative_prices", non_negative_prices, OP, MUST, basis="overlay",
          source="spec/overlay.yml: Model input_price output_price ('Prices and context windows are never negative')",
          reason="A price is a non-negative USD amount per million tokens."),
    Check("models.prices_listed", prices_listed, OP, SHOULD,
          source="spec/requesty-openapi.yml: Model.input_price, Model.output_price ('price per million tokens in USD')",
          reason="Every chat and embedding model lists its prices: without them no cost can be checked."),
]
