"""--state PATH: keys and usage survive a restart and a kill -9, with nothing acknowledged lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from mockserver.accounts.sqlite_store import StateFileError, open_stores
from mockserver.cli import main

ADMIN = {"Authorization": "Bearer rq-mock-admin-key"}
CHAT = {"model": "openai/gpt-4o-mini", "max_tokens": 16}


@contextmanager
def served(state_path):
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", str(state_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = next(line.split("base URL:")[1].strip() for line in lines if "base URL:" in line)
        for _ in range(100):
            try:
                httpx.get(f"{url}/models", headers=ADMIN)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)


def test_keys_and_usage_survive_a_restart(tmp_path):
    state = tmp_path / "state.db"
    with served(state) as (_, url):
        key = httpx.post(f"{url}/api-keys", json={"name": "kept", "labels": ["a"], "limit": 5}, headers=ADMIN).json()
        answer = httpx.post(f"{url}/chat/completions", json={**CHAT, "messages": [{"role": "user", "content": "hi"}]},
                            headers={"Authorization": f"Bearer {key['key']}", "X-Title": "persisted"}).json()
        httpx.patch(f"{url}/api-keys/{key['id']}/limit", json={"limit": 7.5}, headers=ADMIN)
        huge = httpx.post(f"{url}/api-keys", json={"name": "huge", "limit": 1e300}, headers=ADMIN)
        assert huge.status_code == 200, huge.text  # amounts beyond 64 bits are kept as decimal text
        before = httpx.get(f"{url}/organization/usage", headers=ADMIN).json()
    with served(state) as (_, url):
        kept = httpx.get(f"{url}/api-keys/{key['id']}", headers=ADMIN).json()
        assert (kept["name"], kept["labels"], kept["limit"]) == ("kept", ["a"], 7.5) and "key" not in kept
        assert httpx.get(f"{url}/api-keys/{huge.json()['id']}", headers=ADMIN).json()["limit"] == 1e300
        assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key['key']}"}).status_code == 200
        assert httpx.get(f"{url}/organization/usage", headers=ADMIN).json() == before
        usage = httpx.get(f"{url}/api-keys/{key['id']}/usage", headers=ADMIN).json()
        assert usage["total_tokens"] == answer["usage"]["total_tokens"]
        httpx.delete(f"{url}/api-keys/{key['id']}", headers=ADMIN)
    with served(state) as (_, url):
        assert httpx.get(f"{url}/api-keys/{key['id']}", headers=ADMIN).status_code == 404
        assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key['key']}"}).status_code == 401


def test_nothing_acknowledged_is_lost_to_kill_9_under_load(tmp_path):
    state = tmp_path / "state.db"
    acknowledged_keys: dict[str, str] = {}
    acknowledged_usage: dict[str, list[dict]] = defaultdict(list)
    lock = threading.Lock()
    stop = threading.Event()
    workers = 8

    def work(url: str, n: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as http:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    if i % 4 == 1 or not acknowledged_keys:
                        key = http.post("/api-keys", json={"name": f"w{n}-{i}"}, headers=ADMIN)
                        if key.status_code == 200:
                            with lock:
                                acknowledged_keys[key.json()["id"]] = key.json()["key"]
                    else:
                        with lock:
                            key_id, secret = list(acknowledged_keys.items())[(n + i) % len(acknowledged_keys)]
                        answer = http.post("/chat/completions", headers={"Authorization": f"Bearer {secret}"},
                                           json={**CHAT, "messages": [{"role": "user", "content": f"call {n} {i}"}]})
                        if answer.status_code == 200:
                            with lock:
                                acknowledged_usage[key_id].append(answer.json()["usage"])
                except httpx.TransportError:
                    return

    with served(state) as (proc, url):
        threads = [threading.Thread(target=work, args=(url, n)) for n in range(workers)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the load
        proc.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    calls = sum(len(v) for v in acknowledged_usage.values())
    assert len(acknowledged_keys) >= 5 and calls >= 20, (len(acknowledged_keys), calls)
    print(f"acknowledged before kill -9: {len(acknowledged_keys)} keys, {calls} calls")

    with served(state) as (_, url):
        listed = {k["id"] for k in httpx.get(f"{url}/api-keys", headers=ADMIN).json()["data"]}
        assert set(acknowledged_keys) <= listed
        for key_id, secret in acknowledged_keys.items():
            assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
            report = httpx.get(f"{url}/api-keys/{key_id}/usage", headers=ADMIN).json()
            seen = acknowledged_usage.get(key_id, [])
            # Every acknowledged call is there; at most the calls in flight at the kill were recorded unacknowledged.
            assert len(seen) <= report["total_requests"] <= len(seen) + workers
            assert Decimal(repr(report["total_cost"])) >= sum((Decimal(repr(u["cost"])) for u in seen), Decimal(0))
        org = httpx.get(f"{url}/organization/usage", headers=ADMIN).json()
        assert calls <= org["total_requests"] <= calls + workers


def test_a_state_file_that_is_not_ours_is_one_line(tmp_path):
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateFileError, match="not-a-db"):
        open_stores(bad)
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["serve", "--port", "0", "--state", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("mockserver: error:")
