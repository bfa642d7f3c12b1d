"""A second, small spec gets its own routes and valid answers with no code change."""

from __future__ import annotations

import pytest

from mockserver.spec import load_spec
from tests.conftest import DATA
from tests.oracle import assert_valid_response


@pytest.fixture(scope="module")
def library():
    return load_spec(DATA / "library.yml")


@pytest.fixture
def lib(make_client, library):
    return make_client(spec=library, api_key="lib-key", headers={"X-Api-Key": "lib-key"})


def test_routes_come_from_the_spec(lib, library):
    assert library.base_path == "/api"
    assert lib.get("/books").status_code == 200
    assert lib.get("/models").status_code == 404


def test_answers_are_valid_and_follow_the_example_order(lib, library):
    for method, path, body in [("GET", "/books?limit=3&tag=a&tag=b", None), ("GET", "/books/3", None),
                               ("POST", "/books", {"title": "Emma"}), ("DELETE", "/books/3", None),
                               ("GET", "/health", None)]:
        response = lib.request(method, path, json=body)
        assert response.status_code in (200, 201, 204), response.text
        assert_valid_response(library, method, path.split("?")[0], response)
    assert lib.post("/books", json={"title": "Emma"}).json()["title"] == "Dune"  # the named example first
    assert lib.get("/health").json() == {"status": "up"}  # then the media type example
    assert lib.delete("/books/3").content == b""  # 204 gets no body


def test_parameters_are_typed_and_validated(lib):
    error = lib.get("/books?limit=0").json()["error"]
    assert error["details"][0]["path"] == "query.limit"
    assert lib.get("/books?limit=abc").status_code == 400
    assert lib.get("/books/0").status_code == 400
    assert lib.get("/books/x").json()["error"]["details"][0]["path"] == "path.bookId"


def test_security_comes_from_the_spec(make_client, library):
    anonymous = make_client(spec=library, api_key="lib-key", headers={})
    assert anonymous.get("/health").status_code == 200  # security: [] on this operation
    assert anonymous.get("/books").status_code == 401
    assert anonymous.get("/books", headers={"Authorization": "Bearer lib-key"}).status_code == 401
