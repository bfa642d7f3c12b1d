"""How another project tests its client code against the mock: only the fixture and the OpenAI and Anthropic SDKs.

Installing llm-gateway-contracts registers the ``requesty_mock`` fixture; nothing
here imports the mock itself.
"""

import asyncio

import openai
import pytest

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def test_the_mock_answers_the_sdk(requesty_mock):
    client = openai.OpenAI(base_url=requesty_mock.url, api_key=requesty_mock.api_key, max_retries=0)
    assert client.chat.completions.create(**CHAT).choices


def test_rate_limit_carries_the_retry_time(requesty_mock):
    requesty_mock.rate_limits(rpm=1)
    client = requesty_mock.openai()
    client.models.list()
    with pytest.raises(openai.RateLimitError) as info:
        client.models.list()
    assert int(info.value.response.headers["retry-after"]) > 0


def test_faults_are_reset_between_tests(requesty_mock):
    requesty_mock.openai().models.list()  # the previous test's limit is gone
    assert requesty_mock.journal(1)[0]["status"] == 200


def test_unavailable_model_is_a_503(requesty_mock):
    requesty_mock.unavailable("openai/gpt-4o-mini")
    with pytest.raises(openai.InternalServerError) as info:
        requesty_mock.openai().chat.completions.create(**CHAT)
    assert info.value.status_code == 503 and info.value.code == "model_unavailable"


def test_every_request_fails_at_rate_one(requesty_mock):
    requesty_mock.error_rate(502, 1.0, operations=["createChatCompletion"])
    with pytest.raises(openai.InternalServerError):
        requesty_mock.openai().chat.completions.create(**CHAT)
    assert requesty_mock.journal(1)[0]["fault"] == "error:502"


def test_a_per_request_header_forces_one_error(requesty_mock):
    client = requesty_mock.openai()
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT, extra_headers={"Prefer": "code=429"})
    assert client.chat.completions.create(**CHAT).choices


def test_in_process_without_a_socket(requesty_mock):
    async def main():
        async with requesty_mock.async_openai(in_process=True) as client:
            return await client.models.list()

    assert asyncio.run(main()).data is not None


def test_the_anthropic_factory_talks_to_the_messages_api(requesty_mock):
    claude = requesty_mock.anthropic()  # anthropic.Anthropic on the mock's origin, max_retries=0
    message = claude.messages.create(model="anthropic/claude-sonnet-4-20250514", max_tokens=50,
                                     messages=[{"role": "user", "content": "Hi"}])
    assert message.content[0].text == "You said: Hi" and message.usage.cost > 0
    assert requesty_mock.journal(1)[0]["operation"] == "createAnthropicMessage"
