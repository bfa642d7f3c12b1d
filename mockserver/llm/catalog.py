"""The model catalog: routed model ids with their kind, prices, context windows and regions.

Read from a YAML data file (the bundled ``mockserver/data/models.yml`` or
``--models FILE``) and checked against ``catalog.schema.yml`` once, at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from mockserver.accounts import money
from mockserver.errors import MockError
from mockserver.spec.errors import SpecError
from mockserver.spec.loader import read_document
from mockserver.spec.schemas import json_path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_CATALOG = DATA_DIR / "models.yml"
CATALOG_SCHEMA = DATA_DIR / "catalog.schema.yml"
DEFAULT_MODEL = "openai/gpt-4o-mini"
MILLION = 1_000_000


class CatalogError(Exception):
    """The catalog file cannot be used; the message is one line naming the file and place."""


ENDPOINTS = {"chat": "/v1/chat/completions", "embedding": "/v1/embeddings", "speech": "/v1/audio/speech",
             "transcription": "/v1/audio/transcriptions", "image": "/v1/images/generations or /v1/images/edits"}
PRICES = ("input_price", "output_price", "cached_price", "caching_price", "character_price", "minute_price", "image_price")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    type: str  # chat | embedding | speech | transcription | image
    owned_by: str
    region: str  # us | eu | global
    context_window: int = 0  # tokens; 0 for models not priced by the token
    input_price: Decimal = Decimal(0)  # USD per million tokens
    output_price: Decimal = Decimal(0)
    created: int = 0
    max_output_tokens: int | None = None
    dimensions: int | None = None
    cached_price: Decimal | None = None  # cache reads, USD per million tokens (default: input_price)
    caching_price: Decimal | None = None  # cache writes (default: input_price)
    supports_caching: bool = False  # caches a prompt prefix when asked (requesty.auto_cache)
    auto_caching: bool = False  # caches every prompt prefix by itself
    supports_vision: bool = False
    regions: tuple[str, ...] = ()  # deployment regions, served as ``<id>@<region>``
    reasoning: bool = False  # reports completion_tokens_details.reasoning_tokens
    reasoning_content: bool = False  # and returns the reasoning text in ``reasoning_content``
    reasoning_by_default: bool = True  # reasons without a reasoning_effort (Claude thinks only when asked)
    character_price: Decimal | None = None  # speech: USD per million input characters
    minute_price: Decimal | None = None  # transcription: USD per minute of audio
    image_price: Decimal | None = None  # images: USD per image
    voices: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    # The prices in money units (10^-10 USD) per million tokens: integers, so a cost is integer arithmetic.
    input_units: int = field(init=False, repr=False, compare=False)
    output_units: int = field(init=False, repr=False, compare=False)
    cached_units: int = field(init=False, repr=False, compare=False)
    caching_units: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_units", money.from_usd(self.input_price))
        object.__setattr__(self, "output_units", money.from_usd(self.output_price))
        cached, caching = self.cached_price, self.caching_price
        object.__setattr__(self, "cached_units", self.input_units if cached is None else money.from_usd(cached))
        object.__setattr__(self, "caching_units", self.input_units if caching is None else money.from_usd(caching))

    def cost_units(self, prompt_tokens: int, completion_tokens: int = 0, *, cached_tokens: int = 0,
                   caching_tokens: int = 0) -> money.Units:
        """The cost of the tokens at this model's prices in money units (10^-10 USD), rounded half-even.

        Of the ``prompt_tokens``, ``cached_tokens`` (cache reads) cost ``cached_price`` and
        ``caching_tokens`` (cache writes) ``caching_price``; the rest cost ``input_price``.
        Exact for the catalog's prices (at most 4 decimals, so each token costs a whole number of units).
        """
        fresh = prompt_tokens - cached_tokens - caching_tokens
        return money.divide_half_even(fresh * self.input_units + cached_tokens * self.cached_units
                                      + caching_tokens * self.caching_units + completion_tokens * self.output_units,
                                      MILLION)

    def cost(self, prompt_tokens: int, completion_tokens: int = 0) -> float:
        """USD for the tokens at this model's prices, exact to 10 decimals (the JSON number for :meth:`cost_units`)."""
        return money.to_usd(self.cost_units(prompt_tokens, completion_tokens))

    def units(self, price: Decimal | None) -> money.Units:
        return money.from_usd(price or Decimal(0))

    def listing(self) -> dict[str, Any]:
        """The model as ``GET /models`` lists it (the overlaid ``Model`` schema)."""
        item: dict[str, Any] = {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "type": self.type,
            "region": self.region,
        }
        if self.type in ("chat", "embedding"):  # priced by the token
            item.update(context_window=self.context_window, input_price=float(self.input_price),
                        output_price=float(self.output_price))
        if self.max_output_tokens is not None:
            item["max_output_tokens"] = self.max_output_tokens
        if self.dimensions is not None:
            item["dimensions"] = self.dimensions
        if self.type == "chat":
            item["cached_price"] = money.to_usd(self.cached_units)
            item["caching_price"] = money.to_usd(self.caching_units)
            item["supports_caching"] = self.supports_caching
            item["supports_vision"] = self.supports_vision
            item["supports_reasoning"] = self.reasoning
        item["regions"] = list(self.regions)
        for name in ("character_price", "minute_price", "image_price"):
            value = getattr(self, name)
            if value is not None:
                item[name] = float(value)
        if self.voices:
            item["voices"] = list(self.voices)
        if self.sizes:
            item["sizes"] = list(self.sizes)
        return item


