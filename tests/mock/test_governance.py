"""Governance through the mock's HTTP interface: access lists, guardrails, spend alerts, the config file."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.governance.alerts import SIGNATURE_HEADER, verify
from mockserver.governance.config import parse_governance, threshold
from mockserver.governance.detectors import find, luhn_valid
from mockserver.llm.catalog import default_catalog
from mockserver.router.config import RoutingError, parse_routing
from tests.conftest import ADMIN
from tests.webhook_receiver import Receiver

CATALOG = default_catalog()
FILE = {
    "policies": {"mixed": {"type": "fallback", "models": ["openai/gpt-4o", "openai/gpt-4o-mini"]},
                 "banned": {"type": "fallback", "models": ["anthropic/claude-sonnet-4-20250514"]},
                 "safe": {"type": "fallback", "models": ["openai/gpt-4o-mini"]}},
    "aliases": {"coding/big": {"model": "openai/gpt-4o"}},
    "access_lists": {"cheap": {"models": ["openai/gpt-4o-mini", "openai/text-embedding-3-small"],
                               "labels": ["interns"]}},
    "guardrails": {"policies": {"safe": "mask"}},
}
ROUTING = parse_routing(FILE, "test", CATALOG)
GOVERNANCE = parse_governance(FILE, "test", CATALOG)
SECRET = "whsec_test_secret_value"


def new_key(client, **body):
    created = client.post("/api-keys", json={"name": "k", **body})
    assert created.status_code == 200, created.text
    return created.json()


def as_key(secret):
    return {"Authorization": f"Bearer {secret}"}


def chat(client, secret, model, text="Hello there"):
    return client.post("/chat/completions", headers=as_key(secret),
                       json={"model": model, "messages": [{"role": "user", "content": text}]})


def journal(client, limit=1):
    return client.get("http://testserver/__mock/journal", params={"limit": limit}, headers=ADMIN).json()["data"]


@pytest.fixture
def gov(make_client):
    return make_client(routing=ROUTING, governance=GOVERNANCE)


# -- access lists ---------------------------------------------------------------------------------------


def test_a_model_off_the_keys_list_is_403_naming_the_list_on_chat_and_embeddings(gov):
    key = new_key(gov)
    put = gov.put(f"/api-keys/{key['id']}/access-list", json={"access_list": "cheap"})
    assert put.json() == {"key_id": key["id"], "access_list": "cheap"}
    refused = chat(gov, key["key"], "openai/gpt-4o")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "model_not_allowed" and "'cheap'" in error["message"]
    assert chat(gov, key["key"], "openai/gpt-4o-mini").status_code == 200
    embed = gov.post("/embeddings", headers=as_key(key["key"]), json={"model": "openai/text-embedding-3-large",
                                                                      "input": "x"})
    assert embed.status_code == 403 and "'cheap'" in embed.json()["error"]["message"]
    assert gov.post("/embeddings", headers=as_key(key["key"]),
                    json={"model": "openai/text-embedding-3-small", "input": "x"}).status_code == 200


def test_policies_and_aliases_cannot_reach_a_model_off_the_list(gov):
    key = new_key(gov, labels=["interns"])  # the list comes with the label (a group)
    served = chat(gov, key["key"], "policy/mixed")
    assert served.status_code == 200 and served.json()["model"] == "openai/gpt-4o-mini"  # gpt-4o filtered out
    assert chat(gov, key["key"], "policy/banned").status_code == 403
    assert chat(gov, key["key"], "coding/big").status_code == 403
    assert chat(gov, ADMIN["Authorization"].split()[1], "policy/banned").status_code == 200  # the admin has no list


def test_models_lists_only_what_the_key_may_use(gov):
    key = new_key(gov, labels=["interns"])
    listed = {m["id"] for m in gov.get("/models", headers=as_key(key["key"])).json()["data"]}
    assert listed == {"openai/gpt-4o-mini", "openai/text-embedding-3-small"}
    other = new_key(gov)
    assert len(gov.get("/models", headers=as_key(other["key"])).json()["data"]) == len(CATALOG.models)


def test_access_lists_are_managed_by_the_admin_only(gov):
    created = gov.post("/access-lists", json={"name": "g", "models": ["google/*"]})
    assert created.status_code == 200 and created.json()["source"] == "api"
    assert gov.post("/access-lists", json={"name": "g", "models": ["google/*"]}).status_code == 409
    assert gov.post("/access-lists", json={"name": "h", "models": ["nope/*"]}).status_code == 404
    names = [a["name"] for a in gov.get("/access-lists").json()["data"]]
    assert names == ["cheap", "g"]
    key = new_key(gov)
    assert gov.get("/access-lists", headers=as_key(key["key"])).status_code == 403
    gov.put(f"/api-keys/{key['id']}/access-list", json={"access_list": "g"})
    assert chat(gov, key["key"], "google/gemini-2.5-flash").status_code == 200
    assert gov.delete("/access-lists/g").status_code == 409  # in use
    assert gov.delete("/access-lists/cheap").status_code == 409  # from the file
    gov.put(f"/api-keys/{key['id']}/access-list", json={"access_list": None})
    assert gov.delete("/access-lists/g").json() == {"name": "g", "deleted": True}
    assert gov.get("/access-lists/g").status_code == 404
    assert gov.put(f"/api-keys/{key['id']}/access-list", json={"access_list": "g"}).status_code == 404


# -- guardrails -----------------------------------------------------------------------------------------

CARD = "4111 1111 1111 1111"  # Luhn-valid
EMAIL = "jane.doe@example.com"
KEY_LIKE = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"


def test_report_lets_the_call_through_and_records_kind_and_position_only(gov):
    key = new_key(gov)
    assert gov.put(f"/api-keys/{key['id']}/guardrails", json={"action": "report"}).json()["action"] == "report"
    text = f"mail {EMAIL} card {CARD}"
    answer = chat(gov, key["key"], "openai/gpt-4o-mini", text)
    assert answer.status_code == 200
    entry = journal(gov)[0]
    assert entry["guardrail"] == "report"
    assert [(v["kind"], v["start"], v["end"]) for v in entry["violations"]] == [
        ("email", 5, 5 + len(EMAIL)), ("card_number", text.index(CARD), text.index(CARD) + len(CARD))]
    usage = gov.app.state.mock.ledger.entries()[-1]
    assert [v[0] for v in usage.meta.violations] == ["email", "card_number"]
    dumped = json.dumps(journal(gov, 10)) + repr(usage)
    assert EMAIL not in dumped and CARD not in dumped


def test_mask_replaces_the_values_before_the_model_sees_them(gov):
    key = new_key(gov)
    gov.put(f"/api-keys/{key['id']}/guardrails", json={"action": "mask"})
    answer = chat(gov, key["key"], "openai/gpt-4o-mini", f"key {KEY_LIKE} mail {EMAIL}")
    reply = answer.json()["choices"][0]["message"]["content"]
    assert KEY_LIKE not in reply and EMAIL not in reply and "[SECRET]" in reply and "[EMAIL]" in reply
    assert journal(gov)[0]["guardrail"] == "mask"


def test_a_policy_action_applies_to_its_calls(gov):
    key = new_key(gov)
    reply = chat(gov, key["key"], "policy/safe", f"mail {EMAIL}").json()["choices"][0]["message"]["content"]
    assert EMAIL not in reply
    assert EMAIL in chat(gov, key["key"], "openai/gpt-4o-mini", f"mail {EMAIL}").text  # default: disabled


def test_block_is_400_guardrail_blocked_and_embeddings_are_guarded_too(gov):
    key = new_key(gov)
    gov.put(f"/api-keys/{key['id']}/guardrails", json={"action": "block"})
    refused = chat(gov, key["key"], "openai/gpt-4o-mini", f"card {CARD}")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "guardrail_blocked"
    assert CARD not in refused.text
    embed = gov.post("/embeddings", headers=as_key(key["key"]), json={"model": "openai/text-embedding-3-small",
                                                                      "input": ["fine", f"to {EMAIL}"]})
    assert embed.status_code == 400
    assert chat(gov, key["key"], "openai/gpt-4o-mini", "card 4111 1111 1111 1112").status_code == 200  # not Luhn


def _luhn_complete(digits: str) -> str:
    for last in "0123456789":
        if luhn_valid(digits + last):
            return digits + last
    raise AssertionError


WORDS = st.text(alphabet="abcdefghij klmnop", min_size=0, max_size=20)
PLANTED = st.one_of(
    st.tuples(st.just("email"), st.from_regex(r"[a-z]{3,8}\.[a-z]{2,5}@[a-z]{3,8}\.(com|org|io)", fullmatch=True)),
    st.tuples(st.just("card_number"), st.from_regex(r"4[0-9]{14}", fullmatch=True).map(_luhn_complete)),
    st.tuples(st.just("secret"), st.from_regex(r"sk-[A-Za-z0-9]{24,32}", fullmatch=True)),
    st.tuples(st.just(None), st.from_regex(r"4[0-9]{14}", fullmatch=True).map(
        lambda d: next(d + c for c in "0123456789" if not luhn_valid(d + c)))),  # Luhn-invalid: not a finding
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.tuples(WORDS, PLANTED), min_size=0, max_size=4), tail=WORDS)
def test_property_mask_leaves_no_planted_value_and_report_records_each(make_client, parts, tail):
    client = make_client(governance=GOVERNANCE)
    text, expected = "", []
    for words, (kind, value) in parts:
        text += words + " "
        if kind is not None:
            expected.append((kind, len(text), len(text) + len(value)))
        text += value + " "
    text += tail
    report, mask = new_key(client), new_key(client)
    client.put(f"/api-keys/{report['id']}/guardrails", json={"action": "report"})
    client.put(f"/api-keys/{mask['id']}/guardrails", json={"action": "mask"})
    assert chat(client, report["key"], "openai/gpt-4o-mini", text).status_code == 200
    entry = journal(client)[0]
    assert [(v["kind"], v["start"], v["end"]) for v in entry["violations"] or []] == expected
    assert all(v["path"] == "$.messages[0].content" for v in entry["violations"] or [])
    reply = chat(client, mask["key"], "openai/gpt-4o-mini", text).json()["choices"][0]["message"]["content"]
    records = json.dumps(journal(client, 5))
    for _, (kind, value) in parts:
        if kind is not None:
            assert value not in reply and value not in records


def test_detectors_ignore_luhn_invalid_numbers_and_ordinary_text():
    assert [f.kind for f in find("call 4111-1111-1111-1111 now")] == ["card_number"]
    assert find("order 4111-1111-1111-1112, see sk-short") == []


# -- spend alerts ---------------------------------------------------------------------------------------


def _alerts_file(url, **extra):
    extra.setdefault("backoff_ms", 20)
    return parse_governance({"alerts": {"webhook": {"url": url, "secret": SECRET}, **extra}},
                            "test", CATALOG)


def test_each_crossing_is_delivered_once_signed_without_the_secret(make_client):
    with Receiver() as receiver:
        client = make_client(governance=_alerts_file(receiver.url, thresholds=[{"percent": 50}]))
        key = new_key(client, limit=1.0)
        client.put(f"/api-keys/{key['id']}/alerts", json={"thresholds": [{"percent": 50}, {"usd": 0.000001}]})
        for _ in range(3):
            assert chat(client, key["key"], "openai/gpt-4o", "x" * 400).status_code == 200
        received = receiver.wait(1)
        time.sleep(0.3)
        assert len(receiver.received) == 1  # only the $0.000001 threshold was crossed, once
        headers, body = received[0]
        assert verify(SECRET, body, headers[SIGNATURE_HEADER.lower()])
        event = orjson.loads(body)
        assert event["key_id"] == key["id"] and event["threshold"]["usd"] == 0.000001
        assert event["limit_usd"] == 1.0 and event["spend_usd"] > 0
        assert SECRET.encode() not in body and key["key"].encode() not in body
        view = client.get("http://testserver/__mock/alerts", headers=ADMIN).json()["data"]
        assert [(d["state"], len(d["attempts"])) for d in view] == [("delivered", 1)]
        assert SECRET not in json.dumps(view) and SECRET not in client.get(f"/api-keys/{key['id']}/alerts").text


def test_a_failing_receiver_is_retried_with_backoff(make_client):
    with Receiver(fail_first=2) as receiver:
        client = make_client(governance=_alerts_file(receiver.url, thresholds=[{"usd": 0.000001}], backoff_ms=150))
        key = new_key(client)
        assert chat(client, key["key"], "openai/gpt-4o").status_code == 200
        assert len(receiver.wait(1)) == 1
        assert receiver.answers == [500, 500, 200]
        view = client.get("http://testserver/__mock/alerts", headers=ADMIN).json()["data"][0]
        assert [a["status"] for a in view["attempts"]] == [500, 500, 200]
        gaps = [b["at"] - a["at"] for a, b in zip(view["attempts"], view["attempts"][1:], strict=False)]
        assert 0.15 <= gaps[0] < 0.3 and 0.3 <= gaps[1] < 0.45  # 150 ms, then doubled


# -- the config file ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "message"), [
    ({"access_lists": {"a": {"models": ["x/y"]}}}, "test: $.access_lists.a.models[0]: unknown model 'x/y'"),
    ({"access_lists": {"a": {"models": []}}}, "test: $.access_lists.a.models:"),
    ({"alerts": {"webhook": {"url": "ftp://x"}}}, "test: $.alerts.webhook.url:"),
    ({"alerts": {"thresholds": [{"usd": 1, "percent": 2}]}}, "test: $.alerts.thresholds[0]:"),
    ({"alerts": {"webhook": {"url": "http://x", "secret_env": "NO_SUCH_VARIABLE_HERE"}}},
     "test: $.alerts.webhook.secret_env: the environment variable NO_SUCH_VARIABLE_HERE is not set"),
    ({"guardrails": {"default": "shout"}}, "test: $.guardrails.default:"),
    ({"guardrails": {"policies": {"nope": "mask"}}}, "test: $.guardrails.policies.nope: no policy named 'nope'"),
])
def test_config_errors_are_one_line_naming_the_place(data, message):
    with pytest.raises(RoutingError) as raised:
        parse_governance(data, "test", CATALOG)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_the_example_file_loads_and_bad_files_stop_the_cli_with_one_line(tmp_path):
    from click.testing import CliRunner

    from mockserver.cli import main
    from mockserver.governance.config import load_governance

    example = load_governance("examples/governance.yml", CATALOG)
    assert example.access_lists["cheap"].allows("google/gemini-2.5-pro")
    assert example.guardrails.policies == {"safe-chat": "mask"} and example.alerts.secret
    bad = tmp_path / "bad.yml"
    bad.write_text("access_lists: {a: {models: [nope/model]}}\n")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--config", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "unknown model 'nope/model'" in result.output


def test_settings_are_kept_with_state(tmp_path, spec):
    from mockserver.config import MockConfig
    from mockserver.governance.store import KeyAlerts
    from mockserver.state import MockState

    config = MockConfig(spec=spec, state_path=str(tmp_path / "state.db"), governance=GOVERNANCE)
    first = MockState(config)
    record, _ = first.create_key(name="kept")
    first.governance.create_list("mine", ("openai/gpt-4o",))
    first.governance.attach_list(record.id, "mine")
    first.governance.set_guardrail(record.id, "mask")
    first.governance.set_alerts(record.id, KeyAlerts((threshold({"usd": 2}),), "http://127.0.0.1:9/x", "s3cr3t-value"))
    again = MockState(config)
    assert again.governance.list_for(again.keys.get(record.id)).models == ("openai/gpt-4o",)
    assert again.governance.guardrail_for(again.keys.get(record.id), None) == "mask"
    assert again.governance.alerts_for(record.id).thresholds[0].usd == 2 * 10**10
    again.reset()
    assert again.governance.list_for(again.keys.get(record.id)) is None and "mine" not in again.governance.lists
