"""The inspector page (``/__mock/``) in headless Chromium, against a mock on a real port.

An OpenAI SDK call shows up within a second; the filters narrow the list; "copy as curl" copies a
line that, run by curl, sends the same request; no secret reaches the DOM; 10,000 exchanges load
and filter quickly; axe-core finds no serious or critical issue.

``UPDATE_SCREENSHOTS=1 pytest tests/e2e/test_inspector_browser.py`` also writes the page to
docs/images/inspector.png (the README shows it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from mockserver.config import MockConfig
from mockserver.testing import serve_in_thread
from tests.e2e.browser import Browser, BrowserError, Page

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 800
ADMIN = "rq-inspector-admin-0f3b9c"  # a key that appears nowhere else, so finding it in the DOM means a leak
HELLO = [{"role": "user", "content": "Hello from the inspector test"}]


@pytest.fixture(scope="module")
def mock(spec):
    with serve_in_thread(MockConfig(spec=spec, api_key=ADMIN)) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(mock):
    with OpenAI(base_url=mock.url, api_key=ADMIN, max_retries=0) as client:
        yield client


def wait_until(page: Page, condition: str, timeout: float = 5.0) -> float:
    """Seconds until the JavaScript ``condition`` is true in the page (polled every 10 ms in the page)."""
    started = time.monotonic()
    ok = page.evaluate(f"""new Promise(resolve => {{
        const end = performance.now() + {timeout * 1000};
        const poll = () => {{ let v = false; try {{ v = ({condition}); }} catch (e) {{}}
            if (v) resolve(true); else if (performance.now() > end) resolve(false); else setTimeout(poll, 10); }};
        poll(); }})""")
    assert ok, f"timed out after {timeout} s waiting for: {condition}"
    return time.monotonic() - started


def open_inspector(browser: Browser, mock, width: int = WIDTH, height: int = HEIGHT) -> Page:
    page = browser.new_page(width, height)
    page.goto(f"{mock.origin}/__mock/#key={ADMIN}")
    wait_until(page, "document.getElementById('conn').textContent === 'live'")
    return page


@pytest.fixture
def page(browser: Browser, mock):
    tab = open_inspector(browser, mock)
    yield tab
    browser.close_page(tab)
    assert tab.console == [], "the page logged errors"


def rows(page: Page) -> list[dict]:
    return page.evaluate("""Array.from(document.querySelectorAll('#rows tr.item')).map(r => ({
        id: Number(r.dataset.id), text: r.textContent, status: r.children[3].textContent, key: r.children[5].textContent,
        model: r.children[6].textContent, fault: r.children[7].textContent}))""")


def choose(page: Page, name: str, value: str) -> None:
    page.evaluate(f"""(() => {{ const s = document.getElementById('f-{name}');
        s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()""")


def test_the_fragment_key_leaves_the_address_bar_and_the_page_has_no_external_asset(page, mock):
    assert page.evaluate("location.href") == f"{mock.origin}/__mock/"
    assert page.evaluate("document.querySelectorAll('script[src], link[href], img[src], iframe').length") == 0
    head = httpx.get(f"{mock.origin}/__mock/")
    assert "connect-src 'self'" in head.headers["content-security-policy"]
    assert ADMIN not in head.text


def test_an_sdk_call_appears_within_a_second(page, sdk):
    model = "openai/gpt-4o-mini"
    sdk.chat.completions.create(model=model, messages=HELLO, extra_headers={"X-Title": "appears-test"})
    returned = time.monotonic()
    wait_until(page, "Array.from(document.querySelectorAll('#rows tr.item')).some(r => r.textContent.includes("
                     "'/v1/chat/completions') && r.textContent.includes('openai/gpt-4o-mini'))", timeout=1.0)
    assert time.monotonic() - returned < 1.0
    first = rows(page)[0]
    assert "POST /v1/chat/completions" in first["text"] and first["status"] == "200" and first["key"] == "admin"


def test_filters_narrow_the_list(page, sdk, mock):
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    sdk.chat.completions.create(model="anthropic/claude-sonnet-4-20250514", messages=HELLO)
    sdk.models.list()
    httpx.post(f"{mock.url}/chat/completions", headers={"Authorization": "Bearer wrong-key"},
               json={"model": "openai/gpt-4o-mini", "messages": HELLO})
    httpx.post(f"{mock.url}/chat/completions", headers={"Authorization": f"Bearer {ADMIN}", "Prefer": "code=429"},
               json={"model": "openai/gpt-4o-mini", "messages": HELLO})
    wait_until(page, "window.inspectorState.view.filter(e => e.fault === 'prefer:429').length >= 1")
    total = len(page.evaluate("window.inspectorState.entries"))

    choose(page, "model", "anthropic/claude-sonnet-4-20250514")
    shown = rows(page)
    assert shown and all(r["model"] == "anthropic/claude-sonnet-4-20250514" for r in shown)
    choose(page, "model", "")
    choose(page, "operation", "listModels")
    assert rows(page) and all("GET /v1/models" in r["text"] for r in rows(page))
    choose(page, "operation", "")
    choose(page, "status", "4xx")
    shown = rows(page)
    assert {r["status"] for r in shown} >= {"401", "429"} and all(r["status"].startswith("4") for r in shown)
    choose(page, "status", "")
    choose(page, "key", "unknown")
    assert rows(page) and all(r["key"] == "unknown" and r["status"] == "401" for r in rows(page))
    choose(page, "key", "")
    choose(page, "fault", "prefer")
    assert rows(page) and all(r["fault"] == "prefer:429" for r in rows(page))
    choose(page, "fault", "-")
    assert all(r["fault"] == "" for r in rows(page))
    choose(page, "fault", "")
    assert page.evaluate("document.getElementById('shown').textContent") == f"{total:,} of {total:,} shown"


def open_exchange(page: Page, predicate: str) -> dict:
    """Click the newest row whose entry matches the JavaScript ``predicate`` (over ``e``); wait for its detail."""
    ident = page.evaluate(f"window.inspectorState.view.find(e => {predicate}).id")
    page.click(f'#rows button.open[data-id="{ident}"]')
    wait_until(page, f"document.getElementById('detail').dataset.id === '{ident}'")
    return {"id": ident}


def test_copy_as_curl_copies_what_was_sent(browser, page, mock, sdk):
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "it's \"quoted\""}],
                                temperature=0.5, extra_headers={"X-Title": "curl-test"})
    newest = mock.app.state.faults.journal.last(1)[0]
    assert newest["path"] == "/v1/chat/completions"
    wait_until(page, f"window.inspectorState.view[0]?.sequence === {newest['sequence']}")
    browser._browser_command("Browser.grantPermissions", origin=mock.origin,
                             permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    page.send("Emulation.setFocusEmulationEnabled", enabled=True)
    open_exchange(page, f"e.sequence === {newest['sequence']}")
    page.click("#copy-curl")
    wait_until(page, "document.getElementById('copied').textContent.startsWith('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.evaluate("document.getElementById('curl-line').textContent")
    assert '"Authorization: Bearer $REQUESTY_API_KEY"' in copied and ADMIN not in copied
    sent = mock.app.state.faults.journal.listeners[0].store  # what the mock received, to compare with the replay
    before = len(sent)
    assert shutil.which("curl"), "curl is needed to run the copied line"
    done = subprocess.run(["sh", "-c", copied + " -s -o /dev/null -w '%{http_code}'"], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "REQUESTY_API_KEY": ADMIN})
    assert done.stdout == "200", done.stderr
    records = list(sent)
    original = next(r for r in reversed(records[:before]) if b"curl-test" in r.request_headers.get("x-title", "").encode())
    replay = records[-1]
    assert json.loads(replay.request_body) == json.loads(original.request_body)
    assert replay.request_headers["x-title"] == "curl-test"
    assert replay.request_headers["authorization"] == f"Bearer {ADMIN}"  # the shell put the key in


def test_no_secret_reaches_the_dom(browser, page, mock, sdk):
    created = httpx.post(f"{mock.url}/api-keys", headers={"Authorization": f"Bearer {ADMIN}"},
                         json={"name": "inspector-secret-test"}).json()
    secret = created["key"]
    with OpenAI(base_url=mock.url, api_key=secret, max_retries=0) as client:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO, stream=True,
                                       stream_options={"include_usage": True}).close()
    wait_until(page, f"window.inspectorState.view.some(e => e.key === {json.dumps(created['id'])})")
    open_exchange(page, "e.operation === 'createApiKey'")
    detail = page.evaluate("document.getElementById('detail').textContent")
    assert '"key": "••••"' in detail
    dom = page.evaluate("document.documentElement.outerHTML + Array.from(document.querySelectorAll('input, textarea'))"
                        ".map(e => e.value).join(' ')")
    assert ADMIN not in dom and secret not in dom
    open_exchange(page, f"e.key === {json.dumps(created['id'])}")
    detail = page.evaluate("document.getElementById('detail').textContent")
    assert "Bearer ••••" in detail and "Stream chunks" in detail
    dom = page.evaluate("document.documentElement.outerHTML")
    assert ADMIN not in dom and secret not in dom and secret[:12] not in dom


def test_the_login_form_asks_for_the_key_and_forgets_the_field(browser, mock):
    tab = browser.new_page(WIDTH, HEIGHT)
    try:
        tab.goto(f"{mock.origin}/__mock/")
        tab.evaluate("sessionStorage.clear()")
        tab.goto(f"{mock.origin}/__mock/")
        wait_until(tab, "!document.getElementById('login').hidden")
        tab.evaluate("document.getElementById('key').value = 'not-the-key'; "
                     "document.getElementById('login').requestSubmit()")
        wait_until(tab, "document.getElementById('login-error').textContent.includes('refused')")
        tab.evaluate(f"document.getElementById('key').value = {json.dumps(ADMIN)}; "
                     "document.getElementById('login').requestSubmit()")
        wait_until(tab, "document.getElementById('conn').textContent === 'live'")
        assert tab.evaluate("document.getElementById('key').value") == ""
        assert ADMIN not in tab.evaluate("document.documentElement.outerHTML")
    finally:
        browser.close_page(tab)


def test_apply_the_example_scenario_then_reset(page, mock):
    page.click("#apply-example")
    wait_until(page, "document.getElementById('scenario-text').textContent.includes('error rules')")
    assert mock.app.state.faults.scenario.seed == 42
    page.click("#reset")
    wait_until(page, "document.getElementById('scenario-text').textContent === 'none' && "
                     "window.inspectorState.entries.length === 0")
    assert mock.app.state.faults.scenario.empty


def request_bytes(host: str, i: int) -> bytes:
    models = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-20250514", "openai/gpt-4o"]
    head = f"Host: {host}\r\nAuthorization: Bearer {ADMIN}\r\n"
    if i % 10 == 9:
        return f"GET /v1/models HTTP/1.1\r\n{head}\r\n".encode()
    body = json.dumps({"model": models[i % 3], "messages": HELLO}).encode()
    return (f"POST /v1/chat/completions HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _fire(host: str, port: int, count: int, connections: int = 8, batch: int = 50) -> None:
    """``count`` requests over keep-alive connections, pipelined ``batch`` at a time (a fast client, so the
    test measures the page, not the load generator); each batch's answers are counted by their status lines."""

    async def connection(numbers: list[int]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for at in range(0, len(numbers), batch):
                part = numbers[at:at + batch]
                writer.write(b"".join(request_bytes(f"{host}:{port}", i) for i in part))
                await writer.drain()
                seen, data = 0, b""
                while seen < len(part):
                    chunk = await asyncio.wait_for(reader.read(65536), 10)
                    assert chunk, "the mock closed the connection"
                    data += chunk
                    seen = data.count(b"HTTP/1.1 200 ")
                assert data.count(b"HTTP/1.1 ") == len(part)
        finally:
            writer.close()

    await asyncio.gather(*(connection(list(range(c, count, connections))) for c in range(connections)))


def test_ten_thousand_exchanges_stream_in_and_filter_quickly(browser, spec):
    with serve_in_thread(MockConfig(spec=spec, api_key=ADMIN)) as busy:
        tab = open_inspector(browser, busy)
        try:
            started = time.monotonic()
            asyncio.run(_fire(busy.host, busy.port, 10_000))
            fired = time.monotonic() - started
            behind = wait_until(tab, "window.inspectorState.entries.length === 10000 && "
                                     "document.getElementById('shown').textContent === '10,000 of 10,000 shown'", timeout=15)
            assert tab.evaluate("document.querySelectorAll('#rows tr.item').length") < 100  # only the rows in view
            timing = tab.evaluate("""(() => {
                const s = document.getElementById('f-model'), t0 = performance.now();
                s.value = 'openai/gpt-4o'; s.dispatchEvent(new Event('change'));
                const filtered = performance.now() - t0;
                const sc = document.getElementById('scroller'), t1 = performance.now();
                sc.scrollTop = sc.scrollHeight; sc.dispatchEvent(new Event('scroll'));
                return new Promise(r => requestAnimationFrame(() => r({filtered, scrolled: performance.now() - t1,
                    shown: window.inspectorState.view.length,
                    last: document.querySelector('#rows tr.item:last-of-type').textContent})));
            })()""")
            assert timing["shown"] == 3000
            assert timing["filtered"] < 250, timing
            assert timing["scrolled"] < 250, timing
            assert "openai/gpt-4o" in timing["last"]
            assert behind < 5, behind  # the page keeps up with the traffic
            reload = time.monotonic()
            tab.goto(f"{busy.origin}/__mock/")  # a new page is sent what the store kept: all 10,000
            wait_until(tab, "window.inspectorState.entries.length === 10000 && "
                            "document.querySelectorAll('#rows tr.item').length > 0", timeout=15)
            reloaded = time.monotonic() - reload
            print(f"\n10,000 requests in {fired:.1f} s; the page had all of them {behind:.2f} s later; filter "
                  f"{timing['filtered']:.1f} ms; scroll to the end {timing['scrolled']:.1f} ms; reload {reloaded:.2f} s")
        finally:
            browser.close_page(tab)


def populate(mock) -> None:
    """A morning's traffic: two keys, three models, streams, a fault, a refusal."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    team = httpx.post(f"{mock.url}/api-keys", headers=headers, json={"name": "frontend-team"}).json()
    with OpenAI(base_url=mock.url, api_key=ADMIN, max_retries=0) as admin, \
            OpenAI(base_url=mock.url, api_key=team["key"], max_retries=0) as frontend:
        for i in range(6):
            admin.chat.completions.create(model=["openai/gpt-4o-mini", "openai/gpt-4o"][i % 2], messages=HELLO * (i + 1))
            frontend.chat.completions.create(model="anthropic/claude-sonnet-4-20250514", messages=HELLO * (i + 2), stream=True,
                                             stream_options={"include_usage": True}).close()
            time.sleep(0.05)
        admin.models.list()
    httpx.post(f"{mock.url}/chat/completions", headers={**headers, "Prefer": "code=429"},
               json={"model": "openai/gpt-4o", "messages": HELLO})
    httpx.post(f"{mock.url}/chat/completions", headers={"Authorization": "Bearer nope"},
               json={"model": "openai/gpt-4o", "messages": HELLO})


def test_accessibility_and_the_screenshot(browser, spec, axe_source):
    with serve_in_thread(MockConfig(spec=spec, api_key=ADMIN)) as fresh:
        tab = open_inspector(browser, fresh)  # exchanges are captured while a page is open
        try:
            populate(fresh)
            wait_until(tab, "window.inspectorState.view.length >= 16")
            tab.evaluate("new Promise(r => setTimeout(r, 400))")  # the chart is drawn 300 ms after the last change
            open_exchange(tab, "e.stream && e.status === 200")
            tab.evaluate(axe_source)
            found = tab.evaluate("""axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""")
            serious = [v for v in found if v["impact"] in ("serious", "critical")]
            assert serious == [], json.dumps(serious, indent=1)
            assert tab.evaluate("document.querySelectorAll('#chart path[data-series]').length") >= 2
            shot = tab.screenshot(ROOT / "docs" / "images" / "inspector.png" if os.environ.get("UPDATE_SCREENSHOTS") else None)
            assert shot[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", shot[16:24]) == (WIDTH, HEIGHT)
            assert tab.console == []
        finally:
            browser.close_page(tab)


def test_a_refused_key_in_the_fragment_shows_the_form(browser, mock):
    tab = browser.new_page(WIDTH, HEIGHT)
    try:
        tab.goto(f"{mock.origin}/__mock/#key=wrong")
        wait_until(tab, "!document.getElementById('login').hidden && "
                        "document.getElementById('login-error').textContent.includes('refused')")
        assert tab.evaluate("document.getElementById('app').hidden") is True
    except BrowserError:
        raise
    finally:
        browser.close_page(tab)


def test_a_closed_page_leaves_no_subscriber_behind(browser, mock):
    inspector = mock.app.state.faults.journal.listeners[0]
    before = len(inspector.subscribers)
    tab = open_inspector(browser, mock)
    assert len(inspector.subscribers) == before + 1
    browser.close_page(tab)
    deadline = time.monotonic() + 5
    while len(inspector.subscribers) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inspector.subscribers) == before
    with httpx.stream("GET", f"{mock.origin}/__mock/inspector/feed", headers={"Authorization": f"Bearer {ADMIN}"}) as feed:
        assert feed.headers["content-type"].startswith("text/event-stream")
        first = next(feed.iter_lines())
        assert first == "event: snapshot"
    refused = httpx.get(f"{mock.origin}/__mock/inspector/feed?key={ADMIN}")  # a key in the query is not read
    assert refused.status_code in (401, 403)
