"""A spec path keyed with a query (OpenAI's ``/responses?beta=true``) is its own operation for requests with it."""

from __future__ import annotations

from mockserver.routing import Dispatcher


def test_a_request_with_the_query_reaches_the_query_keyed_route():
    routes = Dispatcher({"/v1/things": "plain", "/v1/things?beta=true": "beta", "/v1/things/{id}": "one",
                         "/v1/things/{id}?beta=true": "one beta"})
    assert routes.match("/v1/things")[0] == "plain"
    assert routes.match("/v1/things", "beta=true")[0] == "beta"
    assert routes.match("/v1/things", "limit=2&beta=true")[0] == "beta"
    assert routes.match("/v1/things", "beta=false")[0] == "plain"
    assert routes.match("/v1/things/7", "beta=true") == ("one beta", {"id": "7"})
    assert routes.match("/v1/things/7") == ("one", {"id": "7"})
    assert routes.match("/v1/other", "beta=true") is None


def test_the_openai_spec_routes_a_beta_request_to_the_beta_operation(make_client):
    from mockserver.spec import load_spec
    from tests.conftest import DATA

    client = make_client(spec=load_spec(DATA / "openai-openapi.yaml"))
    for query in ("?beta=true", ""):
        assert client.post(f"/responses/input_tokens{query}", json={"input": "hi"}).status_code == 200
    journal = client.get("http://testserver/__mock/journal").json()["data"]
    assert [entry["operation"] for entry in journal] == ["Getinputtokencounts", "beta_Getinputtokencounts"]
