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
    """A value for a long-lived ``schema`` (one of the loaded spec's): its plan is cached, see :func:`plan`."""
    return plan(schema, resolve, name, depth)(rng)


Plan = Callable[[random.Random], Any]
Memo = dict[tuple[int, int, str, int], tuple[Any, Any, Plan]]
SPEC_PLANS = 100_000  # bound of the identity cache; the bundled spec fills 172 entries
_PLANS: Memo = {}


def plan(schema: Any, resolve: Resolve, name: str = "", depth: int = 0) -> Plan:
    """The generator of ``schema``: every decision that does not need ``rng`` taken once, then cached.

    Calling the plan with a seeded ``rng`` draws exactly what :func:`generate` always drew, so the
    values are unchanged; only ``$ref`` resolution, ``allOf`` merging and type checks stop being
    repeated on every request.

    The cache is keyed by the *identity* of ``schema`` and of ``resolve``'s owner, and holds both:
    only for schemas that live as long as the process (the loaded spec's). A schema made per
    request (a caller's tool parameters, a ``json_schema`` response format) goes to
    :func:`fresh_plan` instead; identity keys of objects that die with their request would only
    pile up. Past :data:`SPEC_PLANS` entries the cache starts again.
    """
    return _planned(schema, resolve, name, depth, _PLANS)


def fresh_plan(schema: Any, resolve: Resolve) -> Plan:
    """:func:`plan` without the identity cache: nothing about ``schema`` is remembered once the plan is dropped."""
    return _planned(schema, resolve, "", 0, None)


def _planned(schema: Any, resolve: Resolve, name: str, depth: int, memo: Memo | None) -> Plan:
    if memo is None:
        return _compile(schema, resolve, name, depth, None)
    owner = getattr(resolve, "__self__", resolve)
    key = (id(schema), id(owner), name, depth)
    hit = memo.get(key)
    if hit is not None and hit[0] is schema and hit[1] is owner:
        return hit[2]
    if len(memo) >= SPEC_PLANS:
        memo.clear()
    compiled = _compile(schema, resolve, name, depth, memo)
    memo[key] = (schema, owner, compiled)  # holding the schema keeps its id from being reused
    return compiled


def _sub(schema: Any, resolve: Resolve, name: str, depth: int, memo: Memo | None) -> Plan:
    """A child's plan: compiled now above ``MAX_DEPTH``, on first use below it (recursive schemas)."""
    if depth < MAX_DEPTH:
        return _planned(schema, resolve, name, depth, memo)
    return _Lazy(schema, resolve, name, depth, memo)


class _Lazy:
    """A sub-plan compiled on first use, so recursive schemas compile only as deep as they generate."""

    __slots__ = ("_args", "_plan")

    def __init__(self, schema: Any, resolve: Resolve, name: str, depth: int, memo: Memo | None):
        self._args = (schema, resolve, name, depth, memo)
        self._plan: Plan | None = None

    def __call__(self, rng: random.Random) -> Any:
        if self._plan is None:
            self._plan = _planned(*self._args)
        return self._plan(rng)


def _constant(value: Any) -> Plan:
    return lambda rng: value


def _word(label: str) -> Plan:
    return lambda rng: f"{label}-{rng.choice(_WORDS)}"


def _compile(schema: Any, resolve: Resolve, name: str, depth: int, memo: Memo | None) -> Plan:
    schema = resolve(schema)
    if schema is True or schema is None or schema == {}:
        return _word(name or "value")
    if schema is False or not isinstance(schema, dict):
        return _constant(None)
    if "const" in schema:
        return _constant(schema["const"])
    if "allOf" in schema:
        return _compile(_merge_all_of(schema, resolve), resolve, name, depth, memo)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            options = [resolve(s) for s in schema[key]]
            chosen = next((s for s in options if _type_of(s) != "null"), options[0])
            base = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
            if base.get("type") or base.get("properties"):
                chosen = _merge_all_of({"allOf": [base, chosen]}, resolve)
            return _compile(chosen, resolve, name, depth, memo)
    kind = _type_of(schema)
    if "example" in schema and _fits(schema["example"], kind):
        return _constant(schema["example"])
    if "examples" in schema and isinstance(schema["examples"], list) and schema["examples"]:
        if _fits(schema["examples"][0], kind):
            return _constant(schema["examples"][0])
    if schema.get("enum"):
        options = [v for v in schema["enum"] if v is not None] or schema["enum"]
        return lambda rng: rng.choice(options)
    if "default" in schema and _fits(schema["default"], kind):
        return _constant(schema["default"])
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, resolve, depth, memo)
    if kind == "array":
        return _array(schema, resolve, name, depth, memo)
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return lambda rng: rng.random() < 0.5
    if kind == "null":
        return _constant(None)
    return _word(name or "value")


