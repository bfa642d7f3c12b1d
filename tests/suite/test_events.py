"""The run as one stream of events: its order, its consumers, and clean-up when it ends early."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from contract_tests.events import BudgetStopped, CheckFinished, CheckStarted, RunFinished, RunStarted
from contract_tests.profiles import PROFILES
from contract_tests.progress import Progress
from contract_tests.results import CheckResult, Layer, Outcome, RunResult
from contract_tests.runner import run, run_events
from contract_tests.session import Options, UsageError
from contract_tests.stream_reader import StreamReader
from tests.gateways import ADMIN_KEY, ReferenceGateway, mock_transport

LOCAL_URL = "http://127.0.0.1:9/v1"  # loopback: writes allowed; answered by the reference gateway, not the network


def options(gateway, **fields) -> Options:
    return Options(base_url=LOCAL_URL, api_key=ADMIN_KEY, transport=mock_transport(gateway), **fields)


@pytest.fixture
def few_examples(monkeypatch):
    monkeypatch.setitem(PROFILES, "quick", replace(PROFILES["quick"], phases=("fuzzing",), max_examples=1))


def test_the_stream_goes_from_started_to_finished_one_layer_after_the_other(few_examples):
    events = list(run_events(options(ReferenceGateway(), include=("schema:not_a_server_error", "models.*"))))
    started, finished = events[0], events[-1]
    assert isinstance(started, RunStarted) and isinstance(finished, RunFinished)
    assert started.schema_checks == ("schema:not_a_server_error",)
    assert started.semantic_checks == ("models.unique_ids", "models.non_negative_prices", "models.prices_listed")
    middle = events[1:-1]
    layers = [e.layer for e in middle]
    assert layers == sorted(layers, key=lambda layer: layer.rank) and set(layers) == {Layer.SCHEMA, Layer.SEMANTIC}
    semantic = [e for e in middle if e.layer is Layer.SEMANTIC]
    assert [type(e) for e in semantic] == [CheckStarted, CheckFinished] * 3  # each check: started, then finished
    assert [e.check for e in semantic[::2]] == [e.result.check for e in semantic[1::2]] == list(started.semantic_checks)
    schema = [e for e in middle if e.layer is Layer.SCHEMA]
    assert len(schema) > 1 and all(isinstance(e, CheckFinished) for e in schema)  # one per operation at least
    folded = RunResult("", "", 0, "")
    for event in middle:
        if isinstance(event, CheckFinished):
            folded.add(event.result)
    assert [(r.key, r.outcome, r.observations) for r in finished.result.results] == [
        (r.key, r.outcome, r.observations) for r in folded.results]
    assert len(finished.exchanges) == finished.result.requests > 0
    assert [e.requests for e in middle] == sorted(e.requests for e in middle)


def test_run_hands_every_event_to_each_consumer_and_returns_the_last_result():
    first: list = []
    second: list = []
    result = run(options(ReferenceGateway(), include=("usage.*",)), first.append, second.append)
    assert first == second and isinstance(first[-1], RunFinished)
    assert result is first[-1].result and result.exit_code == 0
    assert [e.result.check for e in first if isinstance(e, CheckFinished)] == [
        "usage.total_is_sum", "usage.cost_present", "usage.cost_matches_prices", "usage.max_tokens_honoured"]


def test_the_stream_is_read_only_as_far_as_a_check_needs_and_closing_it_deletes_the_keys():
    gateway = ReferenceGateway()
    reader = StreamReader(run_events(options(gateway, include=("errors.error_shape", "keys.created_key_authenticates",
                                                                "keys.deleted_key_rejected"))))
    assert reader.started.semantic_checks[0] == "errors.error_shape"
    [errors] = reader.results_of("errors.error_shape")
    assert errors.outcome is Outcome.PASS and len(gateway.keys) == 1  # the key checks have not run yet
    [created] = reader.results_of("keys.created_key_authenticates")
    assert created.outcome is Outcome.PASS and len(gateway.keys) == 2  # the run's key is still there
    reader.close()  # as pytest does at the end of its session (-x included)
    assert list(gateway.keys) == ["admin"]  # the session's one clean-up deleted it
    assert reader.finished is None  # the rest of the run never happened


def test_schema_results_are_complete_before_a_test_reads_them(few_examples):
    reader = StreamReader(run_events(options(ReferenceGateway(), include=("schema:not_a_server_error",
                                                                          "models.unique_ids"))))
    observations = reader.results_of("schema:not_a_server_error")
    assert {r.operation for r in observations} == {f"{o.method} {o.path}" for o in spec_operations()}
    assert reader.results_of("schema:status_code_conformance") == []  # not selected: no result, not a hang
    assert [r.outcome for r in reader.results_of("models.unique_ids")] == [Outcome.PASS]
    reader.close()


def spec_operations():
    from mockserver.spec import load_spec

    return load_spec().operations


def test_a_run_that_cannot_start_raises_before_any_event():
    with pytest.raises(UsageError, match="http"):
        StreamReader(run_events(Options(base_url="ftp://gateway.test", api_key="k")))


def test_the_budget_stopping_a_layer_is_told_once_and_the_checks_after_it_skip():
    events = list(run_events(options(ReferenceGateway(), exclude=("schema:*",), max_requests=12)))
    stops = [e for e in events if isinstance(e, BudgetStopped)]
    assert [(s.layer, s.reason) for s in stops] == [(Layer.SEMANTIC, "request budget reached (12 requests)")]
    after = events[events.index(stops[0]) + 1:-1]
    skipped = [e.result for e in after if isinstance(e, CheckFinished)]
    assert skipped and all(r.outcome is Outcome.SKIP and "request budget" in r.skip_reason for r in skipped)
    assert events[-1].result.stopped == stops[0].reason


def test_progress_shows_the_events_on_one_line():
    stream = io.StringIO()
    progress = Progress(stream, interval=0)
    result = CheckResult("schema:not_a_server_error", "GET /models", Layer.SCHEMA, "MUST", Outcome.PASS)
    progress(CheckFinished(result, 7))
    progress(CheckStarted(Layer.SEMANTIC, "sse.done_last", "POST /chat/completions", 9))
    progress(BudgetStopped(Layer.SEMANTIC, "request budget reached (10 requests)", 10))
    progress(RunFinished(RunResult("t", "quick", 0, ""), ()))
    lines = stream.getvalue().split("\r\x1b[K")
    assert lines == ["", "schema: GET /models (7 requests)", "semantic: sse.done_last (9 requests)",
                     "semantic: stopped: request budget reached (10 requests)", ""]


def test_a_consumer_that_fails_still_ends_the_session():
    gateway = ReferenceGateway()

    def fails_after_a_key(event):
        if isinstance(event, CheckFinished) and event.result.check == "keys.created_key_authenticates":
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="disk is full") as failed:
        run(options(gateway, include=("keys.*",)), fails_after_a_key)
    assert list(gateway.keys) == ["admin"]  # while the traceback (and the stream in its frames) is still alive
    assert failed.traceback
