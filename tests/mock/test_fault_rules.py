"""The pure parts of fault injection: header directives, scenario files, decisions, rate windows."""

from __future__ import annotations

import math

import pytest

from mockserver.errors import MockError
from mockserver.faults.decide import decide
from mockserver.faults.headers import read_directives
from mockserver.faults.ratelimit import RateLimiter, estimate_tokens, format_duration
from mockserver.faults.scenario import ScenarioError, StreamFault, build_scenario, from_options, parse_scenario


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in values.items()]


def test_no_fault_headers_is_none_and_other_preferences_are_ignored():
    assert read_directives(headers(authorization="Bearer x", x_mock_reply="hi")) is None
    assert read_directives(headers(prefer="return=minimal")) is None


def test_directives_are_read_from_every_header():
    found = read_directives(headers(prefer='code=429, example="big", dynamic=true', x_mock_latency_ms="250",
                                    x_mock_stream_fault="stall; after=3; seconds=1.5"))
    assert (found.code, found.example, found.dynamic, found.latency_ms) == (429, "big", True, 250)
    assert found.stream_fault == StreamFault("stall", after=3, seconds=1.5)
    assert read_directives(headers(x_mock_stream_fault="TRUNCATE")).stream_fault == StreamFault("truncate", after=1)


@pytest.mark.parametrize(
    ("name", "value", "param"),
    [
        ("prefer", "code=abc", "Prefer"),
        ("prefer", "code=99", "Prefer"),
        ("prefer", "dynamic=maybe", "Prefer"),
        ("prefer", "example=", "Prefer"),
        ("x_mock_latency_ms", "soon", "X-Mock-Latency-Ms"),
        ("x_mock_latency_ms", "-5", "X-Mock-Latency-Ms"),
        ("x_mock_latency_ms", "nan", "X-Mock-Latency-Ms"),
        ("x_mock_stream_fault", "explode", "X-Mock-Stream-Fault"),
        ("x_mock_stream_fault", "truncate; after=-1", "X-Mock-Stream-Fault"),
        ("x_mock_stream_fault", "truncate; seconds=3", "X-Mock-Stream-Fault"),
        ("x_mock_stream_fault", "stall; seconds=forever", "X-Mock-Stream-Fault"),
    ],
)
def test_bad_header_values_are_a_400_naming_the_header(name, value, param):
    with pytest.raises(MockError) as info:
        read_directives(headers(**{name: value}))
    assert info.value.status == 400 and info.value.param == param and param in info.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("errors: [{status: 418, rate: 0.1}]", "/errors/0/status: 418 is not one of 429, 500, 502, 503, 504"),
        ("errors: [{status: 503, rate: 1.5}]", "/errors/0/rate: 1.5 is greater than the maximum of 1"),
        ("errors: [{status: 503, rate: 0.6}, {status: 500, rate: 0.6}]", "add up to 1.2, more than 1"),
        ("latency: {distribution: fixed}", '/latency: "ms" is a required property'),
        ("latency: {distribution: fixed, ms: .inf}", "/latency/ms: inf is not a finite number"),
        ("latency: {distribution: uniform, min_ms: 9, max_ms: 1}", "min_ms (9) is greater than max_ms (1)"),
        ("rate_limits: {rpm: 0}", "/rate_limits/rpm"),
        ("stream_faults: [{fault: melt, rate: 1}]", "/stream_faults/0/fault"),
        ("surprise: 1", "'surprise' was unexpected"),
        ("- a list", "a scenario is a mapping"),
        ("errors: [unclosed", "not valid YAML"),
    ],
)
def test_bad_scenarios_are_one_line_naming_the_place(text, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="chaos.yml")
    assert str(info.value).startswith("chaos.yml") and message in str(info.value) and "\n" not in str(info.value)


def test_example_scenario_file_loads_and_round_trips():
    from pathlib import Path

    scenario = from_options(str(Path(__file__).parents[2] / "examples" / "scenario.yml"))
    assert scenario is not None and not scenario.empty
    assert build_scenario(scenario.as_dict()) == scenario