def _type_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return non_null[0] if non_null else "null"
    return kind


_FITS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _fits(value: Any, kind: str | None) -> bool:
    return kind is None or _FITS.get(kind, lambda v: True)(value)


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


def _object(schema: dict[str, Any], resolve: Resolve, depth: int, memo: Memo | None) -> Plan:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for key, sub in properties.items():
        if depth >= MAX_DEPTH and key not in required:
            continue
        resolved = resolve(sub)
        if isinstance(resolved, dict) and resolved.get("writeOnly"):
            continue
        fields.append((key, _sub(sub, resolve, key, depth + 1, memo)))
    missing = list(required - {key for key, _ in fields})

    def make(rng: random.Random) -> dict[str, Any]:
        out = {key: field(rng) for key, field in fields}
        for key in missing:
            out[key] = f"{key}-{rng.choice(_WORDS)}"
        return out

    return make


def _array(schema: dict[str, Any], resolve: Resolve, name: str, depth: int, memo: Memo | None) -> Plan:
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", max(low, 2)))
    item = _sub(schema.get("items", {}), resolve, name.rstrip("s") or "item", depth + 1, memo)
    unique = bool(schema.get("uniqueItems"))

    def make(rng: random.Random) -> list[Any]:
        count = low if depth >= MAX_DEPTH else max(low, min(high, rng.randint(1, 2)))
        out: list[Any] = []
        attempts = 0
        while len(out) < count and attempts < count * 10 + 10:
            attempts += 1
            value = item(rng)
            if unique and value in out:
                continue
            out.append(value)
        return out

    return make


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date-time": lambda rng: (_EPOCH + dt.timedelta(seconds=rng.randrange(0, 365 * 86400))).isoformat().replace(
        "+00:00", "Z"),
    "date": lambda rng: (_EPOCH + dt.timedelta(days=rng.randrange(0, 365))).date().isoformat(),
    "time": lambda rng: f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z",
    "email": lambda rng: f"{rng.choice(_WORDS)}@example.com",
    **dict.fromkeys(("uri", "url", "uri-reference", "iri"), lambda rng: f"https://example.com/{rng.choice(_WORDS)}"),
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: ".".join(str(rng.randrange(1, 255)) for _ in range(4)),
    "ipv6": lambda rng: "2001:db8::" + format(rng.randrange(1, 0xFFFF), "x"),
    "hostname": lambda rng: f"{rng.choice(_WORDS)}.example.com",
}


def _base64(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(6)).decode()


def _string(schema: dict[str, Any], name: str) -> Plan:
    fmt = schema.get("format")
    label = name or "string"
    value_of = _FORMATS.get(fmt)  # type: ignore[arg-type]
    if value_of is None and (fmt == "byte" or schema.get("contentEncoding") == "base64"):
        value_of = _base64
    if value_of is None:
        def value_of(rng: random.Random) -> str:
            return f"{label}-{rng.choice(_WORDS)}-{rng.randrange(16**4):04x}"

    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    high = int(high) if high is not None else None
    if not low and high is None:
        return value_of

    def make(rng: random.Random) -> str:
        value = value_of(rng)
        if len(value) < low:
            value = value + "x" * (low - len(value))
        if high is not None and len(value) > high:
            value = value[:high]
        return value

    return make


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


def _integer(schema: dict[str, Any]) -> Plan:
    low, high, open_low, open_high = _bounds(schema, 0, 100)
    lo = int(low) + 1 if open_low and low == int(low) else int(-(-low // 1))
    hi = int(high) - 1 if open_high and high == int(high) else int(high // 1)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int) and multiple > 0:
        first = -(-lo // multiple) * multiple
        if first <= hi:
            steps = (hi - first) // multiple + 1
            return lambda rng: first + multiple * rng.randrange(0, steps)
    if lo <= hi:
        return lambda rng: rng.randint(lo, hi)
    return _constant(lo)


def _number(schema: dict[str, Any]) -> Plan:
    low, high, open_low, open_high = _bounds(schema, 0, 100)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, (int, float)) and multiple > 0:
        steps = int((high - low) // multiple)
        first, last = (1 if open_low else 0), max(0, steps - (1 if open_high else 0))
        return lambda rng: round(low + multiple * rng.randint(first, last), 10)

    def make(rng: random.Random) -> float:
        value = round(rng.uniform(low, high), 4)
        if (open_low and value <= low) or (open_high and value >= high):
            value = (low + high) / 2
        return value

    return make
