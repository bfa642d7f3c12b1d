"""One request and spend budget for a whole pytest-xdist run, however many workers and hosts.

Without this, every xdist worker opens its own session with its own :class:`~contract_tests.budget.Budget`,
so ``-n 8 --max-spend 0.05`` could spend 0.40. Here the controller holds the run's budget in an
:class:`Allowance` and serves it on a small TCP port (:class:`AllowanceServer`); its address and a
random token reach every worker through xdist's ``workerinput``, so it works for remote workers
too (``CONTRACT_TESTS_BUDGET_ADDRESS`` says where to listen; docs/conformance-suite.md). Each
worker sends every request through an :class:`AllowanceTransport`, which asks the controller
before the request leaves and tells it the ``usage.cost`` the answer reported.

The promise: requests over all workers never pass ``--max-requests``; the reported spend never
passes ``--max-spend`` by more than one call. A request is admitted while others are in flight only
if the spend so far, plus what every call in flight may cost, plus what this one may cost fits the
budget; what a call may cost is the most a call to the same path has cost so far (a path's first
call waits until no other first call of that path is in flight, and so is costed before the next).
With nothing in flight a request is admitted while the spend is under the budget: that one call is
the "plus one". The bound holds as long as no call costs more than the dearest earlier call to its
path (a path's first call: than the dearest call so far); two calls of unknown cost are never out at once.

Each worker also sends its results back (``workeroutput``); :func:`merge_runs` folds the workers'
JSON results into one run, which the controller writes to ``CONTRACT_TESTS_JSON`` when set.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from contract_tests.budget import Budget, BudgetExhausted
from contract_tests.results import CheckResult, Finding, Layer, Origin, Outcome, RunResult
from contract_tests.schema_layer import PREFIX

ADDRESS_ENV = "CONTRACT_TESTS_BUDGET_ADDRESS"  # host[:port] the controller listens on (default 127.0.0.1:0)
ADVERTISE_ENV = "CONTRACT_TESTS_BUDGET_ADVERTISE"  # host the workers dial, when not the listening one
JSON_ENV = "CONTRACT_TESTS_JSON"  # where the controller writes the merged JSON results
SOCKET_TIMEOUT_S = 900.0  # a worker's wait for an answer (a take may wait for calls in flight to end)
INPUT_KEY = "ct_budget"
OUTPUT_KEY = "ct_run"


# -- the budget of the run (controller) ---------------------------------------------------------


@dataclass
class Allowance:
    max_requests: int | None
    max_spend: float | None
    requests: int = 0
    spend: float = 0.0
    stopped: str | None = None
    dearest: dict[str, float] = field(default_factory=dict)  # path -> the most one call to it has cost
    in_flight: dict[int, tuple[str, float | None]] = field(default_factory=dict)  # ticket -> (path, estimate)
    _next: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def take(self, path: str, wait_s: float | None = None) -> int:
        """A ticket for one request to ``path``, or :class:`BudgetExhausted`; may wait for calls in flight.

        Every ticket is settled when its call ends (its HTTP timeout bounds the wait); ``wait_s`` is
        for tests, which get a :class:`TimeoutError` after it.
        """
        deadline = None if wait_s is None else time.monotonic() + wait_s
        with self._cond:
            while True:
                if self.max_requests is not None and self.requests >= self.max_requests:
                    self.stopped = f"request budget reached ({self.max_requests} requests over all workers)"
                    raise BudgetExhausted(self.stopped)
                if self.max_spend is not None and self.spend >= self.max_spend:
                    self.stopped = f"spend budget reached (${self.spend:.6f} of ${self.max_spend:.6f} over all workers)"
                    raise BudgetExhausted(self.stopped)
                if self._fits(path):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"no room for a call to {path} while {len(self.in_flight)} are out")
                self._cond.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            self.requests += 1
            self._next += 1
            self.in_flight[self._next] = (path, self.dearest.get(path))
            return self._next

    def _fits(self, path: str) -> bool:
        if self.max_spend is None or not self.in_flight:
            return True
        estimate = self.dearest.get(path)
        if estimate is None:  # never costed: only while no other first call of the path is out
            if any(p == path and e is None for p, e in self.in_flight.values()):
                return False
            estimate = max(self.dearest.values(), default=0.0)
        if any(e is None for _, e in self.in_flight.values()):
            return False  # a call of unknown cost is out: wait until it is costed
        reserved = sum(e for _, e in self.in_flight.values() if e is not None)
        return self.spend + reserved + estimate <= self.max_spend

    def charge(self, requests: int) -> None:
        """Count requests sent outside the allowance (each worker's preflight, before it has the address)."""
        with self._cond:
            self.requests += requests

    def settle(self, ticket: int, cost: float) -> None:
        """The call of ``ticket`` is over; it reported ``cost`` USD (0 when none, or when it failed)."""
        with self._cond:
            entry = self.in_flight.pop(ticket, None)
            cost = max(0.0, cost)
            self.spend += cost
            if entry is not None:
                self.dearest[entry[0]] = max(cost, self.dearest.get(entry[0], 0.0))
            self._cond.notify_all()


class AllowanceServer:
    """The controller's side: JSON lines over TCP, one connection per worker, each checked by a token."""

    def __init__(self, allowance: Allowance, host: str = "127.0.0.1", port: int = 0, advertise: str | None = None):
        self.allowance = allowance
        self.token = secrets.token_urlsafe(24)
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    try:
                        message = json.loads(line)
                        if not isinstance(message, dict) or not secrets.compare_digest(str(message.get("token")),
                                                                                      outer.token):
                            return  # not one of ours: hang up
                        answer = outer.answer(message)
                    except ValueError:
                        return
                    self.wfile.write(json.dumps(answer).encode() + b"\n")
                    self.wfile.flush()

        class Server(socketserver.ThreadingTCPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True

        self.server = Server((host, port), Handler)
        bound = self.server.server_address[1]
        shown = advertise or (socket.getfqdn() if host in ("0.0.0.0", "::", "") else host)
        self.address = f"[{shown}]:{bound}" if ":" in shown else f"{shown}:{bound}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="budget-server", daemon=True)
        self.thread.start()

    def answer(self, message: Mapping[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        if op == "take":
            try:
                return {"ticket": self.allowance.take(str(message.get("path", "")))}
            except BudgetExhausted as exc:
                return {"refused": str(exc)}
        if op == "settle":
            self.allowance.settle(int(message.get("ticket", 0)), float(message.get("cost", 0.0)))
            return {}
        return {"error": f"unknown op {op!r}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- a worker's side ---------------------------------------------------------------------------


class AllowanceClient:
    """One connection to the controller's budget, shared by the worker's threads."""

    def __init__(self, address: str, token: str):
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=SOCKET_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.token = token
        self.lock = threading.Lock()

    def ask(self, **message: Any) -> dict[str, Any]:
        with self.lock:
            self.sock.sendall(json.dumps({"token": self.token, **message}).encode() + b"\n")
            line = self.reader.readline()
        if not line:
            raise BudgetExhausted("the run's budget keeper (the xdist controller) is gone")
        return json.loads(line)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class AllowanceTransport(httpx.BaseTransport):
    """Every request asks the run's budget first and reports the ``usage.cost`` its answer carried."""

    def __init__(self, inner: httpx.BaseTransport, client: AllowanceClient, budget: Budget):
        self.inner = inner
        self.client = client
        self.budget = budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from contract_tests.target import reported_cost

        answer = self.client.ask(op="take", path=request.url.path)
        if "refused" in answer:
            self.budget.stopped = answer["refused"]
            raise BudgetExhausted(answer["refused"])
        cost = 0.0
        try:
            response = self.inner.handle_request(request)
            try:
                body = response.read()
            finally:
                response.close()
            if 200 <= response.status_code < 300:
                cost = reported_cost(response.headers.get("content-type", ""), body)
            return httpx.Response(response.status_code, headers=response.headers, content=body,
                                  extensions=response.extensions, request=request)
        finally:
            self.client.ask(op="settle", ticket=answer["ticket"], cost=cost)

    def close(self) -> None:
        self.inner.close()
        self.client.close()


def attach(target: Any, workerinput: Mapping[str, Any] | None) -> bool:
    """Route ``target``'s requests through the run's budget when this is an xdist worker given one."""
    given = (workerinput or {}).get(INPUT_KEY)
    if not given:
        return False
    client = AllowanceClient(given["address"], given["token"])
    target.transport.inner = AllowanceTransport(target.transport.inner, client, target.budget)
    return True


# -- the controller's pytest hooks ---------------------------------------------------------------


def start_server(options: Any, environ: Mapping[str, str] = os.environ) -> AllowanceServer | None:
    """The controller's budget server, when the run has a budget at all."""
    from contract_tests.session import budget_limits

    max_requests, max_spend = budget_limits(options)
    if max_requests is None and max_spend is None:
        return None
    host, _, port = environ.get(ADDRESS_ENV, "127.0.0.1:0").rpartition(":")
    if not host:
        host, port = port, "0"
    return AllowanceServer(Allowance(max_requests, max_spend), host.strip("[]"), int(port or 0),
                           environ.get(ADVERTISE_ENV))


class XdistBudget:
    """The pytest side: the controller serves the budget and merges results; each worker uses and reports them."""

    def __init__(self, config: Any, options: Any):
        self.config = config
        self.workerinput = getattr(config, "workerinput", None)
        self.server: AllowanceServer | None = None
        self.parts: list[dict[str, Any]] = []
        self.run = RunResult(target="", profile="", seed=options.seed, started=time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                                                                               time.gmtime()))
        self.started = time.monotonic()
        self.budget: Budget | None = None
        if self.workerinput is None and getattr(config.option, "dist", "no") != "no":
            self.server = start_server(options)

    def attach(self, target: Any) -> None:
        """Called by the ``conformance`` fixture with the worker's open target."""
        self.budget = target.budget
        self.run.target = getattr(target, "shown_url", "")
        attach(target, self.workerinput)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.server is not None:  # the worker's first request (its preflight) is charged here, before it is sent
            self.server.allowance.charge(1)
            node.workerinput[INPUT_KEY] = {"address": self.server.address, "token": self.server.token}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.workerinput is None and getattr(self.config.option, "dist", "no") != "no":
            return  # the controller: each worker records its own and sends them at its end
        name = report.nodeid.rpartition("[")[2].rstrip("]")
        layer = (Layer.SCHEMA if "test_schema[" in report.nodeid else Layer.SEMANTIC if "test_semantics[" in report.nodeid
                 else None)
        if layer is None or not (report.when == "call" or report.skipped):
            return
        outcome = Outcome.FAIL if report.failed else Outcome.SKIP if report.skipped else Outcome.PASS
        findings = [Finding(message=report.longreprtext[-2000:])] if report.failed else []
        skip = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
        self.run.add(CheckResult(check=(PREFIX if layer is Layer.SCHEMA else "") + name, operation="", layer=layer,
                                 level="MUST" if report.failed else "", outcome=outcome, findings=findings,
                                 skip_reason=skip))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        part = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if part:
            self.parts.append(part)

    def pytest_sessionfinish(self, session: Any) -> None:
        if self.budget is not None:
            self.run.requests, self.run.spend = self.budget.requests, self.budget.spend
            self.run.stopped = self.budget.stopped or ""
        self.run.duration = time.monotonic() - self.started
        if self.workerinput is not None:
            self.config.workeroutput[OUTPUT_KEY] = json.loads(json.dumps(self.run.as_dict(), default=str))  # plain data
            return
        if self.server is not None:
            self.server.close()
        path = os.environ.get(JSON_ENV)
        if path and (self.parts or self.run.results):
            merged = merge_runs(self.parts or [self.run.as_dict()])
            with open(path, "w", encoding="utf-8") as out:
                json.dump(merged, out, indent=2, default=str)


def install(config: Any, options: Any) -> XdistBudget:
    plugin = XdistBudget(config, options)
    config.pluginmanager.register(plugin, "contract-tests-shared-budget")
    return plugin


# -- one run from the workers' results -----------------------------------------------------------


def merge_runs(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The workers' JSON results (``RunResult.as_dict()`` each) as one run, in the same shape.

    Cells seen by several workers are folded as :meth:`CheckResult.merge` does (a failure wins over a
    pass, a pass over a skip); requests and spend add up; the run started with the first worker and
    lasted as long as the longest; notes and stop reasons are kept once each.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("no worker results to merge")
    first = parts[0]
    run = RunResult(target=first.get("target", ""), profile=first.get("profile", ""), seed=first.get("seed", 0),
                    started=min(p.get("started", "") for p in parts))
    stops: list[str] = []
    for part in parts:
        for item in part.get("results", []):
            run.add(_check_result(item))
        run.requests += int(part.get("requests", 0))
        run.spend += float(part.get("spend", 0.0))
        run.duration = max(run.duration, float(part.get("duration", 0.0)))
        for note in part.get("notes", []):
            if note not in run.notes:
                run.notes.append(note)
        if part.get("stopped") and part["stopped"] not in stops:
            stops.append(part["stopped"])
    run.stopped = "; ".join(stops)
    run.notes.append(f"merged from {len(parts)} workers")
    return run.as_dict()


def _check_result(item: Mapping[str, Any]) -> CheckResult:
    findings = [Finding(**{**f, "origin": Origin(f.get("origin", Origin.TARGET.value))}) for f in item.get("findings", [])]
    return CheckResult(**{**item, "layer": Layer(item["layer"]), "outcome": Outcome(item["outcome"]), "findings": findings})
