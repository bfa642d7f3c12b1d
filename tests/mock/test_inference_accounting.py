"""Inference handlers ask the accounting seam first and record each call's usage exactly once."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.accounts import money
from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.errors import MockError
from mockserver.state import MockState
from tests.conftest import ADMIN

HELLO = [{"role": "user", "content": "Count me in."}]


class RecordingState(MockState):
    """Logs the seam's calls; refuses inference when ``refuse`` is set."""

    def __init__(self, config):
        super().__init__(config)
        self.log: list[tuple] = []
        self.refuse = False

    def before_inference(self, principal):
        self.log.append(("before", principal.key_id))
        if self.refuse:
            raise MockError(402, "Spending limit reached.")

    def record_usage(self, principal, *, operation_id, model, usage, headers, cost_units=None, meta=None):
        # The units a handler passes along are the cost it returned, exactly.
        assert cost_units is None or cost_units == money.from_usd(usage["cost"]), (cost_units, usage)
        self.log.append(("record", principal.key_id, operation_id, model, dict(usage)))


@pytest.fixture
def setup(spec):
    config = MockConfig(spec=spec, api_key=DEFAULT_API_KEY)
    state = RecordingState(config)
    with TestClient(create_app(config, state), base_url="http://testserver/v1", headers=ADMIN) as client:
        yield client, state


def usage_of_stream(text):
    chunks = [orjson.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: {")]
    return next(c["usage"] for c in chunks if c.get("usage"))


@pytest.mark.parametrize("extra", [{}, {"stream": True, "stream_options": {"include_usage": True}}],
                         ids=["json", "stream"])
def test_chat_records_the_returned_usage_once(setup, extra):
    client, state = setup
    response = client.post("/chat/completions", json={"model": "openai/gpt-4o", "messages": HELLO, **extra})
    usage = usage_of_stream(response.text) if extra else response.json()["usage"]
    assert state.log == [("before", "admin"), ("record", "admin", "createChatCompletion", "openai/gpt-4o", usage)]


def test_stream_without_include_usage_still_records_what_the_call_costs(setup):
    client, state = setup
    plain = client.post("/chat/completions", json={"messages": HELLO}).json()["usage"]
    client.post("/chat/completions", json={"messages": HELLO, "stream": True})
    assert state.log[-1] == ("record", "admin", "createChatCompletion", "openai/gpt-4o-mini", plain)
    assert [entry[0] for entry in state.log] == ["before", "record", "before", "record"]


def test_embeddings_record_the_returned_usage_once(setup):
    client, state = setup
    body = client.post("/embeddings", json={"model": "mistral/mistral-embed", "input": ["a b", "c"]}).json()
    assert state.log == [("before", "admin"), ("record", "admin", "createEmbedding", "mistral/mistral-embed", body["usage"])]


@pytest.mark.parametrize("path, body", [("/chat/completions", {"messages": HELLO, "stream": True}),
                                        ("/embeddings", {"model": "mistral/mistral-embed", "input": "x"})])
def test_a_refusal_stops_the_work_and_records_nothing(setup, path, body):
    client, state = setup
    state.refuse = True
    response = client.post(path, json=body)
    assert response.status_code == 402 and response.json()["error"]["code"] == "key_limit_exceeded"
    assert state.log == [("before", "admin")]


def test_refused_requests_record_nothing(setup):
    client, state = setup
    client.post("/chat/completions", json={"model": "nobody/none", "messages": HELLO})
    client.post("/embeddings", json={"model": "openai/gpt-4o", "input": "x"})
    assert [entry[0] for entry in state.log] == ["before", "before"]
