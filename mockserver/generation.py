"""Deterministic, schema-valid values for mock answers.

Pure: a schema, a way to resolve ``$ref``, and a seeded ``random.Random`` in;
a value out. The same inputs always give the same value. Choice order for a
response body: the media type's ``examples`` (first, or the one asked for),
its ``example``, then a value generated from the schema, which prefers the
schema's own ``const``, ``example`` (when it fits the type), ``enum`` and
``default`` at each level.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.spec.model import MISSING, MediaType

Resolve = Callable[[Any], Any]
MAX_DEPTH = 8
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def seeded_rng(*parts: object, body: bytes = b"") -> random.Random:
    """A random generator seeded from the given parts, stable across runs and processes."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode() + b"\x1e" + body).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def pick_example(media: MediaType, rng: random.Random, resolve: Resolve, name: str | None = None,
                 *, dynamic: bool = False) -> Any:
    """The payload for a media type, in the order examples, example, generated (only generated when ``dynamic``)."""
    if dynamic and media.schema is not None:
        return generate(media.schema, resolve, rng)
    if media.examples:
        if name is not None and name in media.examples:
            return media.examples[name]
        return next(iter(media.examples.values()))
    if media.example is not MISSING:
        return media.example
    if media.schema is None:
        return None
    return generate(media.schema, resolve, rng)


def generate(schema: Any, resolve: Resolve, rng: random.Random, *, name: str = "", depth: int = 0) -> Any:
    schema = resolve(schema)
    if schema is True or schema is None or schema == {}:
        return f"{name or 'value'}-{rng.choice(_WORDS)}"
    if schema is False or not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if "allOf" in schema:
        return generate(_merge_all_of(schema, resolve), resolve, rng, name=name, depth=depth)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            options = [resolve(s) for s in schema[key]]
            chosen = next((s for s in options if _type_of(s) != "null"), options[0])
            base = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
            if base.get("type") or base.get("properties"):
                chosen = _merge_all_of({"allOf": [base, chosen]}, resolve)
            return generate(chosen, resolve, rng, name=name, depth=depth)
    kind = _type_of(schema)
    if "example" in schema and _fits(schema["example"], kind):
        return schema["example"]
    if "examples" in schema and isinstance(schema["examples"], list) and schema["examples"]:
        if _fits(schema["examples"][0], kind):
            return schema["examples"][0]
    if schema.get("enum"):
        options = [v for v in schema["enum"] if v is not None] or schema["enum"]
        return rng.choice(options)
    if "default" in schema and _fits(schema["default"], kind):
        return schema["default"]
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, resolve, rng, depth)
    if kind == "array":
        return _array(schema, resolve, rng, name, depth)
    if kind == "string":
        return _string(schema, rng, name)
    if kind == "integer":
        return _integer(schema, rng)
    if kind == "number":
        return _number(schema, rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return f"{name or 'value'}-{rng.choice(_WORDS)}"


def _type_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return non_null[0] if non_null else "null"
    return kind


def _fits(value: Any, kind: str | None) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return kind is None or checks.get(kind, lambda v: True)(value)


def _merge_all_of(schema: dict[str, Any], resolve: Resolve) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf", []):
        part = resolve(part)
        if not isinstance(part, dict):
            continue
        if "allOf" in part:
            part = _merge_all_of(part, resolve)
        for key, value in part.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            else:
                merged.setdefault(key, value)
    return merged


def _object(schema: dict[str, Any], resolve: Resolve, rng: random.Random, depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out = {}
    for key, sub in properties.items():
        if depth >= MAX_DEPTH and key not in required:
            continue
        if (resolve(sub) or {}).get("writeOnly"):
            continue
        out[key] = generate(sub, resolve, rng, name=key, depth=depth + 1)
    for key in required - out.keys():
        out[key] = f"{key}-{rng.choice(_WORDS)}"
    return out


def _array(schema: dict[str, Any], resolve: Resolve, rng: random.Random, name: str, depth: int) -> list[Any]:
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", max(low, 2)))
    if depth >= MAX_DEPTH:
        count = low
    else:
        count = max(low, min(high, rng.randint(1, 2)))
    items = schema.get("items", {})
    out: list[Any] = []
    attempts = 0
    while len(out) < count and attempts < count * 10 + 10:
        attempts += 1
        value = generate(items, resolve, rng, name=name.rstrip("s") or "item", depth=depth + 1)
        if schema.get("uniqueItems") and value in out:
            continue
        out.append(value)
    return out


def _string(schema: dict[str, Any], rng: random.Random, name: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        value = (_EPOCH + dt.timedelta(seconds=rng.randrange(0, 365 * 86400))).isoformat().replace("+00:00", "Z")
    elif fmt == "date":
        value = (_EPOCH + dt.timedelta(days=rng.randrange(0, 365))).date().isoformat()
    elif fmt == "time":
        value = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
    elif fmt == "email":
        value = f"{rng.choice(_WORDS)}@example.com"
    elif fmt in ("uri", "url", "uri-reference", "iri"):
        value = f"https://example.com/{rng.choice(_WORDS)}"
    elif fmt == "uuid":
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    elif fmt == "ipv4":
        value = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    elif fmt == "ipv6":
        value = "2001:db8::" + format(rng.randrange(1, 0xFFFF), "x")
    elif fmt == "hostname":
        value = f"{rng.choice(_WORDS)}.example.com"
    elif fmt == "byte" or schema.get("contentEncoding") == "base64":
        value = base64.b64encode(rng.randbytes(6)).decode()
    else:
        value = f"{name or 'string'}-{rng.choice(_WORDS)}-{rng.randrange(16**4):04x}"
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    if high is not None and len(value) > int(high):
        value = value[: int(high)]
    return value


def _bounds(schema: dict[str, Any], default_low: float, default_high: float) -> tuple[float, float, bool, bool]:
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    open_low = open_high = False
    if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool):
        low, open_low = ex_low, True
    if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool):
        high, open_high = ex_high, True
    if low is None:
        low = default_low if high is None or high > default_low else high - 100
    if high is None:
        high = max(low + default_high, default_high)
    return float(low), float(high), open_low, open_high


def _integer(schema: dict[str, Any], rng: random.Random) -> int:
    low, high, open_low, open_high = _bounds(schema, 0, 100)
    lo = int(low) + 1 if open_low and low == int(low) else int(-(-low // 1))
    hi = int(high) - 1 if open_high and high == int(high) else int(high // 1)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int) and multiple > 0:
        first = -(-lo // multiple) * multiple
        if first <= hi:
            return first + multiple * rng.randrange(0, (hi - first) // multiple + 1)
    return rng.randint(lo, hi) if lo <= hi else lo


def _number(schema: dict[str, Any], rng: random.Random) -> float:
    low, high, open_low, open_high = _bounds(schema, 0, 100)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, (int, float)) and multiple > 0:
        steps = int((high - low) // multiple)
        return round(low + multiple * rng.randint(1 if open_low else 0, max(0, steps - (1 if open_high else 0))), 10)
    value = round(rng.uniform(low, high), 4)
    if (open_low and value <= low) or (open_high and value >= high):
        value = (low + high) / 2
    return value
