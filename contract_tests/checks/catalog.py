"""The checks' catalog part: the models ``/models`` lists, their prices, and the cheapest to chat or embed with."""

from __future__ import annotations

from contract_tests.checks.http_calls import HttpCalls
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped
from contract_tests.checks.values import number

DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"
UNPRICED = 1e9  # a model without prices sorts after every priced one


class Catalog:
    def __init__(self, http: HttpCalls):
        self._http = http

    def models(self) -> list[dict]:
        """``GET /models``' data, read once a run."""
        def load() -> list[dict]:
            body = self._http.ok(self.response(), "GET /models")
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise CheckFailed(f"GET /models: expected a data list, received {str(body)[:200]}")
            return [m for m in data if isinstance(m, dict)]

        return self._http.once("models", load)

    def response(self):
        """The one ``GET /models`` answer of a run, as received."""
        return self._http.once("models-response", lambda: self._http.request("GET", "/models"))

    def model(self, model_id: str) -> dict | None:
        return next((m for m in self.models() if m.get("id") == model_id), None)

    def chat_model(self) -> str:
        """The cheapest chat model (a default id when the catalog lists none)."""
        candidates = [m for m in self.models() if kind(m) == "chat"]
        return min(candidates, key=price)["id"] if candidates else DEFAULT_CHAT_MODEL

    def paid_chat_model(self) -> str:
        """The cheapest chat model that costs something (a free model cannot spend a limit)."""
        return self._cheapest(lambda m: kind(m) == "chat" and 0 < price(m) < UNPRICED, "no priced chat model")

    def embedding_model(self) -> str:
        return self._cheapest(lambda m: kind(m) == "embedding", "no model of type embedding")

    def _cheapest(self, wanted, missing: str) -> str:
        candidates = [m for m in self.models() if wanted(m)]
        if not candidates:
            raise CheckSkipped(f"GET /models lists {missing}")
        return min(candidates, key=price)["id"]


def kind(model: dict) -> str:
    """``type`` as the overlay documents it; a catalog without it (the live router's) is read by the id."""
    if "type" in model:
        return str(model["type"])
    return "embedding" if "embed" in str(model.get("id", "")).lower() else "chat"


def price(model: dict) -> float:
    """Input plus output price, for ordering; a model without both prices sorts last."""
    total = 0.0
    for name in ("input_price", "output_price"):
        value = model.get(name)
        total += float(value) if isinstance(value, (int, float)) else UNPRICED
    return total


PER_MILLION = 1_000_000


def expected_cost(model: dict, usage: dict) -> float | None:
    """The cost /models' prices give the usage's tokens (cache reads and writes at their prices), or None when the
    model lacks prices or the usage lacks counts."""
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached, caching = details.get("cached_tokens") or 0, details.get("caching_tokens") or 0
    input_price, output_price = model.get("input_price"), model.get("output_price")
    if not all(number(v) for v in (prompt, completion, cached, caching, input_price, output_price)):
        return None
    cached_price = model["cached_price"] if number(model.get("cached_price")) else input_price
    caching_price = model["caching_price"] if number(model.get("caching_price")) else input_price
    return ((prompt - cached - caching) * input_price + cached * cached_price + caching * caching_price
            + completion * output_price) / PER_MILLION
