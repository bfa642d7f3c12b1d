"""The Overlay 1.0 applier: update, append, remove, and clear errors."""

from __future__ import annotations

import pytest

from mockserver.spec import SpecError, apply_overlay

DOC = {"a": {"b": {"c": 1, "keep": True}, "list": [1]}, "paths": {"/x": {"get": {"responses": {}}}}}


def overlay(*actions):
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


def test_update_merges_objects_recursively_and_leaves_input_untouched():
    out = apply_overlay(DOC, overlay({"target": "$.a", "update": {"b": {"c": 2, "d": 3}}}))
    assert out["a"]["b"] == {"c": 2, "keep": True, "d": 3}
    assert DOC["a"]["b"]["c"] == 1


def test_update_appends_to_an_array_target():
    out = apply_overlay(DOC, overlay({"target": "$.a.list", "update": {"x": 1}}))
    assert out["a"]["list"] == [1, {"x": 1}]


def test_remove_deletes_every_match():
    out = apply_overlay(DOC, overlay({"target": "$.a.b.c", "remove": True}))
    assert "c" not in out["a"]["b"]


def test_filter_targets_each_operation():
    out = apply_overlay(DOC, overlay({"target": "$.paths.*[?@.responses].responses", "update": {"400": {"description": "x"}}}))
    assert out["paths"]["/x"]["get"]["responses"] == {"400": {"description": "x"}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"actions": []}, "not an Overlay document"),
        (overlay(), "non-empty list"),
        (overlay({"update": {}}), "string 'target'"),
        (overlay({"target": "$.a"}), "needs 'update' or 'remove: true'"),
        (overlay({"target": "$.nothing", "update": {}}), "matches nothing"),
        (overlay({"target": "$[?", "update": {}}), "invalid JSONPath"),
        (overlay({"target": "$.a.b.c", "update": {"x": 1}}), "can only update objects and arrays"),
    ],
)
def test_bad_overlays_get_one_line_naming_the_place(doc, message):
    with pytest.raises(SpecError) as info:
        apply_overlay(DOC, doc, source="o.yml")
    text = str(info.value)
    assert message in text and text.startswith("o.yml") and "\n" not in text