def test_cli_shortcuts_replace_the_files_fields(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("errors: [{status: 500, rate: 0.5}]\nrate_limits: {rpm: 10, tpm: 99}\n")
    scenario = from_options(str(path), latency_ms=5, error_rates=["503=0.25"], rpm=3)
    assert scenario.latency.ms == 5 and [(e.status, e.rate) for e in scenario.errors] == [(503, 0.25)]
    assert (scenario.rate_limits.rpm, scenario.rate_limits.tpm) == (3, 99)
    assert from_options(None) is None
    with pytest.raises(ScenarioError, match="STATUS=RATE"):
        from_options(None, error_rates=["503"])


def test_decisions_depend_only_on_seed_and_sequence():
    scenario = build_scenario({"errors": [{"status": 503, "rate": 0.3}],
                               "latency": {"distribution": "lognormal", "median_ms": 100, "sigma": 0.5}})
    first = [decide(scenario, 7, n, "op") for n in range(1, 200)]
    assert first == [decide(scenario, 7, n, "op") for n in range(1, 200)]
    assert first != [decide(scenario, 8, n, "op") for n in range(1, 200)]
    assert decide(scenario, 7, 150, "op") == first[149]  # no hidden state: any request can be replayed alone


def test_latency_distributions_have_the_configured_shape():
    def sample(latency):
        scenario = build_scenario({"latency": latency})
        return sorted(decide(scenario, 1, n, "op").latency_ms for n in range(2000))

    assert set(sample({"distribution": "fixed", "ms": 40})) == {40}
    uniform = sample({"distribution": "uniform", "min_ms": 10, "max_ms": 30})
    assert 10 <= uniform[0] and uniform[-1] <= 30 and abs(uniform[1000] - 20) < 1
    lognormal = sample({"distribution": "lognormal", "median_ms": 100, "sigma": 0.5})
    assert abs(lognormal[1000] - 100) < 6  # the median
    assert abs(math.log(lognormal[1683] / lognormal[1000]) - 0.5) < 0.06  # one sigma above: 84th percentile


def test_rules_apply_only_to_their_operations():
    scenario = build_scenario({"errors": [{"status": 500, "rate": 1, "operations": ["createEmbedding"]}]})
    assert decide(scenario, 0, 1, "createEmbedding").error.status == 500
    assert decide(scenario, 0, 1, "listModels").error is None


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_window_refuses_then_reopens():
    clock = Clock()
    limiter = RateLimiter(rpm=2, tpm=None, clock=clock)
    assert limiter.check("a", 0).headers["x-ratelimit-remaining-requests"] == "1"
    assert limiter.check("a", 0).allowed
    clock.now += 15.2
    refused = limiter.check("a", 0)
    assert not refused.allowed and refused.exceeded == "requests" and refused.retry_after_s == 45
    assert refused.headers["Retry-After"] == "45" and refused.headers["x-ratelimit-reset-requests"] == "45s"
    assert limiter.check("b", 0).allowed  # per key
    clock.now += 45
    assert limiter.check("a", 0).allowed


def test_tokens_per_minute_counts_estimated_tokens():
    limiter = RateLimiter(rpm=None, tpm=100, clock=Clock())
    assert limiter.check("a", 60).headers["x-ratelimit-remaining-tokens"] == "40"
    refused = limiter.check("a", 60)
    assert not refused.allowed and refused.exceeded == "tokens" and refused.headers["x-ratelimit-limit-tokens"] == "100"
    assert limiter.check("a", 40).allowed
    assert estimate_tokens(b"x" * 10, 16) == 3 + 16 and estimate_tokens(b"", True) == 0


@pytest.mark.parametrize(("seconds", "text"), [(0.25, "250ms"), (1, "1s"), (59.1, "1m0s"), (360, "6m0s"), (61, "1m1s")])
def test_reset_durations_use_openais_format(seconds, text):
    assert format_duration(seconds) == text
