"""Every operation of the loaded spec answers, and openapi-core (an independent oracle) accepts the answer."""

from __future__ import annotations

import pytest

from mockserver.spec import load_spec
from tests.conftest import DATA
from tests.oracle import assert_valid_response
from tests.requests_from_spec import CATALOG_MODEL as INFERENCE
from tests.requests_from_spec import build_request

SPEC = load_spec()
# Inference operations need a model the catalog routes: a generated name is (rightly) a 404.
def valid_request(spec, operation, seed=1, known=None):
    """A schema-valid request for ``operation`` (its path and JSON body): ``tests.requests_from_spec.build_request``.

    Path parameters named in ``known`` (ids of resources that exist) take those values.
    """
    path, kwargs = build_request(spec, operation, seed, known)
    return path, kwargs.get("json")


@pytest.mark.parametrize("operation", SPEC.operations, ids=lambda op: op.operation_id)
def test_operation_answers_a_valid_documented_response(make_client, spec, operation):
    """A valid request succeeds (multipart ones with real files): operations on a key get the id of a key that exists."""
    client = make_client()
    key_id = client.post("/api-keys", json={"name": "every-operation"}).json()["id"]
    response_id = client.post("/responses", json={"model": "openai/gpt-4o-mini", "input": "stored"}).json()["id"]
    client.post("/access-lists", json={"name": "every-operation", "models": ["openai/gpt-4o-mini"]})
    known = {"key_id": key_id, "response_id": response_id, "name": "every-operation"}
    path, kwargs = build_request(spec, spec.operation(operation.operation_id), known=known)
    response = client.request(operation.method, path, **kwargs)
    assert 200 <= response.status_code < 300, response.text
    assert str(response.status_code) in operation.responses
    if operation.operation_id in INFERENCE or operation.operation_id == "listModels":
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
