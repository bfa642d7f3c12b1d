"""Headless Chromium, driven over the DevTools protocol: the project's browser for pages it writes or serves.

Chromium comes from Debian's packages, installed on first use (``apt-get install chromium``; CI
runs as root on a fresh Debian machine), so nothing downloads a browser build of its own. The
driver is the DevTools protocol itself over one WebSocket per page (the ``websockets`` package):
no WebDriver, no Node. Use the ``browser`` fixture (``tests/e2e/conftest.py``)::

    def test_page(browser):
        page = browser.new_page(width=1280, height=800)
        page.goto("file:///.../report.html")
        assert page.evaluate("document.title") == "..."
        page.screenshot("shot.png")
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.debian import installed

NAMES = ("chromium", "chromium-browser")
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class BrowserError(RuntimeError):
    """Chromium could not be installed, started or driven; or a page's script threw."""


def chromium_path() -> str:
    """The Chromium binary, installed from Debian's packages first when it is missing."""
    try:
        return installed(NAMES, "chromium")
    except RuntimeError as exc:
        raise BrowserError(str(exc)) from None


class Page:
    """One tab: commands in, results out; events are kept until someone waits for them."""

    def __init__(self, socket: ClientConnection, target_id: str, timeout: float = 30):
        self._socket = socket
        self.target_id = target_id
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        self.console: list[str] = []  # console messages and uncaught errors of the page
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self._keep(message)

    def wait_for(self, event: str, timeout: float | None = None) -> dict[str, Any]:
        """The next ``event`` (a DevTools event name), including one that arrived already."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, message in enumerate(self._events):
                if message["method"] == event:
                    del self._events[i]
                    return message.get("params", {})
            self._keep(self._receive(deadline, event))

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BrowserError(f"timed out waiting for {waiting_for}")
        try:
            return json.loads(self._socket.recv(timeout=left))
        except TimeoutError:
            raise BrowserError(f"timed out waiting for {waiting_for}") from None

    def _keep(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            self.console.append("uncaught: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method:
            self._events.append(message)

    def set_viewport(self, width: int, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def goto(self, url: str) -> None:
        self._events = [e for e in self._events if e["method"] != "Page.loadEventFired"]
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details.get("text", "script error"))
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element ``selector`` matches (scrolled into view)."""
        box = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return null;
            el.scrollIntoView({{block: "center"}});
            const r = el.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
        }})()""")
        if box is None:
            raise BrowserError(f"nothing matches {selector!r}")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    def screenshot(self, path: str | Path | None = None, *, full_page: bool = False) -> bytes:
        """A PNG of the viewport (or of the whole page), written to ``path`` when given."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate("({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": size["w"], "height": size["h"],
                                                            "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(data)
        return data


class Browser:
    """A headless Chromium process with its own profile; :meth:`close` ends it and removes the profile."""

    def __init__(self, binary: str | None = None, timeout: float = 30):
        self.binary = binary or chromium_path()
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self._process = subprocess.Popen(
            [self.binary, "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={self._profile}", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
             "--force-color-profile=srgb", "--font-render-hinting=none", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._stderr: list[str] = []
        self._sockets = ExitStack()  # every WebSocket this browser opened, closed with it
        try:
            self.ws_url = self._listening_url()
            self._socket = self._connect(self.ws_url)
        except BaseException:
            self.close()
            raise
        self._ids = itertools.count(1)
        self._pages: list[tuple[Page, ClientConnection]] = []

    def _listening_url(self) -> str:
        found: list[str] = []
        done = threading.Event()

        def read() -> None:  # keeps draining stderr for the browser's whole life, so it never blocks on a full pipe
            assert self._process.stderr is not None
            for line in self._process.stderr:
                self._stderr.append(line)
                if not found and (match := LISTENING.search(line)):
                    found.append(match.group(1))
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        done.wait(self.timeout)
        if not found:
            raise BrowserError(f"chromium did not start: {''.join(self._stderr)[-800:]}")
        return found[0]

    def _connect(self, url: str) -> ClientConnection:
        return self._sockets.enter_context(connect(url, max_size=None, open_timeout=self.timeout))

    def _browser_command(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
        raise BrowserError(f"timed out waiting for {method}")

    def new_page(self, width: int = 1280, height: int = 800) -> Page:
        target = self._browser_command("Target.createTarget", url="about:blank")["targetId"]
        origin = self.ws_url.split("/devtools/")[0]
        socket = self._connect(f"{origin}/devtools/page/{target}")
        page = Page(socket, target, self.timeout)
        page.set_viewport(width, height)
        self._pages.append((page, socket))
        return page

    def close_page(self, page: Page) -> None:
        for item in [p for p in self._pages if p[0] is page]:
            self._pages.remove(item)
            item[1].close()
            self._browser_command("Target.closeTarget", targetId=page.target_id)

    def close(self) -> None:
        self._pages.clear()
        self._sockets.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        shutil.rmtree(self._profile, ignore_errors=True)


@contextmanager
def running_browser() -> Iterator[Browser]:
    browser = Browser()
    try:
        yield browser
    finally:
        browser.close()
