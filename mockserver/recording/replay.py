"""``mockserver serve --replay``: recorded answers, as a wrapper over the handler table.

:func:`replaying` wraps every operation's handler: a request that matches a recording
(:mod:`mockserver.recording.matching`) gets the recorded answer, status, headers and body (a stream
its recorded chunks, paced as recorded with ``timing``); any other gets the wrapped handler's
generated answer, or with ``strict`` a 404 in the error shape naming the closest recording. The
request has gone through the whole pipeline first (keys, faults, the journal), and a replayed
inference answer is billed from its recorded ``usage`` like a generated one (same ledger, same limits).

The same request recorded several times is answered in recorded order, then the last again.
:meth:`Replay.coverage` says which recordings were never used and which requests matched none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from mockserver.auth import BEARER, authenticate
from mockserver.call import Call
from mockserver.errors import MockError
from mockserver.handlers import GENERIC, Handler, Handlers
from mockserver.recording.format import SUFFIX, RecordedExchange, RecordingError, read_exchanges, read_header
from mockserver.recording.matching import Key, Matcher, closest
from mockserver.recording.settings import Settings, load_settings
from mockserver.request_headers import headers_of
from mockserver.responses import JSONResponse
from mockserver.spec import LoadedSpec

NOT_REPLAYED_HEADERS = frozenset({"content-length", "date", "server", "transfer-encoding", "connection", "keep-alive"})


class Replay:
    def __init__(self, exchanges: list[RecordedExchange], settings: Settings, *, source: str = "",
                 strict: bool = False, timing: bool = False):
        self.source = source
        self.settings = settings
        self.strict = strict
        self.timing = timing
        self.matcher = Matcher(settings.ignore_paths)
        # What can be answered: exchanges that got a whole, final answer.
        self.recordings = [e for e in exchanges if e.response is not None and e.complete and e.response.status >= 200]
        self.skipped = len(exchanges) - len(self.recordings)
        self.index: dict[Key, list[RecordedExchange]] = {}
        for recording in self.recordings:
            self.index.setdefault(self.matcher.key_of(recording), []).append(recording)
        self._served: Counter[Key] = Counter()
        self.uses: Counter[str] = Counter()
        self.unmatched: Counter[str] = Counter()
        self._lock = threading.Lock()

    def find(self, method: str, path: str, query: str, body: bytes) -> RecordedExchange | None:
        key = self.matcher.key(method, path, query, body)
        found = self.index.get(key)
        with self._lock:
            if found is None:
                self.unmatched[f"{method} {path}"] += 1
                return None
            recording = found[min(self._served[key], len(found) - 1)]
            self._served[key] += 1
            self.uses[recording.source] += 1
            return recording

    def miss(self, method: str, path: str, query: str, body: bytes) -> MockError:
        key = self.matcher.key(method, path, query, body)
        near = closest(self.matcher, key, body, self.recordings)
        return MockError(404, f"No recording matches {method} {path}{'?' + query if query else ''} "
                              f"(--replay-strict); {near}.", code="no_recording")

    def coverage(self) -> dict[str, Any]:
        with self._lock:
            unused = [{"recording": r.source, "id": r.id, "method": r.request.method, "path": r.request.path,
                       "operation": r.operation} for r in self.recordings if r.source not in self.uses]
            return {
                "source": self.source,
                "recordings": len(self.recordings),
                "used": len(self.recordings) - len(unused),
                "skipped": self.skipped,
                "unused": unused,
                "unmatched": [{"request": name, "count": count} for name, count in sorted(self.unmatched.items())],
            }


def load_replay(source: str | Path, *, config_path: str | None = None, strict: bool = False,
                timing: bool = False) -> Replay:
    """The recordings of ``source`` (a directory, a ``.jsonl`` or a ``.har`` file), ready to answer.

    The fields to ignore when matching are the settings' (``config_path`` or the defaults) plus those
    each recording file's header lists. Raises :class:`RecordingError` or ``SettingsError`` (one line each).
    """
    settings = load_settings(config_path)
    path = Path(source)
    files = sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else [path] if path.suffix == SUFFIX else []
    for file in files:
        if file.is_file():
            ignore = read_header(file).match.get("ignore", [])
            if not isinstance(ignore, list) or not all(isinstance(item, str) for item in ignore):
                raise RecordingError(f"{file}:1: match.ignore must be a list of JSON paths")
            settings = settings.with_ignore(ignore)
    exchanges = list(read_exchanges(path))
    return Replay(exchanges, settings, source=str(source), strict=strict, timing=timing)


def replaying(handlers: Handlers, replay: Replay, spec: LoadedSpec) -> Handlers:
    """``handlers`` (and :data:`GENERIC` for the operations it lacks) behind the replay, for every operation of ``spec``."""
    return {op.operation_id: _wrap(handlers.get(op.operation_id, GENERIC), replay, op.operation_id)
            for op in spec.operations}


def _wrap(handler: Handler, replay: Replay, operation_id: str) -> Handler:
    billed = operation_id in replay.settings.billed_operations

    async def answer(call: Call) -> Response:
        method = call.operation.method.upper()
        path, query = call.exchange.path, call.exchange.query_string.decode("latin-1")
        recording = replay.find(method, path, query, call.raw_body)
        if recording is None:
            if replay.strict:
                raise replay.miss(method, path, query, call.raw_body)
            return await handler.answer(call)
        assert recording.response is not None
        bill = None
        if billed and 200 <= recording.response.status < 300:
            call.state.before_inference(call.principal)
            bill = lambda: _bill(call, recording)  # noqa: E731
        return recorded_response(recording, timing=replay.timing, before_last=bill)

    return dataclasses.replace(handler, answer=answer)


def recorded_response(recording: RecordedExchange, *, timing: bool = False,
                      before_last: Callable[[], None] | None = None) -> Response:
    """The recorded answer: status, headers (but those the server writes itself) and body; a stream its chunks."""
    recorded = recording.response
    assert recorded is not None
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in recorded.headers
               if name not in NOT_REPLAYED_HEADERS]
    if recorded.chunks is None:
        if before_last is not None:
            before_last()
        response = Response(recorded.body, status_code=recorded.status)
    else:
        response = StreamingResponse(_chunks(recorded.chunks, timing, before_last), status_code=recorded.status)
    response.raw_headers = [h for h in response.raw_headers if h[0] != b"content-type"] + headers
    return response


async def _chunks(chunks, timing: bool, before_last: Callable[[], None] | None) -> AsyncIterator[bytes]:
    start = time.monotonic()
    last = len(chunks) - 1
    if last < 0 and before_last is not None:
        before_last()
    for index, chunk in enumerate(chunks):
        if timing:
            while (delay := start + chunk.t_ms / 1000 - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        if index == last and before_last is not None:
            before_last()
        yield chunk.data


def recorded_usage(recording: RecordedExchange) -> tuple[str | None, dict[str, Any]]:
    """The model and the ``usage`` block a recorded answer reports (for a stream, its usage chunk); {} when none."""
    response = recording.response
    assert response is not None
    documents = []
    if response.chunks is not None:
        for line in response.body.splitlines():
            if line.startswith(b"data:"):
                documents.append(_json(line[5:].strip()))
    else:
        documents.append(_json(response.body))
    model, usage = None, {}
    for document in documents:
        if not isinstance(document, dict):
            continue
        model = document.get("model") if isinstance(document.get("model"), str) else model
        for block in (document.get("usage"), (document.get("response") or {}).get("usage")
                      if isinstance(document.get("response"), dict) else None):
            if isinstance(block, dict):
                usage = block
    request = _json(recording.request.body)
    if model is None and isinstance(request, dict) and isinstance(request.get("model"), str):
        model = request["model"]
    return model, usage


def _bill(call: Call, recording: RecordedExchange) -> None:
    model, usage = recorded_usage(recording)
    block = {
        "prompt_tokens": usage.get("prompt_tokens", usage.get("input_tokens", 0)),
        "completion_tokens": usage.get("completion_tokens", usage.get("output_tokens", 0)),
        "cost": usage.get("cost") if isinstance(usage.get("cost"), (int, float)) else 0,
    }
    if "total_tokens" in usage:
        block["total_tokens"] = usage["total_tokens"]
    try:
        call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=model or "unknown",
                                usage=block, headers=call.headers)
    except ValueError:  # a recording with a malformed usage block: the call still counts, for nothing
        call.state.record_usage(call.principal, operation_id=call.operation.operation_id, model=model or "unknown",
                                usage={}, headers=call.headers)


def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def replay_routes(prefix: str, replay: Replay, state) -> list[BaseRoute]:
    """``GET {prefix}/replay`` (admin key): the coverage so far, as JSON."""

    async def coverage(request: Request) -> Response:
        principal = None
        try:
            principal = authenticate(BEARER, state, headers_of(request.scope)[0], {}, {})
        except MockError as error:
            return error.response()
        if principal is None or not principal.is_admin:
            return MockError(403, "The mock's admin endpoints need the admin key.").response()
        return JSONResponse(replay.coverage())

    return [Route(f"{prefix}/replay", coverage, methods=["GET"])]


def coverage_lines(coverage: dict[str, Any]) -> list[str]:
    """The coverage as printed at shutdown."""
    unused, unmatched = coverage["unused"], coverage["unmatched"]
    lines = [f"mockserver: replay coverage: {coverage['used']} of {coverage['recordings']} recordings used, "
             f"{len(unused)} never used; {sum(u['count'] for u in unmatched)} requests matched none"]
    lines += [f"  never used: {u['recording']} {u['method']} {u['path']} (id {u['id']})" for u in unused]
    lines += [f"  unmatched:  {u['count']}x {u['request']}" for u in unmatched]
    return lines
