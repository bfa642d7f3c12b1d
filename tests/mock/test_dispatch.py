"""How requests reach their endpoint: spec paths, path parameters, the mock's own endpoints, unknown paths, errors."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.faults.journal import Journal, SharedJournal
from mockserver.llm.catalog import Catalog
from mockserver.routing import Dispatcher
from tests.mock.test_bad_input import assert_error_shape

ADMIN = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def test_templated_path_gets_its_parameter_by_spec_name(client):
    created = client.post("/api-keys", json={"name": "dispatch"}).json()
    assert client.get(f"/api-keys/{created['id']}").json()["id"] == created["id"]
    assert_error_shape(client.get("/api-keys/no-such-key"), 404, "api_key_not_found")


def test_fixed_paths_and_segments_win_over_templates():
    paths = ["/keys/{id}", "/keys/usage", "/keys/{id}/usage", "/keys/usage/{month}", "/{kind}/usage/{month}",
             "/files/{file-name}.json"]
    dispatcher = Dispatcher({path: path for path in paths})
    for path, expected, params in [
        ("/keys/usage", "/keys/usage", {}),
        ("/keys/k1", "/keys/{id}", {"id": "k1"}),
        ("/keys/k1/usage", "/keys/{id}/usage", {"id": "k1"}),
        ("/keys/usage/2026-11", "/keys/usage/{month}", {"month": "2026-11"}),
        ("/teams/usage/2026-11", "/{kind}/usage/{month}", {"kind": "teams", "month": "2026-11"}),
        ("/files/a b.json", "/files/{file-name}.json", {"file-name": "a b"}),
    ]:
        assert dispatcher.match(path) == (expected, params)
    assert dispatcher.match("/keys/k1/other") is None
    assert dispatcher.match("/files/a/b.json") is None  # a parameter is one segment


def test_trailing_slash_is_not_redirected(client):
    response = client.get("/models/", follow_redirects=False)
    assert_error_shape(response, 404, "unknown_path")


def test_admin_endpoints_keep_their_routes(client):
    mock = TestClient(client.app, base_url="http://testserver", headers=ADMIN)
    assert mock.get("/__mock/journal").json()["object"] == "list"
    assert mock.get("/__mock/openapi.json").json()["openapi"].startswith("3.")
    wrong = mock.patch("/__mock/journal")
    assert_error_shape(wrong, 405)
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert_error_shape(mock.get("/__mock/nothing"), 404, "unknown_path")
    assert_error_shape(TestClient(client.app, base_url="http://testserver").get("/__mock/journal"), 401)


def test_unexpected_error_is_a_500_in_the_error_shape(monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Catalog, "listing", broken)
    client = TestClient(create_app(MockConfig(api_key=DEFAULT_API_KEY)), raise_server_exceptions=False, headers=ADMIN)
    response = client.get("/v1/models", headers={"Origin": "http://localhost:3000"})
    assert_error_shape(response, 500, "internal_error")
    assert response.headers["access-control-allow-origin"] == "*"  # a browser app can read why it failed
    assert response.headers["vary"] == "Origin"
    entry = client.get("/__mock/journal").json()["data"][0]
    assert (entry["path"], entry["status"]) == ("/v1/models", 500)  # journaled with the status it was answered


def test_unexpected_error_in_the_mocks_own_endpoint_is_a_500_too(monkeypatch):
    def broken(self, limit=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(Journal, "last", broken)
    client = TestClient(create_app(MockConfig(api_key=DEFAULT_API_KEY)), raise_server_exceptions=False, headers=ADMIN)
    response = client.get("/__mock/journal", headers={"Origin": "http://localhost:3000"})
    assert_error_shape(response, 500, "internal_error")
    assert response.headers["access-control-allow-origin"] == "*"


def test_lifespan_is_answered():
    with TestClient(create_app(MockConfig(api_key=DEFAULT_API_KEY)), headers=ADMIN) as client:
        assert client.get("/v1/models").status_code == 200


def test_a_shared_journal_that_fails_loses_the_entry_not_the_answer(caplog):
    class DownStore:
        def journal_add(self, entry):
            raise ConnectionError("the store is down")

        def journal_last(self, limit):
            return []

        def journal_clear(self):
            pass

    app = create_app(MockConfig(api_key=DEFAULT_API_KEY))
    app.state.faults.journal = SharedJournal(DownStore())
    app.edge.record = app.state.faults.journal.record_exchange
    response = TestClient(app, headers=ADMIN).get("/v1/models")
    assert response.status_code == 200 and response.json()["data"]  # the whole answer arrived
    assert "was not stored" in caplog.text
