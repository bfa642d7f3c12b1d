"""Imperfect specs are served: every defect is one warning with its JSON pointer; --strict refuses them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_tests.cli import main as contract_main
from mockserver.cli import main as mock_main
from mockserver.spec import SpecError, load_spec

DATA = Path(__file__).resolve().parents[1] / "data"
OPENAI = DATA / "openai-openapi.yaml"

DEFECTIVE = textwrap.dedent("""\
    openapi: 3.1.0
    info: {title: defective}
    paths:
      /things:
        post:
          operationId: makeThing
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  required: [name, name]
                  properties:
                    name: {type: string}
                    size: {type: number, minimum: 0, exclusiveMinimum: true}
                    kind: {type: date}
                    code: {type: string, pattern: "(unclosed"}
          responses:
            '200':
              description: ok
              content:
                application/json:
                  schema: {type: object, properties: {created: {type: string}}}
                  example: {created: 2024-01-01}
      /dup:
        get:
          operationId: makeThing
          responses: {'204': {description: none}}
      /nothing:
        get:
          operationId: nothing
""")


@pytest.fixture
def defective(tmp_path: Path) -> Path:
    path = tmp_path / "defective.yml"
    path.write_text(DEFECTIVE)
    return path


def test_defects_are_collected_with_their_places(defective):
    spec = load_spec(defective)
    lines = [d.line(spec.source) for d in spec.defects]
    assert all("\n" not in line and line.startswith(f"{defective}#") for line in lines)
    by_pointer = {d.pointer: d.message for d in spec.defects}
    schema = "/paths/~1things/post/requestBody/content/application~1json/schema"
    assert "repeats ignored" in by_pointer[f"{schema}/required"]
    assert "read as exclusiveMinimum: 0" in by_pointer[f"{schema}/properties/size/exclusiveMinimum"]
    assert "validation of this part is relaxed" in by_pointer[f"{schema}/properties/kind/type"]
    assert "is not a \"regex\"" in by_pointer[f"{schema}/properties/code/pattern"]
    assert "duplicate operationId 'makeThing'" in by_pointer["/paths/~1dup/get/operationId"]
    assert "no responses documented" in by_pointer["/paths/~1nothing/get/responses"]
    assert "/info" in by_pointer  # info.version is missing
    assert len(spec.operations) == 3


def test_repaired_schema_still_validates_what_it_can(defective):
    spec = load_spec(defective)
    validator = spec.operation("makeThing").body.content["application/json"].validator
    assert validator.is_valid({"name": "a", "size": 1, "kind": "anything", "code": "("})
    assert not validator.is_valid({"name": "a", "size": 0})  # exclusive bound kept, in its 3.1 form
    assert not validator.is_valid({"size": 1})  # name still required
    # The document as written is served unchanged (repairs are copies).
    raw = spec.document["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert raw["required"] == ["name", "name"] and raw["properties"]["size"]["exclusiveMinimum"] is True


def test_yaml_dates_stay_strings(defective):
    spec = load_spec(defective)
    media = spec.operation("makeThing").responses["200"].content["application/json"]
    assert media.example == {"created": "2024-01-01"}


def test_strict_refuses_the_first_defect_in_one_line(defective):
    with pytest.raises(SpecError) as info:
        load_spec(defective, strict=True)
    message = str(info.value)
    assert "\n" not in message and "[--strict]" in message and "more warnings" in message


def test_serve_prints_one_warning_per_defect_and_strict_exits_2(defective, monkeypatch):
    served = []
    monkeypatch.setattr("mockserver.cli.serve", lambda config, host, port, **_: served.append(config))
    result = CliRunner().invoke(mock_main, ["serve", "--spec", str(defective)])
    assert result.exit_code == 0 and served
    warnings = [line for line in result.stderr.splitlines() if line.startswith("mockserver: warning: ")]
    assert len(warnings) == len(served[0].spec.defects) >= 5
    result = CliRunner().invoke(mock_main, ["serve", "--spec", str(defective), "--strict"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mockserver: error: ")


def test_contract_tests_strict_exits_2(defective):
    result = CliRunner().invoke(contract_main, ["run", "--spec", str(defective), "--strict", "--report-dir", ""])
    assert result.exit_code == 2
    assert "contract-tests: error:" in result.stderr and "[--strict]" in result.stderr


def test_openai_spec_loads_with_its_known_defects():
    spec = load_spec(OPENAI)
    assert len(spec.operations) == 288
    messages = {d.pointer: d.message for d in spec.defects}
    assert "repeats ignored" in messages["/components/schemas/ContainerResource/required"]
    assert sum("exclusiveMinimum" in p for p in messages) == 7
    with pytest.raises(SpecError, match="ContainerResource|exclusiveMinimum|recursiveAnchor"):
        load_spec(OPENAI, strict=True)


def test_the_bundled_spec_has_no_defects(spec):
    assert spec.defects == ()


def test_contract_tests_loads_the_same_way_and_hands_each_warning_on(defective):
    from contract_tests.session import Options, _load_specs

    lines: list[str] = []
    spec, _ = _load_specs(Options(spec=str(defective), warn=lines.append))
    assert lines == [f"warning: {d.line(spec.source)}" for d in spec.defects] and len(lines) >= 5
