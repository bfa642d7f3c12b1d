"""``text/event-stream`` answers generated from the documented event schema.

The media type's schema (or OAS 3.2 ``itemSchema``) describes one event's data. The stream is
:data:`EVENTS` events, each ``data: <JSON>`` plus ``event: <type>`` when the generated value has a
string ``type`` (the OpenAI Responses grammar names events so). A ``oneOf``/``anyOf`` of event
kinds is walked in order, so a stream shows several kinds. No ``[DONE]`` line: it is not an event
of any schema.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson

from mockserver.generation import generate

EVENTS = 3
Resolve = Callable[[Any], Any]


def _variants(schema: Any, resolve: Resolve) -> list[Any]:
    node = resolve(schema)
    if isinstance(node, dict):
        for key in ("oneOf", "anyOf"):
            options = node.get(key)
            if isinstance(options, list) and options and not any(k in node for k in ("properties", "allOf")):
                return options
    return [schema]


def event_stream(schema: Any, resolve: Resolve, rng: random.Random, count: int = EVENTS) -> bytes:
    variants = _variants(schema, resolve) if schema is not None else [None]
    out = bytearray()
    for index in range(count):
        variant = variants[index % len(variants)]
        value = generate(variant, resolve, rng) if variant is not None else ""
        if isinstance(value, dict) and isinstance(value.get("type"), str) and "\n" not in value["type"]:
            out += b"event: " + value["type"].encode() + b"\n"
        data = value if isinstance(value, str) else orjson.dumps(value).decode()
        for line in data.split("\n"):
            out += b"data: " + line.encode() + b"\n"
        out += b"\n"
    return bytes(out)
