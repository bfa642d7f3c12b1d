"""``contract-tests proxy`` in front of a served mock, with the official openai SDK as the client.

The proxy runs as the real command in a subprocess; the SDK's calls (chat JSON and stream,
embeddings, the catalog, a key created, used, read and deleted, usage reports) pass through it.
The reports are rewritten while traffic flows, and Ctrl-C (SIGINT) writes the final one and
exits 0, or 1 when the upstream broke a MUST. No secret reaches a report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from openai import OpenAI

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.testing import serve_in_thread
from tests.faults import FAULTS, FaultMiddleware
from tests.mock_process import interrupt, start_logged

ADMIN = "rq-admin-secret-for-audit-proxy-7Qx"
HELLO = [{"role": "user", "content": "Hello, auditor!"}]


def start_proxy(upstream: str, report_dir: Path, log: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    return start_logged(["contract_tests", "proxy", "--upstream", upstream, "--port", "0", "--report-dir",
                         str(report_dir), *extra], log)


def sdk_session(base_url: str) -> int:
    """A user's session through the proxy; returns how many requests it made."""
    with OpenAI(base_url=base_url, api_key=ADMIN, max_retries=0) as sdk:
        sdk.models.list()
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, max_tokens=8)
        stream = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, stream=True,
                                             stream_options={"include_usage": True})
        assert [chunk for chunk in stream]
        sdk.embeddings.create(model="openai/text-embedding-3-small", input=["one", "two"])
        created = sdk.post("/api-keys", body={"name": "audited"}, cast_to=object)
        path = f"/api-keys/{created['id']}"
        sdk.get(f"{path}/usage", cast_to=object)
        with OpenAI(base_url=base_url, api_key=created["key"], max_retries=0) as user:
            user.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, max_tokens=4)
        sdk.get(f"{path}/usage", cast_to=object)
        sdk.get("/organization/usage", cast_to=object)
        sdk.delete(path, cast_to=object)
        return 10


def outcome(report: dict, check: str) -> str:
    return next(r["outcome"] for r in report["results"] if r["check"] == check)


def test_the_sdk_through_the_proxy_every_exchange_judged_and_ctrl_c_writes_the_report(tmp_path):
    with serve_in_thread(MockConfig(api_key=ADMIN)) as mock:
        proc, base = start_proxy(mock.url, tmp_path / "reports", tmp_path / "proxy.log", "--every", "1000",
                                 "--interval", "0.5")
        try:
            requests = sdk_session(base)
            deadline = time.monotonic() + 20  # rewritten by the clock once traffic pauses, before any Ctrl-C
            while time.monotonic() < deadline:
                shown = tmp_path / "reports" / "report.json"
                if shown.exists() and json.loads(shown.read_text())["requests"] == requests:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("the report was not rewritten while the traffic flowed")
        finally:
            code = interrupt(proc)
    log = (tmp_path / "proxy.log").read_text()
    assert code == 0, log
    assert "Traceback" not in log and "conforms" in log
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["requests"] == requests and report["profile"] == "audit"
    assert len((tmp_path / "reports" / "run.log").read_text().splitlines()) == requests  # every exchange, listed
    judged = {r["check"] for r in report["results"] if r["outcome"] == "pass"}
    assert {"sse.done_last", "sse.usage_chunk", "usage.cost_matches_prices", "embeddings.index_order",
            "models.unique_ids", "reports.breakdown_sums", "reports.org_covers_keys", "schema:status_code_conformance",
            "schema:response_schema_conformance"} <= judged
    # The proxy saw the credentials: the checks that tie calls to keys are judged too.
    assert {"keys.created_key_authenticates", "reports.grow_by_calls"} <= judged
    assert outcome(report, "schema:negative_data_rejection") == "skip"
    for name in ("report.json", "report.md", "report.html", "junit.xml", "run.log"):
        assert ADMIN not in (tmp_path / "reports" / name).read_text()


def test_a_faulty_upstream_is_named_and_ctrl_c_exits_1(tmp_path):
    app = FaultMiddleware(create_app(MockConfig(api_key=ADMIN)), FAULTS["sse.done_last"], admin_key=ADMIN)
    with serve_in_thread(app=app) as gateway:
        proc, base = start_proxy(gateway.url, tmp_path / "reports", tmp_path / "proxy.log", "--every", "1",
                                 "--interval", "600")
        try:
            response = httpx.post(f"{base}/chat/completions", headers={"Authorization": f"Bearer {ADMIN}"},
                                  json={"model": "openai/gpt-4o-mini", "messages": HELLO, "stream": True}, timeout=30)
            assert response.status_code == 200 and "[DONE]" not in response.text
            shown = tmp_path / "reports" / "report.json"
            deadline = time.monotonic() + 20  # rewritten after each exchange (--every 1), before any Ctrl-C
            while not (shown.exists() and json.loads(shown.read_text())["exit_code"] == 1):
                assert time.monotonic() < deadline, "the report was not rewritten after the exchange"
                time.sleep(0.1)
        finally:
            code = interrupt(proc)
    log = (tmp_path / "proxy.log").read_text()
    assert code == 1, log
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    failed = next(r for r in report["results"] if r["check"] == "sse.done_last")
    assert failed["outcome"] == "fail"
    finding = failed["findings"][0]
    assert finding["message"].startswith("proxy exchange 1: stream: no `data: [DONE]` event")
    assert finding["curl"].startswith("curl ") and ADMIN not in json.dumps(report)


def test_bad_proxy_options_are_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "contract_tests", "proxy", "--upstream", "ftp://nowhere", "--port", "0",
                           "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("contract-tests: error: --upstream must be an http(s) URL")
    assert len(done.stderr.strip().splitlines()) == 1
