"""Every operation of the loaded spec answers, and openapi-core (an independent oracle) accepts the answer."""

from __future__ import annotations

import random
import re

import pytest

from mockserver.generation import generate
from mockserver.llm.catalog import default_catalog
from mockserver.spec import load_spec
from tests.oracle import assert_valid_response

SPEC = load_spec()
# Inference operations need a model the catalog routes: a generated name is (rightly) a 404.
CATALOG_MODEL = {"createChatCompletion": "chat", "createEmbedding": "embedding"}


def valid_request(spec, operation, seed=1):
    """A schema-valid request for ``operation`` built from its request schemas."""
    rng = random.Random(seed)
    path = re.sub(r"{([^}]+)}", lambda m: str(generate(
        next(p for p in operation.parameters if p.name == m.group(1)).schema, spec.resolve, rng)), operation.path)
    body = None
    if operation.body is not None:
        media = operation.body.json_media()
        body = generate(media.schema, spec.resolve, rng)
    kind = CATALOG_MODEL.get(operation.operation_id)
    if kind is not None:
        models = default_catalog().of_type(kind)
        body["model"] = models[seed % len(models)].id
    return path, body


@pytest.mark.parametrize("operation", SPEC.operations, ids=lambda op: op.operation_id)
def test_operation_answers_a_valid_documented_response(make_client, spec, operation):
    client = make_client()
    path, body = valid_request(spec, spec.operation(operation.operation_id))
    response = client.request(operation.method, path, json=body)
    assert response.status_code < 500, response.text
    assert str(response.status_code) in operation.responses
    if operation.operation_id in CATALOG_MODEL or operation.operation_id == "listModels":
        assert response.status_code == 200, response.text
    assert_valid_response(spec, operation.method, path, response)


def test_generic_answers_are_deterministic_per_seed(make_client):
    first, again, other = make_client(seed=1), make_client(seed=1), make_client(seed=2)
    assert first.get("/organization/usage").json() == again.get("/organization/usage").json()
    assert first.get("/organization/usage").json() != other.get("/organization/usage").json()
    assert first.get("/api-keys/a").json() != first.get("/api-keys/b").json()
