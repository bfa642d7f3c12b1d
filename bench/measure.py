"""The measurements: each starts what it needs, drives it, and returns rows of cells.

Servers run one at a time (the machine has two cores: one for the server, one for the
load generator), all in the same run, so every ratio compares figures taken minutes apart
under the same background noise.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import load, servers
from bench.cells import Cell, Row
from bench.specgen import write_spec

JSON = {**servers.AUTH, "Content-Type": "application/json"}
MESSAGES = [{"role": "user", "content": "Say hello in one short sentence."}]


@dataclass(frozen=True)
class Settings:
    seconds: float = 3.0
    rounds: int = 3
    warmup: bool = True
    connections: int = 16
    stream_tokens: int = 256
    paced_streams: int = 500
    paced_ttft_ms: int = 200
    paced_tokens_per_s: int = 50
    paced_tokens: int = 50
    rss_counts: tuple[int, int] = (10_000, 100_000)
    spec_operations: int = 500
    startups: int = 3
    prism: bool = True
    suite: bool = True
    quick: bool = False


FULL = Settings()
SERVER_SETTINGS = (("h11", "asyncio"), ("httptools", "asyncio"), ("httptools", "uvloop"))  # uvicorn http, loop
QUICK = Settings(seconds=1.0, rounds=1, warmup=False, paced_streams=50, paced_tokens=10, rss_counts=(1_000, 5_000), startups=1,
                 prism=False, suite=False, quick=True)


def chat_body(**extra: object) -> str:
    return json.dumps({"model": "openai/gpt-4o-mini", "messages": MESSAGES, **extra}, separators=(",", ":"))


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city", "parameters": {
    "type": "object", "required": ["city"],
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}
NOTE = {"type": "json_schema", "json_schema": {"name": "note", "strict": True, "schema": {
    "type": "object", "required": ["title", "tags"], "additionalProperties": False,
    "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}}}


@dataclass(frozen=True)
class MemoryKind:
    """One kind of request the memory rows repeat: where it goes, and which servers can answer it."""

    key: str
    label: str
    path: str
    body: str
    references: tuple[str, ...] = ("bare",)  # servers other than the mock that measure it
    then: dict[str, str] | None = None  # a second request per iteration (bench.pyload's pairs)


MEMORY_KINDS = (
    MemoryKind("chat", "chat POSTs", "/chat/completions", chat_body(), ("bare", "prism")),
    MemoryKind("stream", "chat streams", "/chat/completions",
               chat_body(stream=True, stream_options={"include_usage": True})),
    MemoryKind("tools", "chat tool calls", "/chat/completions", chat_body(tools=[WEATHER], tool_choice="required")),
    MemoryKind("json_schema", "json_schema replies", "/chat/completions", chat_body(response_format=NOTE)),
    MemoryKind("embeddings", "embeddings", "/embeddings",
               _json({"model": "openai/text-embedding-3-small", "input": ["Say hello.", "Say goodbye."]}), ()),
    MemoryKind("keys", "key create + delete pairs", "/api-keys", _json({"name": "bench"}), (),
               {"method": "DELETE", "path": "/v1/api-keys/{id}"}),
)


def stream_body(max_tokens: int) -> str:
    """A ``stream: true`` body whose answer is ``max_tokens`` tokens long on the mock as on bare Starlette.

    The mock echoes the last user message ("You said: ...", one token per word here) and stops at
    ``max_tokens``; a short prompt would give a stream of a dozen chunks, not ``max_tokens``.
    """
    messages = [{"role": "user", "content": " ".join(["word"] * max_tokens)}]
    return json.dumps({"model": "openai/gpt-4o-mini", "messages": messages, "stream": True, "max_tokens": max_tokens},
                      separators=(",", ":"))


def _count(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def labels(settings: Settings) -> dict[str, tuple[str, str]]:
    """Row key -> (label, unit), in print order."""
    first, second = (_count(n) for n in settings.rss_counts)
    tokens = settings.stream_tokens
    return {
        **_load_rows("models", "GET /v1/models"),
        "models_cpu": ("GET /v1/models, server CPU per request", "us"),
        **_load_rows("chat", "chat, non-stream POST"),
        "chat_cpu": ("chat, non-stream POST, server CPU per request", "us"),
        **_load_rows("stream", f"chat stream, {tokens} tokens", "streams/s", rate_key="stream_sps"),
        "stream_cps": (f"chat stream, {tokens} tokens, chunks", "chunks/s"),
        "paced_ok": (f"paced streams held without error (of {settings.paced_streams})", "streams"),
        "paced_worst": ("paced streams, slowest vs its pacing", "% over"),
        "paced_median": ("paced streams, median vs its pacing", "% over"),
        "startup_upstream": ("start-up, upstream spec", "s"),
        "startup_generated": (f"start-up, generated spec ({settings.spec_operations} operations)", "s"),
        "startup_openai": ("start-up, OpenAI's spec (288 operations, 3 MB)", "s"),
        "startup_openai_cached": ("start-up, OpenAI's spec, parsed copy cached", "s"),
        "rss_start_upstream": ("RSS after start-up, upstream spec", "MiB"),
        "rss_start_generated": (f"RSS after start-up, generated spec ({settings.spec_operations} operations)", "MiB"),
        "rss_start_openai": ("RSS after start-up, OpenAI's spec", "MiB"),
        **{row: spec for kind in MEMORY_KINDS for row, spec in _memory_rows(kind, first, second).items()},
        "suite_wall": ("conformance suite, default profile", "s"),
        **{f"settings_{http}_{loop}": (f"chat req/s, uvicorn {http} + {loop}", "req/s")
           for http, loop in SERVER_SETTINGS},
    }


def _memory_rows(kind: MemoryKind, first: str, second: str) -> dict[str, tuple[str, str]]:
    return {f"rss_{kind.key}_first": (f"RSS after {first} {kind.label}", "MiB"),
            f"rss_{kind.key}_second": (f"RSS after {second} {kind.label}", "MiB"),
            f"rss_{kind.key}_ratio": (f"RSS {second} / {first}, {kind.label}", "ratio")}


def _load_rows(key: str, label: str, unit: str = "req/s", rate_key: str | None = None) -> dict[str, tuple[str, str]]:
    return {rate_key or f"{key}_rps": (label, unit), f"{key}_p50": (f"{label} p50", "ms"),
            f"{key}_p99": (f"{label} p99", "ms")}


class Bench:
    """One run: collects cells per (row key, server)."""

    def __init__(self, settings: Settings, wrk: str | None, log: Callable[[str], None] = print):
        self.settings = settings
        self.wrk = wrk
        self.log = log
        self.cells: dict[str, dict[str, Cell]] = {key: {} for key in labels(settings)}

    def put(self, server: str, values: dict[str, Cell]) -> None:
        for key, cell in values.items():
            self.cells[key][server] = cell

    def fill(self, server: str, reason: str) -> None:
        """Every row this server has no figure for gets ``reason``."""
        for row in self.cells.values():
            row.setdefault(server, Cell.na(reason))

    def rows(self) -> list[Row]:
        return [Row(label, unit, self.cells[key]) for key, (label, unit) in labels(self.settings).items()]

    # -- throughput: every server up at once, measured in alternating rounds ---------------------------

    def memory_session(self, name: str, make: Callable[[], servers.Target]) -> None:
        """For each kind of request: RSS on a fresh server after the first and the second count of it."""
        for kind in MEMORY_KINDS:
            rows = _memory_rows(kind, "", "")
            if name != "mock" and name not in kind.references:
                reason = "chat only (Prism is slow to 100k)" if name == "prism" else "no such endpoint"
                self.put(name, {row: Cell.na(reason) for row in rows})
                continue
            target = make()
            self.log(f"bench: {name}: memory, {kind.label} ({' '.join(target.argv[:4])} ...)")
            try:
                with servers.running(target) as server:
                    self.put(name, self._rss(server, kind))
            except (servers.StartError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
                self.put(name, {row: Cell.na(f"failed: {exc}"[:120]) for row in rows})

    def side_by_side(self, targets: dict[str, servers.Target]) -> None:
        """Start every target, then alternate them round by round so they share the same noise."""
        with ExitStack() as stack:
            up: dict[str, servers.Server] = {}
            for name, target in targets.items():
                try:
                    up[name] = stack.enter_context(servers.running(target))
                except servers.StartError as exc:
                    self.fill(name, f"failed: {exc}"[:120])
            self.log(f"bench: throughput of {', '.join(up)} in alternating rounds ...")
            self._put_loads(self._compare(up, lambda server: load.Load("GET", server.base + "/models",
                                                                       dict(servers.AUTH))),
                            "models_rps", "models_p50", "models_p99", "models_cpu")
            self._put_loads(self._compare(up, lambda server: load.Load("POST", server.base + "/chat/completions",
                                                                       JSON, chat_body())),
                            "chat_rps", "chat_p50", "chat_p99", "chat_cpu")
            body = stream_body(self.settings.stream_tokens)
            chunks: dict[str, int] = {}
            for name, server in up.items():
                chunks[name], reason = sse_chunks(server.base + "/chat/completions", body)
                if reason:
                    self.put(name, {key: Cell.na(reason) for key in ("stream_sps", "stream_cps", "stream_p50",
                                                                      "stream_p99")})
            streaming = {name: server for name, server in up.items() if chunks[name]}
            results = self._compare(streaming, lambda server: load.Load("POST", server.base + "/chat/completions",
                                                                        JSON, body))
            self._put_loads(results, "stream_sps", "stream_p50", "stream_p99")
            for name, result in results.items():
                self.put(name, {"stream_cps": Cell.na(result) if isinstance(result, str)
                                else Cell(result.rps * chunks[name])})
            for name, server in up.items():
                self.log(f"bench: {name}: {self.settings.paced_streams} paced streams ...")
                self.put(name, self._paced(server))

    def _compare(self, up: dict[str, servers.Server], make: Callable[[servers.Server], load.Load]
                 ) -> dict[str, load.LoadResult | str]:
        """Each server's median round by req/s (its p50/p99 go with it), or why there is none."""
        rounds: dict[str, list[load.LoadResult]] = {name: [] for name in up}
        s = self.settings
        if s.warmup:
            for server in up.values():
                load.run(_timed(make(server), 1, s.connections), self.wrk)
        for _ in range(s.rounds):
            for name, server in up.items():
                cpu = server.cpu_seconds()
                result = load.run(_timed(make(server), s.seconds, s.connections), self.wrk)
                cpu_us = 1e6 * (server.cpu_seconds() - cpu) / max(result.requests, 1)
                rounds[name].append(dataclasses.replace(result, cpu_us=cpu_us))
        out: dict[str, load.LoadResult | str] = {}
        for name, results in rounds.items():
            failed = [r for r in results if r.errors]
            out[name] = (f"{failed[0].errors} errors of {failed[0].requests}" if failed
                         else sorted(results, key=lambda r: r.rps)[len(results) // 2])
        return out

    def _put_loads(self, results: dict[str, load.LoadResult | str], rps: str, p50: str, p99: str,
                   cpu: str | None = None) -> None:
        for name, result in results.items():
            if isinstance(result, str):
                cells = {rps: Cell.na(result), p50: Cell.na(result), p99: Cell.na(result), cpu: Cell.na(result)}
            else:
                cells = {rps: Cell(result.rps), p50: Cell(result.p50_ms), p99: Cell(result.p99_ms),
                         cpu: Cell(result.cpu_us)}
            self.put(name, {key: cell for key, cell in cells.items() if key is not None})

    def _paced(self, server: servers.Server) -> dict[str, Cell]:
        s = self.settings
        keys = ("paced_ok", "paced_worst", "paced_median")
        url = server.base + "/chat/completions"
        headers = {**JSON, "X-Mock-TTFT-Ms": str(s.paced_ttft_ms), "X-Mock-Tokens-Per-S": str(s.paced_tokens_per_s)}
        body = stream_body(s.paced_tokens)
        chunks, reason = sse_chunks(url, body)
        if reason:
            return {key: Cell.na(reason) for key in keys}
        probe = load.pyload("streams", {"method": "POST", "url": url, "headers": headers, "body": body, "count": 1}, 60)
        record = probe["streams"][0]
        expected = pacing_seconds(record.get("events", 0), s.paced_ttft_ms, s.paced_tokens_per_s)
        if record["error"] or record["seconds"] < 0.8 * expected:
            why = record["error"] or f"pacing headers not honoured ({record['seconds']:.2f} s, paced {expected:.2f} s)"
            return {key: Cell.na(why) for key in keys}
        result = load.pyload("streams", {"method": "POST", "url": url, "headers": headers, "body": body,
                                         "count": s.paced_streams, "timeout": 10 * expected + 30}, 20 * expected + 120)
        held = [r for r in result["streams"] if not r["error"]]
        over = [100 * (r["seconds"] / pacing_seconds(r["events"], s.paced_ttft_ms, s.paced_tokens_per_s) - 1)
                for r in held]
        errors = sorted({r["error"] for r in result["streams"] if r["error"]})
        if errors:
            self.log(f"bench: {server.target.name}: paced stream errors: {errors[:3]}")
        return {"paced_ok": Cell(len(held)),
                "paced_worst": Cell(max(over)) if over else Cell.na("no stream held"),
                "paced_median": Cell(statistics.median(over)) if over else Cell.na("no stream held")}

    def _rss(self, server: servers.Server, kind: MemoryKind) -> dict[str, Cell]:
        first, second = self.settings.rss_counts
        spec = {"method": "POST", "url": server.base + kind.path, "headers": JSON, "body": kind.body,
                "seconds": 900, "connections": self.settings.connections, "then": kind.then}
        done = load.pyload("load", {**spec, "max_requests": first}, 960)
        rss_first = server.rss_kib() / 1024
        more = load.pyload("load", {**spec, "max_requests": second - done["requests"]}, 960)
        rss_second = server.rss_kib() / 1024
        errors = done["errors"] + more["errors"]
        if errors:
            reason = f"{errors} errors of {done['requests'] + more['requests']}"
            return {key: Cell.na(reason) for key in _memory_rows(kind, "", "")}
        return {f"rss_{kind.key}_first": Cell(rss_first), f"rss_{kind.key}_second": Cell(rss_second),
                f"rss_{kind.key}_ratio": Cell(rss_second / rss_first)}

    # -- start-up -----------------------------------------------------------------------------------

    def startups(self, name: str, upstream: servers.Target, other: Callable[[Path], servers.Target]) -> None:
        """Start-up time (median) and RSS after start-up on the bundled spec, a generated one and OpenAI's."""
        with tempfile.TemporaryDirectory() as tmp:
            generated = write_spec(Path(tmp) / "generated.yml", self.settings.spec_operations)
            for key, target in (("upstream", upstream), ("generated", other(generated)),
                                ("openai", other(servers.OPENAI_SPEC))):
                self.log(f"bench: {name}: start-up, {key} spec")
                seconds, rss = self._startup(target)
                self.put(name, {f"startup_{key}": seconds, f"rss_start_{key}": rss})

    def cached_startup(self, name: str, target: servers.Target) -> None:
        """Start-up on OpenAI's spec with the parsed-spec cache filled (a fresh cache dir, warmed once)."""
        self.log(f"bench: {name}: start-up, openai spec, cached")
        with tempfile.TemporaryDirectory() as cache:
            target = dataclasses.replace(target, env={**target.env, "MOCKSERVER_CACHE_DIR": cache})
            self._startup(dataclasses.replace(target, env=target.env))  # fills the cache
            seconds, _ = self._startup(target)
        self.put(name, {"startup_openai_cached": seconds})

    def _startup(self, target: servers.Target) -> tuple[Cell, Cell]:
        times, memory = [], []
        try:
            for _ in range(self.settings.startups):
                with servers.running(target, timeout=90) as server:
                    times.append(server.startup_s)
                    memory.append(server.rss_kib() / 1024)
        except servers.StartError as exc:
            failed = Cell.na(f"failed: {exc}"[:120])
            return failed, failed
        return Cell(statistics.median(times)), Cell(statistics.median(memory))

    # -- server settings ----------------------------------------------------------------------------

    def settings_rows(self) -> None:
        for http, loop in SERVER_SETTINGS:
            key = f"settings_{http}_{loop}"
            missing = [m for m in (http, loop) if m not in ("h11", "asyncio") and importlib.util.find_spec(m) is None]
            if missing:
                for name in ("mock", "bare"):
                    self.put(name, {key: Cell.na(f"{', '.join(missing)} not installed")})
                continue
            self.log(f"bench: chat under uvicorn {http} + {loop} ...")
            with ExitStack() as stack:
                try:
                    up = {name: stack.enter_context(servers.running(target)) for name, target in
                          (("mock", servers.mock_with(http, loop)), ("bare", servers.bare(http, loop)))}
                except servers.StartError as exc:
                    for name in ("mock", "bare"):
                        self.put(name, {key: Cell.na(f"failed: {exc}"[:120])})
                    continue
                results = self._compare(up, lambda server: load.Load("POST", server.base + "/chat/completions",
                                                                     JSON, chat_body()))
            for name, result in results.items():
                self.put(name, {key: Cell.na(result) if isinstance(result, str) else Cell(result.rps)})

    # -- conformance suite --------------------------------------------------------------------------

    def suite(self) -> None:
        key = "suite_wall"
        self.put("bare", {key: Cell.na("no reference")})
        self.put("prism", {key: Cell.na("no reference")})
        if not self.settings.suite:
            self.put("mock", {key: Cell.na("not run in --quick")})
            return
        command = shutil.which("contract-tests", path=str(Path(sys.executable).parent)) or "contract-tests"
        probe = subprocess.run([command, "run", "--help"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            self.put("mock", {key: Cell.na("`contract-tests run` does not exist yet")})
            return
        self.log("bench: contract-tests run (default profile, embedded mock) ...")
        started = time.perf_counter()
        try:
            done = subprocess.run([command, "run"], capture_output=True, text=True, timeout=1800, cwd=servers.ROOT)
        except subprocess.TimeoutExpired:
            self.put("mock", {key: Cell.na("over 1800 s")})
            return
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            self.put("mock", {key: Cell.na(f"exit {done.returncode}: {(done.stderr or done.stdout)[-80:].strip()}")})
            return
        self.put("mock", {key: Cell(wall)})


def _timed(spec: load.Load, seconds: float, connections: int) -> load.Load:
    return load.Load(spec.method, spec.url, spec.headers, spec.body, seconds, connections)


def pacing_seconds(events: int, ttft_ms: int, tokens_per_s: int) -> float:
    """How long a paced stream should take: first chunk at TTFT, then one chunk per 1/rate (``[DONE]`` excluded)."""
    chunks = max(events - 1, 1)
    return ttft_ms / 1000 + (chunks - 1) / tokens_per_s


def sse_chunks(url: str, body: str) -> tuple[int, str | None]:
    """(chunks before ``[DONE]``, None) when ``stream: true`` answers an SSE stream; else (0, why not)."""
    try:
        with httpx.Client(timeout=60) as client, client.stream("POST", url, headers=JSON, content=body) as answer:
            kind = answer.headers.get("content-type", "")
            if answer.status_code != 200:
                return 0, f"stream: true answered HTTP {answer.status_code}"
            if not kind.startswith("text/event-stream"):
                return 0, f"stream: true answered {kind.split(';')[0] or 'no content type'}, not SSE"
            events = [line for line in answer.iter_lines() if line.startswith("data:")]
    except httpx.HTTPError as exc:
        return 0, f"stream failed: {exc}"[:100]
    if len(events) < 2 or events[-1].strip() != "data: [DONE]":
        return 0, "SSE without chunks ending in data: [DONE]"
    return len(events) - 1, None
