"""Governance end to end: a served mock (a real process), the official OpenAI SDK, a real webhook receiver.

Access lists and guardrails through the SDK; spend alerts delivered to a small HTTP server on
127.0.0.1: exactly once under 50 concurrent calls crossing the same threshold, retried after two 500s,
delivered after a ``kill -9`` and a restart with ``--state``, validly signed, with no secret in any
delivery, log or journal.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import openai
import pytest
import yaml

from mockserver.governance.alerts import SIGNATURE_HEADER, verify
from tests import mock_process
from tests.conftest import ADMIN
from tests.webhook_receiver import Receiver

SECRET = "whsec_e2e_" + "9f3a" * 8
SECRET_ENV = "MOCK_E2E_WEBHOOK_SECRET"


@contextmanager
def served(tmp_path, config: dict, state=None, name="gov.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    options = ["--config", str(path)] + (["--state", str(state)] if state is not None else [])
    with open(tmp_path / f"{name}.log", "a+") as log, \
            mock_process.served(*options, stderr=log, env={**os.environ, SECRET_ENV: SECRET}) as running:
        yield running


def output_of(tmp_path, proc, name="gov.yml") -> str:
    return (tmp_path / f"{name}.log").read_text() + (proc.stdout.read() if proc.stdout and proc.poll() is not None else "")


def new_key(url, **body):
    created = httpx.post(f"{url}/api-keys", json={"name": "e2e", **body}, headers=ADMIN)
    assert created.status_code == 200, created.text
    return created.json()


def sdk(url, secret):
    return openai.OpenAI(base_url=url, api_key=secret, max_retries=0)


POLICIES = {"mixed": {"type": "fallback", "models": ["openai/gpt-4o", "openai/gpt-4o-mini"]},
            "masked": {"type": "fallback", "models": ["openai/gpt-4o-mini"]}}


def test_access_lists_through_the_sdk(tmp_path):
    config = {"policies": POLICIES,
              "access_lists": {"cheap": {"models": ["openai/gpt-4o-mini", "openai/text-embedding-3-small"],
                                         "labels": ["interns"]}}}
    with served(tmp_path, config) as (_, url):
        client = sdk(url, new_key(url, labels=["interns"])["key"])
        hello = [{"role": "user", "content": "hello"}]
        assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=hello).choices[0].message.content
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.chat.completions.create(model="openai/gpt-4o", messages=hello)
        assert refused.value.code == "model_not_allowed" and "'cheap'" in refused.value.message
        with pytest.raises(openai.PermissionDeniedError):
            client.embeddings.create(model="openai/text-embedding-3-large", input="x")
        assert len(client.embeddings.create(model="openai/text-embedding-3-small", input="x").data) == 1
        assert client.chat.completions.create(model="policy/mixed", messages=hello).model == "openai/gpt-4o-mini"
        assert sorted(m.id for m in client.models.list()) == ["openai/gpt-4o-mini", "openai/text-embedding-3-small"]
        # created over the API and attached to one key
        made = httpx.post(f"{url}/access-lists", json={"name": "gemini", "models": ["google/*"]}, headers=ADMIN)
        assert made.status_code == 200
        other = new_key(url)
        httpx.put(f"{url}/api-keys/{other['id']}/access-list", json={"access_list": "gemini"}, headers=ADMIN)
        with pytest.raises(openai.PermissionDeniedError):
            sdk(url, other["key"]).chat.completions.create(model="openai/gpt-4o-mini", messages=hello)


def test_guardrails_through_the_sdk(tmp_path):
    email, card = "someone@example.com", "5555-5555-5555-4444"
    prompt = f"Write to {email} about card {card}."
    config = {"policies": POLICIES, "guardrails": {"default": "report", "policies": {"masked": "mask"}}}
    with served(tmp_path, config) as (proc, url):
        key = new_key(url)
        client = sdk(url, key["key"])
        messages = [{"role": "user", "content": prompt}]
        reported = client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)
        assert reported.choices[0].message.content.endswith(prompt)  # Report: the model saw it unchanged
        masked = client.chat.completions.create(model="policy/masked", messages=messages).choices[0].message.content
        assert email not in masked and card not in masked and "[EMAIL]" in masked and "[CARD_NUMBER]" in masked
        stream = client.chat.completions.create(model="policy/masked", messages=messages, stream=True)
        streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert streamed == masked
        httpx.put(f"{url}/api-keys/{key['id']}/guardrails", json={"action": "block"}, headers=ADMIN)
        with pytest.raises(openai.BadRequestError) as blocked:
            client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)
        assert blocked.value.code == "guardrail_blocked" and email not in str(blocked.value)
        journal = httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/journal", headers=ADMIN).json()["data"]
        guarded = [e for e in journal if e["violations"]]
        assert [e["guardrail"] for e in guarded] == ["block", "mask", "mask", "report"]
        assert all([v["kind"] for v in e["violations"]] == ["email", "card_number"] for e in guarded)
        assert email not in json.dumps(journal) and card not in json.dumps(journal)
    assert email not in output_of(tmp_path, proc)


def alerts_config(url, **extra):
    return {"alerts": {"webhook": {"url": url, "secret_env": SECRET_ENV}, "backoff_ms": 50, **extra}}


def assert_clean(deliveries, key_secret):
    for headers, body in deliveries:
        assert verify(SECRET, body, headers[SIGNATURE_HEADER.lower()])
        assert SECRET.encode() not in body and key_secret.encode() not in body


def test_fifty_concurrent_calls_crossing_one_threshold_deliver_once(tmp_path):
    with Receiver() as receiver, served(tmp_path, alerts_config(receiver.url)) as (proc, url):
        key = new_key(url, limit=10.0)
        httpx.put(f"{url}/api-keys/{key['id']}/alerts", json={"thresholds": [{"usd": 0.00001}, {"percent": 90}]},
                  headers=ADMIN)
        client = sdk(url, key["key"])

        def call(i):
            return client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user",
                                                                                      "content": f"hi {i} " * 20}])

        started = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(call, range(50)))
        elapsed = time.perf_counter() - started
        spend = sum(a.usage.cost for a in answers)
        assert spend > 0.00001 * 2  # every call but the crossing one is past the threshold
        receiver.wait(1)
        time.sleep(1.0)
        assert len(receiver.received) == 1, receiver.received
        assert_clean(receiver.received, key["key"])
        event = json.loads(receiver.received[0][1])
        assert event["threshold"] == {"usd": 0.00001, "amount_usd": 0.00001} and event["key_id"] == key["id"]
        assert event["limit_usd"] == 10.0 and 0.00001 <= event["spend_usd"] <= spend
        view = httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/alerts", headers=ADMIN).text
        assert SECRET not in view and key["key"] not in view
        print(f"50 concurrent calls in {elapsed:.2f} s, one delivery")
    assert SECRET not in output_of(tmp_path, proc)


def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_try(tmp_path):
    with Receiver(fail_first=2) as receiver, served(tmp_path, alerts_config(receiver.url, thresholds=[{"usd": 1e-6}])) \
            as (_, url):
        key = new_key(url)
        sdk(url, key["key"]).chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}])
        receiver.wait(1)
        assert receiver.answers == [500, 500, 200] and len(receiver.received) == 1
        assert_clean(receiver.received, key["key"])
        view = httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/alerts", headers=ADMIN).json()["data"]
        assert [(d["state"], [a["status"] for a in d["attempts"]]) for d in view] == [("delivered", [500, 500, 200])]


def test_a_pending_delivery_survives_kill_9_and_is_sent_after_the_restart(tmp_path):
    state = tmp_path / "state.db"
    with Receiver(fail_first=10**6) as receiver:
        config = alerts_config(receiver.url, thresholds=[{"usd": 1e-6}], retries=20, backoff_ms=200)
        with served(tmp_path, config, state) as (proc, url):
            key = new_key(url)
            sdk(url, key["key"]).chat.completions.create(model="openai/gpt-4o",
                                                         messages=[{"role": "user", "content": "x"}])
            deadline = time.monotonic() + 5
            while not receiver.answers and time.monotonic() < deadline:
                time.sleep(0.02)
            assert receiver.answers and not receiver.received  # tried, refused: still pending
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=5)
        receiver.fail_first = 0
        with served(tmp_path, config, state) as (proc, url):
            received = receiver.wait(1)
            assert len(received) == 1
            assert_clean(received, key["key"])
            assert json.loads(received[0][1])["key_id"] == key["id"]
            # a call after the restart is past the threshold already: no second event
            sdk(url, key["key"]).chat.completions.create(model="openai/gpt-4o",
                                                         messages=[{"role": "user", "content": "y"}])
            time.sleep(0.5)
            assert len(receiver.received) == 1
    assert SECRET not in state.read_bytes().decode("latin-1")
