"""Stream pacing on a real port: time to first token and tokens per second delay the stream (lower bounds only)."""

from __future__ import annotations

import time

import httpx

from tests.conftest import ADMIN

BODY = {"messages": [{"role": "user", "content": "one two three four five six"}], "stream": True}


def first_and_last(url, headers=None, tokens=None):
    """Seconds to the first content chunk and to the end of a streamed chat answer (content chunks into ``tokens``)."""
    started = time.perf_counter()
    first = None
    with httpx.stream("POST", f"{url}/chat/completions", json=BODY, headers={**ADMIN, **(headers or {})}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if '"content":"' in line and '"content":""' not in line:
                first = first if first is not None else time.perf_counter() - started
                if tokens is not None:
                    tokens.append(line)
    return first, time.perf_counter() - started


def test_ttft_option_delays_the_first_token(serve):
    first, _ = first_and_last(serve(ttft_ms=150).url)
    assert first >= 0.15


def test_pacing_headers_delay_first_token_and_the_rest(serve):
    url = serve().url
    # 9 tokens: "You", " said", ":", " one", ... " six": the first after 100 ms, then 8 gaps at 40 tokens/s.
    tokens: list[str] = []
    first, total = first_and_last(url, {"X-Mock-TTFT-Ms": "100", "X-Mock-Tokens-Per-S": "40"}, tokens)
    assert len(tokens) == 9
    assert first >= 0.1
    assert total >= 0.1 + 8 / 40


def test_responses_and_messages_streams_are_paced_as_chat(serve):
    """The same 9 tokens through the other two APIs: the first after 100 ms, then 8 gaps at 40 tokens/s."""
    url = serve().url
    text = BODY["messages"][0]["content"]
    calls = [("/responses", {"model": "openai/gpt-4o-mini", "input": text, "stream": True},
              "event: response.output_text.delta"),
             ("/messages", {"model": "openai/gpt-4o-mini", "max_tokens": 50, "stream": True, "messages": BODY["messages"]},
              "event: content_block_delta")]
    for path, body, token_event in calls:
        started = time.perf_counter()
        times = []
        headers = {**ADMIN, "X-Mock-TTFT-Ms": "100", "X-Mock-Tokens-Per-S": "40"}
        with httpx.stream("POST", f"{url}{path}", json=body, headers=headers) as response:
            assert response.status_code == 200
            times = [time.perf_counter() - started for line in response.iter_lines() if line == token_event]
        assert len(times) == 9 and times[0] >= 0.1 and times[-1] >= 0.1 + 8 / 40, (path, times)


def test_the_ttft_option_delays_responses_and_messages_streams(serve):
    url = serve(ttft_ms=150).url
    for path, body in (("/responses", {"model": "openai/gpt-4o-mini", "input": "hi", "stream": True}),
                       ("/messages", {"model": "openai/gpt-4o-mini", "max_tokens": 9, "stream": True,
                                      "messages": [{"role": "user", "content": "hi"}]})):
        started = time.perf_counter()
        with httpx.stream("POST", f"{url}{path}", json=body, headers=ADMIN) as response:
            first = next(response.iter_lines())
        assert first.startswith("event: ") and time.perf_counter() - started >= 0.15
