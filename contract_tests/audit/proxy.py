"""``contract-tests proxy``: the audit, live, on the traffic that passes through a reverse proxy.

Every request goes on to the upstream as it came; every answer comes back piece by piece as the
upstream sends it (a stream is never buffered); when an exchange ends, it is judged off the
request path (one worker thread, in the order the exchanges ended) by the same
:class:`~contract_tests.audit.auditor.Auditor` as ``contract-tests audit``. The proxy never sends a
request of its own. The report files are rewritten every few seconds or every few exchanges, and
once more when the proxy stops (Ctrl-C).

Unlike a recording, the proxy sees the credentials before it redacts them: it knows which key made
which call (by a fingerprint, never the key), so the checks that tie calls to keys are judged too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from starlette.types import Receive, Scope, Send

from contract_tests.audit.auditor import Auditor
from contract_tests.events import Consumer
from contract_tests.results import RunResult
from contract_tests.traffic import Operations, make
from mockserver.recording.proxy import Proxy, Upstream, incoming, read_body

EVERY = 20  # exchanges between two rewrites of the reports
INTERVAL = 5.0  # seconds


@dataclass
class Reports:
    """Writes the audit's reports with the run's consumers: every ``every`` exchanges or ``interval`` seconds."""

    auditor: Auditor
    target: str
    consumers: list[Consumer]
    every: int = EVERY
    interval: float = INTERVAL
    written_at: int = 0
    written: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)

    def notes(self) -> list[str]:
        notes = [f"audit proxy in front of {self.target}: {len(self.auditor.exchanges)} exchanges passed through; "
                 "the proxy sent no request of its own, so there is no spend of its own"]
        if self.auditor.unjudged:
            notes.append(f"{self.auditor.unjudged} exchanges had no answer or were cut short: not judged")
        return notes

    def maybe(self) -> None:
        count = len(self.auditor.exchanges)
        due = count - self.written_at >= self.every or time.monotonic() - self.written >= self.interval
        if due and count > self.written_at:
            self.write()

    def write(self) -> RunResult:
        self.written_at, self.written = len(self.auditor.exchanges), time.monotonic()
        result = None
        for event in self.auditor.events(f"traffic to {self.target}", self.notes(), time.monotonic() - self.started):
            for consume in self.consumers:
                consume(event)
            result = getattr(event, "result", result)
        assert result is not None
        return result


class AuditProxy(Proxy):
    """The audit proxy: forward, stream back, and hand each finished exchange to the auditor."""

    def __init__(self, upstream: Upstream, auditor: Auditor, operations: Operations,
                 after: Callable[[], None] | None = None, client: httpx.AsyncClient | None = None):
        super().__init__(upstream, client)
        self.auditor = auditor
        self.operations = operations
        self.after = after or (lambda: None)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")  # judged in the order they end
        self._lock = threading.Lock()

    async def exchange(self, number: int, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        came = incoming(scope, self.upstream.origin)
        started = time.perf_counter()
        pieces: list[bytes] = []
        went = await self.forward(came, body, receive, send, pieces.append)  # a cut answer is judged as cut short
        self._judge(number, came.method, came.url, came.path, came.headers, body, went.status, went.headers,
                    b"".join(pieces), went.complete, started)

    def _judge(self, number: int, method: str, url: str, path: str, headers: list[tuple[str, str]], body: bytes,
               status: int | None, response_headers: list[tuple[str, str]], content: bytes, complete: bool,
               started: float) -> None:
        elapsed = time.perf_counter() - started

        def work() -> None:
            seen = make(method, url, dict(reversed(headers)), body, status, dict(reversed(response_headers)), content,
                        self.auditor.redactor, source=f"proxy exchange {number}", operations=self.operations,
                        know_credential=True, path=path)
            self.auditor.feed(seen, complete=complete, elapsed=elapsed)
            self.after()

        self.worker.submit(work)

    def drain(self) -> None:
        """Wait until every exchange handed over is judged."""
        self.worker.shutdown(wait=True)





def serve(upstream_url: str, host: str, port: int, auditor: Auditor, consumers: list[Consumer], *,
          every: int = EVERY, interval: float = INTERVAL, announce: Callable[[str], None] = print) -> RunResult:
    """Serve the proxy until interrupted (Ctrl-C), then judge what is left and write the final reports.

    Raises ValueError (a bad URL) and ServeError (a port that cannot be bound) before anything is served.
    """
    import uvicorn

    from mockserver.server import bind, origin, proxy_config

    upstream = Upstream.parse(upstream_url)
    sock = bind(host, port)
    reports = Reports(auditor, upstream_url, consumers, every=every, interval=interval)
    proxy = AuditProxy(upstream, auditor, Operations(auditor.spec), after=reports.maybe)
    announce(f"contract-tests: auditing the traffic to {upstream_url}")
    announce(f"  base URL:  {origin(host, sock.getsockname()[1])}{upstream.base_path}")
    announce(f"  reports:   rewritten every {interval:g} s or {every} exchanges, and at the end")
    announce("  nothing is sent but what clients send; Ctrl-C to stop")
    server = uvicorn.Server(proxy_config(proxy))
    stop = threading.Event()

    def tick() -> None:  # the reports follow the clock too, when traffic pauses
        while not stop.wait(interval):
            proxy.worker.submit(reports.maybe)

    ticker = threading.Thread(target=tick, name="audit-reports", daemon=True)
    ticker.start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised the signal: the end of the session
        pass
    finally:
        stop.set()
        ticker.join()
        sock.close()
        proxy.drain()
    return reports.write()
