"""A HAR 1.2 file from the DevTools protocol's ``Network.*`` events, the way Chromium's DevTools export builds one.

``NetworkLog`` collects ``Network.requestWillBeSent`` (with its ``ExtraInfo``, the headers as
sent, ``Host`` included), ``Network.responseReceived`` and ``Network.loadingFinished`` events of a
page, then reads each finished response's body (``Network.getResponseBody``) and writes the entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.browser import BrowserError, Page

EVENTS = ("Network.requestWillBeSent", "Network.requestWillBeSentExtraInfo", "Network.responseReceived",
          "Network.loadingFinished")


@dataclass
class Entry:
    request: dict[str, Any]
    wall_time: float
    timestamp: float
    sent_headers: dict[str, str] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    finished: float | None = None
    body: str = ""
    base64: bool = False


class NetworkLog:
    def __init__(self, page: Page):
        self.page = page
        self.entries: dict[str, Entry] = {}
        page.send("Network.enable", maxTotalBufferSize=50_000_000, maxResourceBufferSize=10_000_000)

    def collect(self, quiet: float = 1.5) -> None:
        """Take every Network event that has arrived (waiting until none comes for ``quiet`` seconds)."""
        extra: dict[str, dict[str, str]] = {}
        for name in EVENTS:
            while True:
                try:
                    params = self.page.wait_for(name, timeout=quiet)
                except BrowserError:
                    break
                ident = params["requestId"]
                if name == "Network.requestWillBeSent":
                    self.entries[ident] = Entry(params["request"], params["wallTime"], params["timestamp"])
                elif name == "Network.requestWillBeSentExtraInfo":
                    extra[ident] = params.get("headers", {})
                elif name == "Network.responseReceived" and ident in self.entries:
                    self.entries[ident].response = params["response"]
                elif name == "Network.loadingFinished" and ident in self.entries:
                    self.entries[ident].finished = params["timestamp"]
        for ident, entry in self.entries.items():
            entry.sent_headers = extra.get(ident, {})
            if entry.finished is not None:
                try:
                    body = self.page.send("Network.getResponseBody", requestId=ident)
                except BrowserError:  # a CORS preflight keeps no body: its entry has none, as in DevTools
                    continue
                entry.body, entry.base64 = body["body"], body["base64Encoded"]

    def har(self) -> dict[str, Any]:
        entries = [self._entry(e) for e in sorted(self.entries.values(), key=lambda e: e.timestamp)
                   if e.response is not None and e.finished is not None]
        return {"log": {"version": "1.2", "creator": {"name": "tests/e2e/har.py", "version": "1"},
                        "pages": [], "entries": entries}}

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.har(), indent=1), encoding="utf-8")
        return path

    @staticmethod
    def _entry(entry: Entry) -> dict[str, Any]:
        request, response = entry.request, entry.response or {}
        headers = {**request.get("headers", {}), **entry.sent_headers}
        total = max(0.0, ((entry.finished or entry.timestamp) - entry.timestamp) * 1000)
        har_request: dict[str, Any] = {
            "method": request["method"], "url": request["url"], "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(request["url"]).query)],
            "headersSize": -1, "bodySize": len(request.get("postData", "").encode()),
        }
        if "postData" in request:
            har_request["postData"] = {"mimeType": headers.get("Content-Type", headers.get("content-type", "")),
                                       "text": request["postData"]}
        content: dict[str, Any] = {"size": len(entry.body), "mimeType": response.get("mimeType", ""),
                                   "text": entry.body}
        if entry.base64:
            content["encoding"] = "base64"
        return {
            "startedDateTime": datetime.fromtimestamp(entry.wall_time, UTC).isoformat().replace("+00:00", "Z"),
            "time": total,
            "request": har_request,
            "response": {"status": response.get("status", 0), "statusText": response.get("statusText", ""),
                         "httpVersion": response.get("protocol", "HTTP/1.1").upper(), "cookies": [],
                         "headers": [{"name": k, "value": v} for k, v in response.get("headers", {}).items()],
                         "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {},
            "timings": {"send": 0, "wait": total, "receive": 0},
        }