class Catalog:
    def __init__(self, models: list[ModelInfo]):
        self.models = tuple(models)
        self._by_id = {model.id: model for model in self.models}
        self._listing: dict[str, Any] | None = None

    def __contains__(self, model_id: str) -> bool:
        return model_id in self._by_id

    def get(self, model_id: str) -> ModelInfo | None:
        return self._by_id.get(model_id)

    def of_type(self, kind: str) -> list[ModelInfo]:
        return [model for model in self.models if model.type == kind]

    def cheapest(self, kind: str = "chat") -> ModelInfo:
        """The model of ``kind`` with the lowest input + output price (first in file order on ties)."""
        return min(self.of_type(kind), key=lambda m: m.input_price + m.output_price)

    def require(self, model_id: str, kind: str, param: str = "model") -> ModelInfo:
        """The model, or the error the router answers: 404 unknown, and 404 for the wrong endpoint, as OpenAI does."""
        model = self._by_id.get(model_id)
        if model is None:
            raise MockError(404, f"The model '{model_id}' does not exist or you do not have access to it. "
                                 "GET /v1/models lists the available models.", code="model_not_found", param=param)
        if model.type != kind:
            use = ENDPOINTS.get(model.type, "another endpoint")
            raise MockError(404, f"'{model_id}' is {_a(model.type)} model and is not supported on this endpoint; "
                                 f"call {use} with it, or pick {_a(kind)} model.", code="model_not_supported", param=param)
        return model

    def listing(self) -> dict[str, Any]:
        """``GET /models``'s answer: made once (the catalog does not change), read-only for callers."""
        if self._listing is None:
            self._listing = {"object": "list", "data": [model.listing() for model in self.models]}
        return self._listing


def parse_catalog(data: Any, source: str) -> Catalog:
    """Check ``data`` against the catalog schema and build the catalog, or raise :class:`CatalogError`."""
    error = next(iter(_schema().iter_errors(data)), None)
    if error is not None:
        raise CatalogError(f"{source}: {json_path(error.instance_path)}: {error.message}")
    models = []
    for entry in data["models"]:
        fields = dict(entry)
        for name in PRICES:
            if name in fields:
                fields[name] = Decimal(str(fields[name]))
        for name in ("voices", "sizes"):
            if name in fields:
                fields[name] = tuple(fields[name])
        fields["regions"] = tuple(fields.get("regions", ()))
        models.append(ModelInfo(**fields))
    ids = [model.id for model in models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{source}: model id listed twice: {duplicates[0]}")
    return Catalog(models)


def load_catalog(path: str | Path) -> Catalog:
    try:
        data = read_document(path)
    except SpecError as exc:  # unreadable file or invalid YAML: the same one line as for a spec file
        raise CatalogError(str(exc)) from None
    return parse_catalog(data, str(path))


@cache
def default_catalog() -> Catalog:
    return load_catalog(DEFAULT_CATALOG)


@cache
def _schema() -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(yaml.safe_load(CATALOG_SCHEMA.read_text(encoding="utf-8")))


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
