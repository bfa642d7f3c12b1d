"""``nullable: true`` in a 3.1 document is read as allowing null, with one warning for all the places."""

from __future__ import annotations

from mockserver.spec.loader import build_spec


def _document(schema: dict) -> dict:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/things": {"post": {
        "operationId": "make", "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "ok"}}}}}}


def test_nullable_in_31_allows_null_everywhere_it_is_said_with_one_warning():
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "nullable": True},
        "color": {"enum": ["red", "blue"], "nullable": True},
        "shape": {"$ref": "#/components/schemas/Shape", "nullable": True},
        "default": {"type": "integer"},  # a property named like a keyword is still a schema
        "plain": {"type": "string"}}}
    document = _document(schema)
    document["components"] = {"schemas": {"Shape": {"type": "object", "properties": {"sides": {
        "type": "integer", "nullable": True}}}}}
    spec = build_spec(document)
    body = spec.operation("make").body.json_media()
    assert body.validator.is_valid({"name": None, "color": None, "shape": None, "default": 1})
    assert body.validator.is_valid({"shape": {"sides": None}})
    assert not body.validator.is_valid({"plain": None}) and not body.validator.is_valid({"color": "green"})
    assert not body.validator.is_valid({"default": None})
    nullable = [d for d in spec.defects if "nullable" in d.message]
    assert len(nullable) == 1 and "3 other place(s)" in nullable[0].message
    assert document["components"]["schemas"]["Shape"]["properties"]["sides"]["nullable"] is True  # as loaded
