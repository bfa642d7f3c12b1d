"""Generation plans: compiled once per schema, same values for the same seed, recursion bounded."""

from __future__ import annotations

import random

from mockserver.generation import MAX_DEPTH, generate, plan


def _resolver(document):
    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    return resolve


TREE = {"components": {"schemas": {"Node": {
    "type": "object", "required": ["name", "children"],
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
}}}}


def _depth(node) -> int:
    return 1 + max((_depth(child) for child in node["children"]), default=0)


def test_a_schema_that_requires_itself_generates_a_bounded_tree():
    resolve = _resolver(TREE)
    value = generate({"$ref": "#/components/schemas/Node"}, resolve, random.Random(3))
    assert 1 < _depth(value) <= MAX_DEPTH


def test_the_same_seed_gives_the_same_value_and_the_plan_is_reused():
    resolve = _resolver(TREE)
    schema = TREE["components"]["schemas"]["Node"]
    assert plan(schema, resolve) is plan(schema, resolve)
    assert generate(schema, resolve, random.Random(7)) == generate(schema, resolve, random.Random(7))
