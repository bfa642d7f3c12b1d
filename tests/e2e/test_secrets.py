"""After a busy run, no secret is in any log, journal, state file or report.

The mock runs as its own process with its admin key from the environment (so
its start-up lines mask it), serves created keys, streams and errors, and the
conformance suite runs against it; then every byte they wrote is searched for
the admin key, every created key, and anything shaped like a key secret.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

ADMIN_SECRET = "rq-admin-secret-Zq8v2N4kLm"
SECRET_SHAPE = re.compile(rb"rqk_[A-Za-z0-9_-]{43}")


def test_no_secret_in_logs_journal_state_or_reports(tmp_path):
    state, log = tmp_path / "state.db", tmp_path / "mock.log"
    env = {**os.environ, "MOCKSERVER_API_KEY": ADMIN_SECRET, "REQUESTY_API_KEY": ADMIN_SECRET}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", str(state)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            url = _wait_for_url(log)
            admin = {"Authorization": f"Bearer {ADMIN_SECRET}"}
            secrets = []
            for n in range(3):
                created = httpx.post(f"{url}/api-keys", json={"name": f"k{n}", "limit": 1}, headers=admin).json()
                secrets.append(created["key"])
                as_key = {"Authorization": f"Bearer {created['key']}", "X-Title": "secrets test"}
                chat = {"messages": [{"role": "user", "content": f"my key is {created['key']}"}]}
                assert httpx.post(f"{url}/chat/completions", json=chat, headers=as_key).status_code == 200
                httpx.post(f"{url}/chat/completions", json={**chat, "stream": True}, headers=as_key)
                httpx.get(f"{url}/api-keys", headers=as_key)  # 403: a created key may not manage
            httpx.delete(f"{url}/api-keys/{httpx.get(f'{url}/api-keys', headers=admin).json()['data'][0]['id']}",
                         headers=admin)
            assert httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {secrets[0]}"}).status_code == 401
            journal = httpx.get(f"{url.rsplit('/v1', 1)[0]}/__mock/journal?limit=1000", headers=admin)
            assert journal.status_code == 200 and len(journal.json()["data"]) >= 10
            (tmp_path / "journal.json").write_bytes(journal.content)
            suite = subprocess.run([sys.executable, "-m", "contract_tests", "run", "--base-url", url,
                                    "--report-dir", str(tmp_path / "reports"), "--junit", str(tmp_path / "junit.xml")],
                                   capture_output=True, env=env, timeout=300)
            (tmp_path / "suite.out").write_bytes(suite.stdout + suite.stderr)
            assert suite.returncode == 0, suite.stdout.decode()[-2000:]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)

    written = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert {p.name for p in written} >= {"mock.log", "state.db", "journal.json", "suite.out", "junit.xml",
                                        "report.json", "report.md", "report.html", "run.log"}
    for path, data in written.items():
        for secret in [ADMIN_SECRET, *secrets]:
            assert secret.encode() not in data, f"{secret[:6]}… found in {path.name}"
        assert not SECRET_SHAPE.search(data), f"a key secret found in {path.name}"
    assert b"admin key: rq-" in written[log] and b"(from $MOCKSERVER_API_KEY)" in written[log]


def _wait_for_url(log) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = re.search(rb"base URL:\s+(\S+)", log.read_bytes())
        if found:
            url = found.group(1).decode()
            for _ in range(100):
                try:
                    httpx.get(f"{url}/models")
                    return url
                except httpx.TransportError:
                    time.sleep(0.05)
        time.sleep(0.05)
    raise AssertionError(f"the mock did not start: {log.read_text()}")
