"""Record, then replay, with the official openai SDK over real sockets and the real commands.

``mockserver record`` runs in front of a served mock (the upstream, pacing its streams so that they
come in pieces); the SDK makes chat (JSON and stream), embeddings and key calls (create, list,
usage, delete) through it. Then ``mockserver serve --replay`` answers the same calls from the
recording: the bodies and the stream chunking are the recorded bytes, the SDK's results are equal,
and no secret is anywhere in the recording.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from mockserver.recording import read_exchanges
from mockserver.testing import serve_in_thread
from tests.mock_process import interrupt, start_logged

ADMIN_SECRET = "rq-admin-secret-for-recording-9f3K"
HELLO = [{"role": "user", "content": "Hello, recorder!"}]


class Tap(httpx.BaseTransport):
    """A transport that keeps every answer's body pieces as the client read them."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[str, str, list[bytes]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        pieces: list[bytes] = []
        self.seen.append((request.method, request.url.path, pieces))
        stream = response.stream

        class Kept(httpx.SyncByteStream):
            def __iter__(self):
                for piece in stream:  # type: ignore[union-attr]
                    pieces.append(piece)
                    yield piece

            def close(self) -> None:
                stream.close()  # type: ignore[union-attr]

        response.stream = Kept()
        return response

    def close(self) -> None:
        self.inner.close()


def start(args: list[str], log: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    return start_logged(["mockserver", *args], log, env)


def record(upstream: str, recording: Path, tmp_path: Path, env: dict[str, str] | None = None):
    """``mockserver record --upstream UPSTREAM --out RECORDING`` on a free port, logging to tmp_path/record.log."""
    return start(["record", "--upstream", upstream, "--port", "0", "--out", str(recording)], tmp_path / "record.log",
                 env if env is not None else dict(os.environ))


def stop(proc: subprocess.Popen) -> int:
    return interrupt(proc, timeout=15)


def session(base_url: str, tap: Tap) -> list[object]:
    """The SDK calls of a user's session; their results, as plain data."""
    with OpenAI(base_url=base_url, api_key=ADMIN_SECRET, max_retries=0, http_client=httpx.Client(transport=tap)) as sdk:
        results: list[object] = []
        chat = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
        results.append(chat.model_dump())
        stream = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, stream=True,
                                             stream_options={"include_usage": True})
        results.append([chunk.model_dump() for chunk in stream])
        results.append(sdk.embeddings.create(model="openai/text-embedding-3-small", input=["one", "two"]).model_dump())
        created = sdk.post("/api-keys", body={"name": "recorded", "limit": 5}, cast_to=object)
        results.append(created)
        results.append(sdk.get("/api-keys", cast_to=object))
        results.append(sdk.get(f"/api-keys/{created['id']}/usage", cast_to=object))
        results.append(sdk.get("/organization/usage", cast_to=object))
        results.append(sdk.delete(f"/api-keys/{created['id']}", cast_to=object))
        return results


