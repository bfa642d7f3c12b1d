"""Loading: the upstream file verbatim, the overlay applied, broken input named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.spec import SpecError, default_overlay_path, default_spec_path, load_spec, read_document

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "requesty-openapi.yml"


def test_bundled_upstream_spec_is_verbatim():
    assert default_spec_path().read_bytes() == SEEDS.read_bytes()


def test_every_overlay_action_carries_a_reason():
    actions = read_document(default_overlay_path())["actions"]
    assert actions and all(len(a.get("description", "")) > 20 for a in actions)


def test_overlay_adds_error_responses_chunk_schema_and_bounds(spec):
    doc = spec.document
    assert doc["openapi"] == "3.1.0"
    openai_error = {"error": {"message": "m", "type": "t", "param": None, "code": None}}
    anthropic_error = {"type": "error", "error": {"type": "t", "message": "m"}}
    for op in spec.operations:
        for status in ("400", "401", "404", "405", "408", "413", "415", "429", "431", "500", "503"):
            media = op.responses[status].content["application/json"]
            # each operation documents its errors in the shape it answers them (x-mock-error-shape)
            assert media.validator.is_valid(anthropic_error if op.error_shape == "anthropic" else openai_error)
            assert not media.validator.is_valid({"message": "m"})
    assert {op.operation_id for op in spec.operations if op.error_shape == "anthropic"} == {
        "createAnthropicMessage", "countAnthropicMessageTokens"}
    usage = spec.resolve({"$ref": "#/components/schemas/Usage"})
    assert all(usage["properties"][k]["minimum"] == 0 for k in ("prompt_tokens", "completion_tokens", "cost"))
    stream = spec.operation("createChatCompletion").responses["200"].content["text/event-stream"]
    assert stream.validator.is_valid({"data": "[DONE]"})
    assert spec.base_path == "/v1"


def test_upstream_spec_alone_loads_without_the_overlay():
    spec = load_spec(default_spec_path(), [])
    assert spec.document["openapi"] == "3.0.1"
    assert "400" not in spec.operation("listModels").responses


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openapi: 3.0.1\ninfo: [unclosed\n", "bad.yml:3:1: invalid YAML"),
        ("- a list\n", "expected a mapping"),
        ("swagger: '2.0'\n", "only OpenAPI 3.0, 3.1 and 3.2"),
        ("openapi: 3.0.1\ninfo: {title: t}\npaths: {}\n", "no paths"),
        ("openapi: 3.1.0\ninfo: {title: t}\n", "no paths"),
        (
            "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
            "        '200': {$ref: '#/components/responses/Nope'}\n",
            "#/paths/~1x/get/responses/200: unresolvable $ref #/components/responses/Nope",
        ),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
            "        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/No'}}}}\n",
            "unresolvable $ref",
        ),
    ],
)
def test_broken_specs_get_one_clear_line(tmp_path, text, expected):
    path = _write(tmp_path, "bad.yml", text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(path) in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.yml")


def test_broken_overlay_names_the_action(tmp_path):
    overlay = _write(tmp_path, "o.yml", "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
                     "  - target: $.components.schemas.Nope\n    update: {x: 1}\n")
    with pytest.raises(SpecError, match=r"o.yml: actions\[0\] \(target \$.components.schemas.Nope\): matches nothing"):
        load_spec(default_spec_path(), [overlay])


def test_an_unknown_error_shape_is_a_one_line_spec_error(tmp_path):
    overlay = tmp_path / "shape.yml"
    overlay.write_text("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
                       "  - target: $.paths['/models'].get\n    update: {x-mock-error-shape: xml}\n")
    with pytest.raises(SpecError, match=r"x-mock-error-shape: 'xml' is not one of openai, anthropic"):
        load_spec(default_spec_path(), [overlay])
