"""Every operation of the loaded spec answers, and openapi-core (an independent oracle) accepts the answer."""

from __future__ import annotations

import random
import re

import pytest

from mockserver.generation import generate
from mockserver.llm.catalog import default_catalog
from mockserver.spec import load_spec
from tests.conftest import DATA
from tests.oracle import assert_valid_response

SPEC = load_spec()
# Inference operations need a model the catalog routes: a generated name is (rightly) a 404.
CATALOG_MODEL = {"createChatCompletion": "chat", "createEmbedding": "embedding"}


def valid_request(spec, operation, seed=1, known=None):
    """A schema-valid request for ``operation`` built from its request schemas.

    Path parameters named in ``known`` (ids of resources that exist) take those values.
    """
    rng = random.Random(seed)
    known = known or {}
    path = re.sub(r"{([^}]+)}", lambda m: str(known.get(m.group(1)) or generate(
        next(p for p in operation.parameters if p.name == m.group(1)).schema, spec.resolve, rng)), operation.path)
    body = None
    if operation.body is not None:
        media = operation.body.json_media()
        body = generate(media.schema, spec.resolve, rng)
    kind = CATALOG_MODEL.get(operation.operation_id)
    if kind is not None:
        models = default_catalog().of_type(kind)
        body["model"] = models[seed % len(models)].id
    if operation.operation_id == "createAccessList":  # an access list names catalog models
        body["models"] = [default_catalog().models[seed % len(default_catalog().models)].id]
    if operation.operation_id == "setApiKeyAccessList" and body.get("access_list") is not None:
        body["access_list"] = known.get("name", body["access_list"])  # one that exists
    return path, body


@pytest.mark.parametrize("operation", SPEC.operations, ids=lambda op: op.operation_id)
def test_operation_answers_a_valid_documented_response(make_client, spec, operation):
    """A valid request succeeds: operations on a key get the id of a key that exists."""
    client = make_client()
    key_id = client.post("/api-keys", json={"name": "every-operation"}).json()["id"]
    client.post("/access-lists", json={"name": "every-operation", "models": ["openai/gpt-4o-mini"]})
    path, body = valid_request(spec, spec.operation(operation.operation_id),
                               known={"key_id": key_id, "name": "every-operation"})
    response = client.request(operation.method, path, json=body)
    assert 200 <= response.status_code < 300, response.text
    assert str(response.status_code) in operation.responses
    if operation.operation_id in CATALOG_MODEL or operation.operation_id == "listModels":
        assert response.status_code == 200, response.text
    assert_valid_response(spec, operation.method, path, response)


@pytest.mark.parametrize("operation", [op for op in SPEC.operations if "{key_id}" in op.path],
                         ids=lambda op: op.operation_id)
def test_operation_on_an_unknown_key_answers_a_documented_404(make_client, spec, operation):
    client = make_client()
    path, body = valid_request(spec, operation)
    response = client.request(operation.method, path, json=body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["param"] == "key_id"
    assert_valid_response(spec, operation.method, path, response)


def test_generic_answers_are_deterministic_per_seed(make_client):
    library = load_spec(DATA / "library.yml")
    first, again, other = (make_client(spec=library, api_key="k", headers={"X-Api-Key": "k"}, seed=seed)
                           for seed in (1, 1, 2))
    assert first.get("/books/3").json() == again.get("/books/3").json()
    assert first.get("/books/3").json() != other.get("/books/3").json()
    assert first.get("/books/3").json() != first.get("/books/4").json()
