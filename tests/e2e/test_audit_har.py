"""A browser session's HAR, audited: headless Chromium loads a page that calls the mock with ``fetch``
(the catalog, a chat answer, a chat stream), the DevTools protocol's ``Network.*`` events become a
HAR 1.2 file (``tests/e2e/har.py``), and ``contract-tests audit`` judges its exchanges."""

from __future__ import annotations

import json
import subprocess
import sys

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mockserver.config import MockConfig
from mockserver.testing import serve_in_thread
from tests.e2e.har import NetworkLog

ADMIN = "rq-admin-secret-for-the-browser-5Tz"
PAGE = """<!doctype html><title>chat</title><script>
async function session(base) {
  const headers = {"Authorization": "Bearer ADMIN_KEY", "Content-Type": "application/json"};
  const chat = {model: "openai/gpt-4o-mini", messages: [{role: "user", content: "Hello from a browser"}]};
  const models = await (await fetch(base + "/models", {headers})).json();
  const answer = await (await fetch(base + "/chat/completions",
                                    {method: "POST", headers, body: JSON.stringify(chat)})).json();
  const stream = await (await fetch(base + "/chat/completions", {method: "POST", headers,
      body: JSON.stringify({...chat, stream: true, stream_options: {include_usage: true}})})).text();
  return [models.data.length, answer.usage.total_tokens, stream.trim().endsWith("data: [DONE]")];
}
</script>""".replace("ADMIN_KEY", ADMIN)


def test_a_har_from_chromium_is_audited(browser, tmp_path):
    site = Starlette(routes=[Route("/", lambda request: HTMLResponse(PAGE))])
    with serve_in_thread(MockConfig(api_key=ADMIN)) as mock, serve_in_thread(app=site) as page_server:
        page = browser.new_page()
        network = NetworkLog(page)
        page.goto(page_server.origin + "/")
        models, tokens, done = page.evaluate(f"session({json.dumps(mock.url)})")
        assert models > 0 and tokens > 0 and done
        network.collect()
        har = network.write(tmp_path / "browser.har")
        browser.close_page(page)
    entries = json.loads(har.read_text())["log"]["entries"]
    calls = [(e["request"]["method"], e["request"]["url"].removeprefix(mock.url)) for e in entries
             if e["request"]["url"].startswith(mock.url) and e["request"]["method"] != "OPTIONS"]
    assert calls == [("GET", "/models"), ("POST", "/chat/completions"), ("POST", "/chat/completions")]
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "contract_tests", "audit", str(har), "--report-dir", str(reports)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((reports / "report.json").read_text())
    passed = {(r["check"], r["operation"]) for r in report["results"] if r["outcome"] == "pass"}
    assert {("sse.done_last", "POST /chat/completions"), ("sse.usage_chunk", "POST /chat/completions"),
            ("usage.total_is_sum", "POST /chat/completions"), ("usage.cost_matches_prices", "POST /chat/completions"),
            ("models.unique_ids", "GET /models"), ("schema:response_schema_conformance", "POST /chat/completions"),
            ("schema:status_code_conformance", "GET /models")} <= passed
    observed = {r["check"]: r["observations"] for r in report["results"] if r["outcome"] == "pass"}
    assert observed["schema:status_code_conformance"] >= 1 and observed["sse.done_last"] == 1
    for name in ("report.json", "report.md", "report.html", "junit.xml", "run.log"):
        assert ADMIN not in (reports / name).read_text()  # the HAR holds the key in clear; no report does
