"""--state PATH: keys and usage survive a restart and a kill -9, with nothing acknowledged lost."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from mockserver.backends import StateFileError, open_backend
from mockserver.cli import main
from tests import mock_process
from tests.acknowledged_load import CHAT, AcknowledgedLoad
from tests.conftest import ADMIN


def served(state_path):
    return mock_process.served("--state", str(state_path))


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
    with served(state) as (proc, url):
        load = AcknowledgedLoad(url)
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the load
        proc.wait(timeout=10)
        load.stop()
    assert proc.returncode == -signal.SIGKILL
    assert len(load.keys) >= 5 and load.calls >= 20, (len(load.keys), load.calls)
    print(f"acknowledged before kill -9: {len(load.keys)} keys, {load.calls} calls")
    with served(state) as (_, url):
        load.check(url)


def test_a_state_file_that_is_not_ours_is_one_line(tmp_path):
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateFileError, match="not-a-db"):
        open_backend(str(bad))
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["serve", "--port", "0", "--state", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("mockserver: error:")
