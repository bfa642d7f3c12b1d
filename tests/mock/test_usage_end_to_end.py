"""Usage reports add up to the calls the official SDKs made: chat, streams, embeddings, the Responses API and
Anthropic's Messages API (JSON and streams), concurrently."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import anthropic
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from mockserver.auth import DEFAULT_API_KEY
from tests.mock.test_ledger import assert_consistent, exact, expected_report

CHAT_MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-20250514", "deepseek/deepseek-chat"]
EMBEDDING_MODEL = "openai/text-embedding-3-small"


def sdk(url: str, key: str, cls=OpenAI):
    return cls(base_url=url, api_key=key, max_retries=0, timeout=30)


async def one_call(client: AsyncOpenAI, claude: anthropic.AsyncAnthropic, n: int) -> tuple[str, dict]:
    """Call number ``n``: a chat, a stream with usage, an embedding, a response or a message (each as JSON or a
    stream); return (model, usage it reported, as total_tokens and cost)."""
    text = f"call {n}: " + "tell me about gateways " * (n % 7 + 1)
    kind = (n // 5) % 5  # call n goes to key n % 5: each key gets every kind
    model = CHAT_MODELS[n % len(CHAT_MODELS)]
    streamed = (n // 25) % 2 == 1
    if kind == 3:
        if streamed:
            # The last event: response.completed, or response.incomplete when max_output_tokens cut the reply
            # (which the SDK's get_final_response() refuses, as with OpenAI).
            async with client.responses.stream(model=model, input=text, max_output_tokens=20 + n % 30) as stream:
                answer = [event async for event in stream][-1].response
        else:
            answer = await client.responses.create(model=model, input=text, max_output_tokens=20 + n % 30)
        return answer.model, answer.usage.model_dump()
    if kind == 4:
        request = {"model": model, "max_tokens": 20 + n % 30, "messages": [{"role": "user", "content": text}]}
        if streamed:
            async with claude.messages.stream(**request) as stream:
                cost = [event.usage.cost async for event in stream if event.type == "message_delta"][0]
                message = await stream.get_final_message()
        else:
            message = await claude.messages.create(**request)
            cost = message.usage.cost
        usage = message.usage
        return message.model, {"total_tokens": usage.input_tokens + usage.output_tokens, "cost": cost}
    if kind == 0:
        answer = await client.chat.completions.create(
            model=CHAT_MODELS[n % len(CHAT_MODELS)], messages=[{"role": "user", "content": text}], max_tokens=20 + n % 30)
        return answer.model, answer.usage.model_dump()
    if kind == 1:
        stream = await client.chat.completions.create(
            model=CHAT_MODELS[n % len(CHAT_MODELS)], messages=[{"role": "user", "content": text}],
            stream=True, stream_options={"include_usage": True})
        chunks = [chunk async for chunk in stream]
        return chunks[-1].model, chunks[-1].usage.model_dump()
    answer = await client.embeddings.create(model=EMBEDDING_MODEL, input=[text, text[::-1]])
    return answer.model, answer.usage.model_dump()


def test_reports_equal_the_sum_of_200_concurrent_calls_of_three_apis_over_5_keys(serve):
    mock = serve()
    admin = sdk(mock.url, DEFAULT_API_KEY)
    keys = [admin.post("/api-keys", body={"name": f"k{n}"}, cast_to=dict) for n in range(5)]

    async def run():
        clients = [sdk(mock.url, key["key"], AsyncOpenAI) for key in keys]
        claudes = [anthropic.AsyncAnthropic(base_url=mock.origin, api_key=key["key"], max_retries=0, timeout=30)
                   for key in keys]
        results = await asyncio.gather(*(one_call(clients[n % 5], claudes[n % 5], n) for n in range(200)))
        for client in [*clients, *claudes]:
            await client.close()
        return results

    results = asyncio.run(run())
    calls = [(keys[n % 5]["id"], model, {k: v for k, v in usage.items() if v is not None})
             for n, (model, usage) in enumerate(results)]
    assert all(usage["cost"] > 0 for _, _, usage in calls)
    org = admin.get("/organization/usage", cast_to=dict)
    assert exact(org) == expected_report(calls)
    assert_consistent(exact(org))
    for key in keys:
        report = admin.get(f"/api-keys/{key['id']}/usage", cast_to=dict)
        assert exact(report) == expected_report([c for c in calls if c[0] == key["id"]])
        assert report["total_requests"] == 40


def test_a_key_over_its_limit_is_refused_and_works_again_once_raised(serve):
    mock = serve()
    admin = sdk(mock.url, DEFAULT_API_KEY)
    key = admin.post("/api-keys", body={"name": "limited"}, cast_to=dict)
    client = sdk(mock.url, key["key"])
    request = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "a fixed question"}]}
    cost = Decimal(repr(client.chat.completions.create(**request).usage.cost))
    admin.patch(f"/api-keys/{key['id']}/limit", body={"limit": float(cost * Decimal("2.5"))}, cast_to=dict)
    client.chat.completions.create(**request)  # 2 x cost spent
    client.chat.completions.create(**request)  # 3 x cost: over the limit now
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(**request)
    assert refused.value.status_code == 402
    assert refused.value.body["code"] == "key_limit_exceeded"
    with pytest.raises(openai.APIStatusError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="x")
    with pytest.raises(openai.APIStatusError) as refused:
        client.responses.create(model="openai/gpt-4o", input="a fixed question")
    assert refused.value.status_code == 402 and refused.value.body["code"] == "key_limit_exceeded"
    claude = anthropic.Anthropic(base_url=mock.origin, api_key=key["key"], max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as refused_message:
        claude.messages.create(model="openai/gpt-4o", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert refused_message.value.status_code == 402
    assert refused_message.value.body == {"type": "error", "error": {"type": "billing_error",
                                                                     "message": refused_message.value.body["error"]["message"]}}
    report = admin.get(f"/api-keys/{key['id']}/usage", cast_to=dict)
    assert report["total_requests"] == 3 and Decimal(repr(report["total_cost"])) == 3 * cost
    admin.patch(f"/api-keys/{key['id']}/limit", body={"limit": float(cost * 10)}, cast_to=dict)
    assert client.chat.completions.create(**request).choices[0].message.content


def test_a_deleted_key_gets_401_and_its_id_404(serve):
    mock = serve()
    admin = sdk(mock.url, DEFAULT_API_KEY)
    key = admin.post("/api-keys", body={"name": "short-lived"}, cast_to=dict)
    client = sdk(mock.url, key["key"])
    assert client.models.list().data  # authenticates at once
    admin.delete(f"/api-keys/{key['id']}", cast_to=dict)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError):
        admin.get(f"/api-keys/{key['id']}", cast_to=dict)


def test_limits_under_concurrent_load_overshoot_by_the_calls_in_flight_only(serve):
    """The guarantee: a call is admitted if the key's spend is under its limit when the call starts, so a key
    overshoots by at most the calls admitted before the limit was reached; once they are recorded, all is refused."""
    mock = serve(ttft_ms=50, tokens_per_s=400)  # paced streams, so the calls of a burst overlap
    admin = sdk(mock.url, DEFAULT_API_KEY)
    request = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "the same question"}]}
    probe = admin.post("/api-keys", body={"name": "probe"}, cast_to=dict)
    cost = Decimal(repr(sdk(mock.url, probe["key"]).chat.completions.create(**request).usage.cost))
    keys = [admin.post("/api-keys", body={"name": f"k{n}", "limit": float(cost * Decimal("2.5"))}, cast_to=dict)
            for n in range(5)]
    in_flight = 8

    async def call(client: AsyncOpenAI) -> int:
        try:
            stream = await client.chat.completions.create(**request, stream=True)
            async for _ in stream:
                pass
            return 200
        except openai.APIStatusError as error:
            return error.status_code

    async def burst() -> list[list[int]]:
        clients = [sdk(mock.url, key["key"], AsyncOpenAI) for key in keys]
        results = await asyncio.gather(*(asyncio.gather(*(call(c) for _ in range(in_flight))) for c in clients))
        after = await asyncio.gather(*(call(c) for c in clients))
        for client in clients:
            await client.close()
        return [list(r) for r in results] + [list(after)]

    *bursts, after = asyncio.run(burst())
    for key, statuses in zip(keys, bursts, strict=True):
        report = admin.get(f"/api-keys/{key['id']}/usage", cast_to=dict)
        spent = Decimal(repr(report["total_cost"]))
        assert report["total_requests"] == statuses.count(200) >= 3  # admitted while under the limit
        assert spent <= cost * Decimal("2.5") + in_flight * cost  # the overshoot bound
        assert set(statuses) <= {200, 402}
    assert after == [402] * 5  # recorded: every key is now over its limit
