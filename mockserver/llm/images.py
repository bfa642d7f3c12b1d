"""Image generation and edits: PNGs of the requested size and count, billed per image.

The size is ``size`` (``WIDTHxHEIGHT``; it must be one the model draws, listed in the catalog),
else for an edit the first uploaded image's size, else the model's first size. Each image is a
real PNG whose colours are seeded by the prompt and its index. ``response_format`` ``b64_json``
puts the PNG in base64 in the answer; ``url`` (the default) gives a ``data:image/png;base64,...``
URL, which any client can decode without another request. An edit's mask must be a PNG of the
same size as the first image (400 otherwise). Cost: ``n`` x the model's ``image_price``. Usage is OpenAI's
shape (input tokens: the prompt's, plus 85 per input image as for chat) with ``images`` and ``cost`` added.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.accounts import money
from mockserver.errors import MockError
from mockserver.llm import tokens
from mockserver.llm.catalog import Catalog, ModelInfo
from mockserver.media.png import png
from mockserver.media.sniff import image_size

MAX_SIDE = 4096


@dataclass(frozen=True)
class Images:
    model: ModelInfo
    body: dict[str, Any]
    count: int
    cost_units: money.Units
    usage: dict[str, Any]


def _model(body: Mapping[str, Any], catalog: Catalog) -> ModelInfo:
    model_id = body.get("model")
    if not model_id:
        available = catalog.of_type("image")
        if not available:
            raise MockError(400, "No image model is in the catalog: send 'model'.", param="model")
        model_id = available[0].id
    return catalog.require(str(model_id), "image")


def _size(body: Mapping[str, Any], model: ModelInfo, default: tuple[int, int] | None) -> tuple[int, int]:
    size = body.get("size")
    if size in (None, "", "auto"):
        if default is not None:
            return default
        size = model.sizes[0] if model.sizes else "1024x1024"
    elif model.sizes and size not in model.sizes:
        raise MockError(400, f"Size '{size}' is not supported by {model.id}; choose one of {', '.join(model.sizes)}.",
                        param="size", code="invalid_size")
    width, height = (int(part) for part in str(size).split("x"))
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise MockError(400, f"Size '{size}' is out of range (1 to {MAX_SIDE} pixels a side).", param="size")
    return width, height


def _images(body: Mapping[str, Any], model: ModelInfo, size: tuple[int, int], created: int,
            input_images: int = 0) -> Images:
    prompt = body["prompt"]
    count = int(body.get("n") or 1)
    seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    as_url = (body.get("response_format") or "url") == "url"
    data = []
    for index in range(count):
        encoded = base64.b64encode(png(*size, seed=seed + index)).decode("ascii")
        data.append({"url": f"data:image/png;base64,{encoded}"} if as_url else {"b64_json": encoded})
    cost = count * model.units(model.image_price)
    text_tokens = tokens.count(prompt)
    image_tokens = input_images * tokens.IMAGE_TOKENS
    prompt_tokens = text_tokens + image_tokens
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens,
             "cost": money.to_usd(cost)}
    shown = {"input_tokens": prompt_tokens, "output_tokens": 0, "total_tokens": prompt_tokens,
             "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
             "images": count, "cost": money.to_usd(cost)}
    answer = {"created": created, "data": data, "usage": shown}
    return Images(model, answer, count, cost, usage)


def generate_images(body: Mapping[str, Any], catalog: Catalog, created: int) -> Images:
    model = _model(body, catalog)
    return _images(body, model, _size(body, model, None), created)


def _file(value: Any) -> tuple[str, bytes] | None:
    """(name, bytes) of an uploaded file, or of a JSON image reference holding a data URL; None for a file id or URL."""
    if hasattr(value, "data") and hasattr(value, "filename"):
        return value.filename, value.data
    url = value.get("image_url") if isinstance(value, Mapping) else None
    if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
        try:
            return "image_url", base64.b64decode(url.split(",", 1)[1], validate=True)
        except ValueError:
            raise MockError(400, "An image_url data URL is not valid base64.", param="image_url") from None
    return None


def edit_images(form: Mapping[str, Any], catalog: Catalog, created: int) -> Images:
    """An edit from multipart uploads (``image``, ``mask``) or from JSON references (``images``, ``mask``)."""
    model = _model(form, catalog)
    given = form.get("image", form.get("images"))
    if given is None:
        raise MockError(400, "Send the image to edit in 'image'.", param="image")
    sizes: list[tuple[int, int] | None] = []
    for item in given if isinstance(given, list) else [given]:
        found = _file(item)
        if found is None:
            sizes.append(None)  # a file id or remote URL: its size is not known here
            continue
        size = image_size(found[1])
        if size is None:
            raise MockError(400, f"The image '{found[0]}' could not be read: send a PNG, WebP or JPEG file.",
                            param="image", code="invalid_image")
        sizes.append(size)
    first = sizes[0] if sizes else None
    mask = _file(form["mask"]) if form.get("mask") is not None else None
    if mask is not None:
        mask_size = image_size(mask[1]) if mask[1].startswith(b"\x89PNG") else None
        if mask_size is None:
            raise MockError(400, f"The mask '{mask[0]}' must be a PNG file.", param="mask", code="invalid_mask")
        if first is not None and mask_size != first:
            raise MockError(400, f"The mask is {mask_size[0]}x{mask_size[1]} but the image is "
                                 f"{first[0]}x{first[1]}: they must be the same size.",
                            param="mask", code="invalid_mask")
    return _images(form, model, _size(form, model, first), created, input_images=len(sizes))
