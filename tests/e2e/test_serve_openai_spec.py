"""``mockserver serve --spec`` with OpenAI's published spec, as a new user runs it: warnings, then a working server."""

from __future__ import annotations

import httpx

from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import load_spec
from tests.e2e.served import OPENAI, served


def test_openai_spec_is_served_with_one_warning_per_defect(tmp_path):
    with served(OPENAI, tmp_path / "cache") as mock:
        url = mock.url
        answer = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}, timeout=10)
        assert answer.status_code == 200
        speech = httpx.post(f"{url}/audio/speech", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
                            json={"model": "openai/tts-1", "input": "Hello there.", "voice": "alloy"}, timeout=10)
        assert speech.status_code == 200 and speech.headers["content-type"] == "application/octet-stream"
        assert speech.content[:2] == b"\xff\xfb"  # MPEG audio frames, sent as the octet-stream OpenAI documents
        assert "serving OpenAI API (288 operations)" in mock.banner[0]
        assert mock.ready < 30  # generous for a shared machine: docs/benchmarks.md has the measured ~2 s
    warnings = [line for line in mock.stderr if line.startswith("mockserver: warning: ")]
    assert len(warnings) == len(load_spec(OPENAI).defects) >= 10
    assert any("ContainerResource/required" in line for line in warnings)
