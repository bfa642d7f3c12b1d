"""The run-wide budget of contract_tests/shared_budget.py: the allowance's rule, its server, the merge of results."""

from __future__ import annotations

import threading

import httpx
import pytest

from contract_tests.budget import Budget, BudgetExhausted
from contract_tests.results import CheckResult, Finding, Layer, Outcome, RunResult
from contract_tests.runner import Options
from contract_tests.session import budget_limits
from contract_tests.shared_budget import (
    Allowance,
    AllowanceClient,
    AllowanceServer,
    AllowanceTransport,
    merge_runs,
    start_server,
)


def test_requests_never_pass_the_budget_over_many_threads():
    allowance = Allowance(max_requests=50, max_spend=None)
    taken, refused = [], []

    def worker() -> None:
        for _ in range(30):
            try:
                ticket = allowance.take("/models")
            except BudgetExhausted:
                refused.append(1)
                continue
            taken.append(ticket)
            allowance.settle(ticket, 0.0)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 50 and len(refused) == 70


def test_a_paths_first_call_is_costed_before_a_second_goes_out():
    allowance = Allowance(max_requests=None, max_spend=1.0)
    first = allowance.take("/chat/completions")
    with pytest.raises(TimeoutError):  # a second call of unknown cost waits for the first to be costed
        allowance.take("/chat/completions", wait_s=0.05)
    allowance.settle(first, 0.3)
    a = allowance.take("/chat/completions")
    b = allowance.take("/chat/completions")  # 0.3 spent + 0.3 out + 0.3 fits in 1.0
    with pytest.raises(TimeoutError):  # 0.3 + 0.6 out + 0.3 does not
        allowance.take("/chat/completions", wait_s=0.05)
    allowance.settle(a, 0.3)
    allowance.settle(b, 0.3)
    last = allowance.take("/chat/completions")  # nothing out and 0.9 < 1.0: the "plus one call"
    allowance.settle(last, 0.3)
    with pytest.raises(BudgetExhausted, match="spend budget reached"):
        allowance.take("/chat/completions")
    assert allowance.spend == pytest.approx(1.2) and allowance.spend <= 1.0 + 0.3 + 1e-9


def test_free_calls_go_out_together():
    allowance = Allowance(max_requests=None, max_spend=0.01)
    allowance.settle(allowance.take("/models"), 0.0)
    tickets = [allowance.take("/models") for _ in range(10)]  # costed at 0: all at once
    assert len(set(tickets)) == 10


def test_the_server_serves_the_allowance_to_token_holders_only():
    server = AllowanceServer(Allowance(max_requests=2, max_spend=None))
    try:
        client = AllowanceClient(server.address, server.token)
        assert "ticket" in client.ask(op="take", path="/models")
        assert "ticket" in client.ask(op="take", path="/models")
        assert client.ask(op="take", path="/models")["refused"].startswith("request budget reached (2 requests")
        stranger = AllowanceClient(server.address, "wrong")
        with pytest.raises(BudgetExhausted, match="gone"):
            stranger.ask(op="take", path="/models")
        client.close()
        stranger.close()
    finally:
        server.close()


def test_the_transport_asks_first_and_reports_the_cost():
    server = AllowanceServer(Allowance(max_requests=None, max_spend=0.002))
    sent = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={"usage": {"cost": 0.001}})

    budget = Budget()
    transport = AllowanceTransport(httpx.MockTransport(gateway), AllowanceClient(server.address, server.token), budget)
    try:
        with httpx.Client(transport=transport, base_url="http://gw") as client:
            client.post("/chat/completions")
            client.post("/chat/completions")
            with pytest.raises(BudgetExhausted):
                client.post("/chat/completions")
        assert len(sent) == 2 and server.allowance.spend == pytest.approx(0.002)
        assert budget.stopped and "over all workers" in budget.stopped
    finally:
        server.close()


def test_the_runs_budget_is_the_options_else_the_profiles():
    assert budget_limits(Options(base_url="https://gw.example/v1")) == (200, 0.05)  # live by default
    assert budget_limits(Options(base_url="http://127.0.0.1:8080/v1", max_spend=0.5)) == (None, 0.5)
    assert start_server(Options(base_url="http://127.0.0.1:8080/v1")) is None  # no budget: no server


def test_the_workers_results_merge_into_one_run():
    def part(outcome: Outcome, requests: int, spend: float, stopped: str = "") -> dict:
        run = RunResult(target="http://gw/v1", profile="live", seed=0, started=f"2026-12-01T00:0{requests}:00+00:00",
                        duration=float(requests), requests=requests, spend=spend, stopped=stopped)
        run.add(CheckResult("sse.done_last", "POST /chat/completions", Layer.SEMANTIC, "MUST", outcome,
                            findings=[Finding("no [DONE]")] if outcome is Outcome.FAIL else []))
        run.add(CheckResult(f"only.{requests}", "GET /models", Layer.SEMANTIC, "SHOULD", Outcome.PASS))
        return run.as_dict()

    merged = merge_runs([part(Outcome.PASS, 3, 0.01), part(Outcome.FAIL, 5, 0.02, "spend budget reached"),
                         part(Outcome.SKIP, 4, 0.0, "spend budget reached")])
    assert merged["requests"] == 12 and merged["spend"] == pytest.approx(0.03) and merged["duration"] == 5.0
    assert merged["started"] == "2026-12-01T00:03:00+00:00" and merged["stopped"] == "spend budget reached"
    cell = next(r for r in merged["results"] if r["check"] == "sse.done_last")
    assert cell["outcome"] == "fail" and cell["observations"] == 3 and cell["findings"][0]["message"] == "no [DONE]"
    assert merged["counts"] == {"pass": 3, "fail": 1, "skip": 0} and merged["exit_code"] == 1
    with pytest.raises(ValueError):
        merge_runs([])
