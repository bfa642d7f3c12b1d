"""The model catalog."""

from __future__ import annotations

from collections import Counter

from contract_tests.checks.context import CheckContext, number
from contract_tests.checks.registry import MUST, check, expect

OP = "GET /models"


@check("models.unique_ids", operation=OP, level=MUST, source="upstream spec ListModelsResponse; OpenAI models API",
       reason="A model id names one model: clients route and price by it.")
def unique_ids(ctx: CheckContext) -> None:
    ids = [m.get("id") for m in ctx.models()]
    expect(ids, "GET /models: received no model")
    twice = [i for i, n in Counter(ids).items() if n > 1]
    expect(not twice, f"GET /models: ids listed more than once: {twice[:5]}")
    expect(all(isinstance(i, str) and i for i in ids), "GET /models: a model without a string id")


@check("models.non_negative_prices", operation=OP, level=MUST, basis="overlay",
       source="overlay: Model prices minimum 0 (upstream documents the prices without a bound)",
       reason="A price is a non-negative USD amount per million tokens.")
def non_negative_prices(ctx: CheckContext) -> None:
    for model in ctx.models():
        for name in ("input_price", "output_price"):
            value = model.get(name)
            if value is not None:
                expect(number(value) and value >= 0, f"model {model.get('id')}: {name} {value!r}, documented >= 0")