def test_record_then_replay_with_the_openai_sdk(tmp_path, spec):
    env = {**os.environ, "MOCKSERVER_API_KEY": ADMIN_SECRET}
    recording = tmp_path / "recording"
    upstream_config = MockConfig(spec=spec, api_key=ADMIN_SECRET, tokens_per_s=40)
    with serve_in_thread(upstream_config) as upstream:
        recorder, proxy_url = record(upstream.url, recording, tmp_path, env)
        try:
            recorded_tap = Tap()
            recorded = session(proxy_url, recorded_tap)
            # A created key, used once: its secret must not reach the file either.
            secret = recorded[3]["key"]
            assert secret.startswith("rqk_")
            used = httpx.get(f"{proxy_url}/models", headers={"Authorization": f"Bearer {secret}"})
            assert used.status_code == 401  # deleted by the session
        finally:
            assert stop(recorder) == 0
    assert "9 exchanges written" in (tmp_path / "record.log").read_text()

    # No secret in any byte written.
    written = b"".join(path.read_bytes() for path in recording.rglob("*") if path.is_file())
    written += (tmp_path / "record.log").read_bytes()
    for leaked in (ADMIN_SECRET, secret, secret[4:20]):
        assert leaked.encode() not in written
    assert b"Bearer [REDACTED]" in written

    exchanges = list(read_exchanges(recording))
    assert [e.operation for e in exchanges] == [
        "createChatCompletion", "createChatCompletion", "createEmbedding", "createApiKey", "listApiKeys",
        "getApiKeyUsage", "getOrganizationUsage", "deleteApiKey", "listModels"]
    assert [e.management for e in exchanges] == [False, False, False, True, True, True, True, True, False]
    stream = exchanges[1].response
    assert stream.chunks is not None and len(stream.chunks) >= 4  # paced upstream: the stream came in pieces
    # The proxy handed on exactly what it recorded, piece by piece (the key's secret aside).
    for exchange, (_, _, pieces) in zip(exchanges, recorded_tap.seen, strict=False):
        if exchange.operation != "createApiKey":
            assert b"".join(pieces) == exchange.response.body
    assert recorded_tap.seen[1][2] == [c.data for c in stream.chunks]

    replayer, replay_url = start(["serve", "--port", "0", "--replay", str(recording), "--replay-strict",
                                  "--replay-timing", "--replay-require-all"], tmp_path / "replay.log", env)
    try:
        replayed_tap = Tap()
        replayed = session(replay_url, replayed_tap)
        replayed_models = httpx.get(f"{replay_url}/models", headers={"Authorization": f"Bearer {ADMIN_SECRET}"})
        coverage = httpx.get(replay_url.rsplit("/v1", 1)[0] + "/__mock/replay",
                             headers={"Authorization": f"Bearer {ADMIN_SECRET}"}).json()
    finally:
        code = stop(replayer)
    log = (tmp_path / "replay.log").read_text()
    assert code == 0, log
    assert coverage["used"] == coverage["recordings"] == 9 and coverage["unused"] == coverage["unmatched"] == []
    assert "9 of 9 recordings used, 0 never used; 0 requests matched none" in log

    # Byte-identical bodies, the stream in its recorded pieces, and the SDK's results equal.
    for exchange, (method, path, pieces) in zip(exchanges, replayed_tap.seen, strict=False):
        assert (method, path) == (exchange.request.method, exchange.request.path)
        assert b"".join(pieces) == exchange.response.body
    assert replayed_models.content == exchanges[-1].response.body
    assert replayed_tap.seen[1][2] == [c.data for c in stream.chunks]
    assert replayed[3]["key"] == "[REDACTED]"
    recorded[3]["key"] = "[REDACTED]"
    assert replayed == recorded


def test_unused_recordings_fail_require_all_and_are_listed(tmp_path, spec):
    recording = tmp_path / "rec"
    with serve_in_thread(MockConfig(spec=spec, api_key=DEFAULT_API_KEY)) as upstream:
        recorder, proxy_url = record(upstream.url, recording, tmp_path)
        try:
            headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
            assert httpx.get(f"{proxy_url}/models", headers=headers).status_code == 200
            assert httpx.post(f"{proxy_url}/embeddings", headers=headers,
                              json={"model": "openai/text-embedding-3-small", "input": "x"}).status_code == 200
        finally:
            stop(recorder)
    replayer, url = start(["serve", "--port", "0", "--replay", str(recording), "--replay-require-all"],
                          tmp_path / "replay.log", dict(os.environ))
    try:
        assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).status_code == 200
        assert httpx.get(f"{url}/organization/usage",
                         headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).status_code == 200  # generated
    finally:
        code = stop(replayer)
    log = (tmp_path / "replay.log").read_text()
    assert code == 1
    assert "1 of 2 recordings used, 1 never used; 1 requests matched none" in log
    assert re.search(r"never used: \S+\.jsonl:3 POST /v1/embeddings", log)
    assert "unmatched:  1x GET /v1/organization/usage" in log
    assert "error: 1 recordings were never used (--replay-require-all)" in log


