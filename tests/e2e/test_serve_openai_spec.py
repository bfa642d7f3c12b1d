"""``mockserver serve --spec`` with OpenAI's published spec, as a new user runs it: warnings, then a working server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mockserver.auth import DEFAULT_API_KEY
from mockserver.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
OPENAI = ROOT / "tests" / "data" / "openai-openapi.yaml"


def test_openai_spec_is_served_with_one_warning_per_defect(tmp_path):
    env = {**os.environ, "MOCKSERVER_CACHE_DIR": str(tmp_path / "cache")}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--spec", str(OPENAI), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        lines = []
        while not any("base URL" in line for line in lines):
            line = proc.stdout.readline()
            assert line, f"exited early: {proc.stderr.read()[-2000:]}"
            lines.append(line)
        url = re.search(r"base URL:\s+(\S+)", "".join(lines)).group(1)
        ready = time.monotonic() - started
        answer = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}, timeout=10)
        assert answer.status_code == 200
        speech = httpx.post(f"{url}/audio/speech", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
                            json={"model": "openai/tts-1", "input": "Hello there.", "voice": "alloy"}, timeout=10)
        assert speech.status_code == 200 and speech.headers["content-type"] == "application/octet-stream"
        assert speech.content[:2] == b"\xff\xfb"  # MPEG audio frames, sent as the octet-stream OpenAI documents
        assert "serving OpenAI API (288 operations)" in lines[0]
        assert ready < 30  # generous for a shared machine: docs/benchmarks.md has the measured ~2 s
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    warnings = [line for line in proc.stderr.read().splitlines() if line.startswith("mockserver: warning: ")]
    assert len(warnings) == len(load_spec(OPENAI).defects) >= 10
    assert any("ContainerResource/required" in line for line in warnings)