@pytest.mark.parametrize("name, content", [
    ("garbage.jsonl", b"\x00\x01 not json at all"),
    ("wrong.jsonl", b'{"format": "something-else"}\n'),
    ("empty.jsonl", b""),
    ("cut.jsonl", b'{"format": "mockserver-recording", "version": 1}\n{"id": 1, "request": {"method": "GET", "pa'),
    ("bad.har", b'{"log": {"entries": [{"request": {"url": "http://x/v1/models"}}]}}'),
    ("notjson.har", b"<html>"),
])
def test_an_invalid_recording_is_one_line_and_exit_2(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--replay", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mockserver: error: ") and str(path) in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["record", "--upstream", "ftp://x"], "--upstream must be an http(s) URL"),
    (["record", "--upstream", "http://127.0.0.1:9", "--config", "/nonexistent.yml"], "cannot read"),
    (["export-har", "/nonexistent", "-o", "x.har"], "no such recording"),
    (["serve", "--port", "0", "--replay", "."], "no recording in this directory"),
    (["serve", "--port", "0", "--replay-strict"], "need --replay DIR|FILE"),
    (["serve", "--port", "0", "--replay", "/nonexistent", "--replay-config", "/nonexistent.yml"], "cannot read"),
])
def test_bad_record_options_are_one_line_and_exit_2(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "mockserver", *args, *(["--port", "0", "--out", str(tmp_path / "r")]
                                                                        if args[0] == "record" else [])],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_upstream_is_a_502_in_the_error_shape_and_recorded(tmp_path):
    recording = tmp_path / "rec"
    recorder, url = record("http://127.0.0.1:9/v1", recording, tmp_path)
    try:
        answer = httpx.get(f"{url}/models", headers={"Authorization": "Bearer sk-should-not-leak-123"})
    finally:
        stop(recorder)
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "upstream_unreachable"
    (exchange,) = read_exchanges(recording)
    assert exchange.response is None and exchange.error.startswith("upstream unreachable")
    assert b"sk-should-not-leak" not in next(recording.iterdir()).read_bytes()


def test_export_har_then_replay_the_har(tmp_path, spec):
    recording = tmp_path / "rec"
    with serve_in_thread(MockConfig(spec=spec, api_key=DEFAULT_API_KEY, tokens_per_s=200)) as upstream:
        recorder, proxy_url = record(upstream.url, recording, tmp_path)
        try:
            with OpenAI(base_url=proxy_url, api_key=DEFAULT_API_KEY, max_retries=0) as sdk:
                before = [c.model_dump() for c in sdk.chat.completions.create(model="openai/gpt-4o-mini",
                                                                              messages=HELLO, stream=True)]
        finally:
            stop(recorder)
    har = tmp_path / "session.har"
    done = subprocess.run([sys.executable, "-m", "mockserver", "export-har", str(recording), "-o", str(har)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 exchanges written" in done.stderr
    replayer, url = start(["serve", "--port", "0", "--replay", str(har), "--replay-strict"], tmp_path / "replay.log",
                          dict(os.environ))
    try:
        with OpenAI(base_url=url, api_key=DEFAULT_API_KEY, max_retries=0) as sdk:
            after = [c.model_dump() for c in sdk.chat.completions.create(model="openai/gpt-4o-mini",
                                                                         messages=HELLO, stream=True)]
    finally:
        stop(replayer)
    assert after == before


def test_a_client_that_drops_a_stream_stops_it_upstream_and_is_recorded_incomplete(tmp_path, spec):
    recording = tmp_path / "rec"
    with serve_in_thread(MockConfig(spec=spec, api_key=DEFAULT_API_KEY, tokens_per_s=5)) as upstream:
        recorder, url = record(upstream.url, recording, tmp_path)
        try:
            body = {"model": "openai/gpt-4o-mini", "stream": True,
                    "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}]}
            started = time.monotonic()
            with httpx.stream("POST", f"{url}/chat/completions", json=body,
                              headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}) as answer:
                next(answer.iter_raw())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not list(read_exchanges(recording)):
                time.sleep(0.05)
            ended = time.monotonic() - started
        finally:
            stop(recorder)
    (exchange,) = read_exchanges(recording)
    assert exchange.complete is False and exchange.error == "client dropped the answer"
    assert exchange.response.chunks and b"[DONE]" not in exchange.response.body
    assert ended < 3  # the whole stream takes over 4 s at 5 tokens/s: the proxy stopped reading it
    replay = subprocess.run([sys.executable, "-c", "from mockserver.recording.replay import load_replay;"
                             f"print(load_replay({str(recording)!r}).coverage()['skipped'])"],
                            capture_output=True, text=True, timeout=60)
    assert replay.stdout.strip() == "1"
