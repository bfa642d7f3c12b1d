"""The routing checks' options and limits: the policies a run calls, the bundled routing file, live-target skips."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from contract_tests import cli
from contract_tests.checks.policies import BUNDLED_ROUTING, Policies
from contract_tests.results import Outcome
from contract_tests.runner import run
from contract_tests.session import Options
from tests.faults import FAULTS
from tests.gateways import ADMIN_KEY, ROUTING_FILE, ReferenceGateway, mock_transport

ROOT = Path(__file__).resolve().parents[2]
LIVE_URL = "https://gateway.example/v1"
ROUTING = ("routing.*", "origin.*")


def outcomes(result) -> dict[str, tuple[Outcome, str]]:
    return {r.check: (r.outcome, r.skip_reason) for r in result.results}


def test_the_bundled_routing_file_is_the_example():
    bundled, example = (yaml.safe_load(p.read_text()) for p in (BUNDLED_ROUTING, ROOT / "examples" / "routing.yml"))
    assert bundled == example


def test_a_policy_reaches_the_models_of_its_nested_policies_and_aliases(tmp_path):
    policies = Policies.from_file(BUNDLED_ROUTING)
    assert (policies.fallback, policies.balance) == ("my-fallback", "cheap-balance")
    assert policies.models_of("my-fallback") == {"openai/gpt-4o", "anthropic/claude-sonnet-4-20250514",
                                                  "google/gemini-2.5-flash@eu"}
    assert policies.models_of("cheap-balance") == policies.models_of("my-fallback") | {"openai/gpt-4o-mini"}
    assert policies.models_of("nope") is None
    routing = tmp_path / "routing.yml"
    routing.write_text(yaml.safe_dump({"aliases": {"team/a": {"model": "x/y@eu"}},
                                       "policies": {"p": {"type": "fallback", "models": ["team/a", "policy/q"]},
                                                    "q": {"type": "loadbalance", "models": [{"model": "policy/p",
                                                                                            "weight": 1}]}}}))
    named = Policies.from_file(routing, fallback="other")
    assert (named.fallback, named.balance, named.models_of("q")) == ("other", "q", {"x/y@eu"})


def test_without_policy_names_a_live_target_skips_the_policy_checks_and_the_injections():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(ReferenceGateway()),
                         allow_writes=True, include=ROUTING))
    found = outcomes(result)
    for name in ("routing.fallback_names_model", "routing.fallback_bills_once"):
        assert found[name][0] is Outcome.SKIP and "--policy NAME" in found[name][1]
    assert found["routing.trace_sticks"][0] is Outcome.SKIP and "--balance-policy NAME" in found["routing.trace_sticks"][1]
    for name in ("origin.provider_errors", "origin.stream_error"):
        assert found[name][0] is Outcome.SKIP and "live router" in found[name][1]
    assert found["routing.regions_enforced"][0] is Outcome.PASS and found["origin.router_errors"][0] is Outcome.PASS


def test_named_policies_are_called_on_a_live_target():
    options = Options(base_url=LIVE_URL, api_key=ADMIN_KEY, allow_writes=True, include=("routing.*",),
                      policy="ref-fallback", balance_policy="ref-balance")
    passing = run(Options(**{**vars(options), "transport": mock_transport(ReferenceGateway())}))
    assert {check: outcome for check, (outcome, _) in outcomes(passing).items()} == {
        "routing.regions_enforced": Outcome.PASS, "routing.catalog_fields": Outcome.PASS,
        "routing.fallback_names_model": Outcome.PASS,
        "routing.fallback_bills_once": Outcome.PASS, "routing.trace_sticks": Outcome.PASS}
    faulty = run(Options(**{**vars(options), "transport": mock_transport(
        FAULTS["routing.fallback_names_model"](ReferenceGateway()))}))
    assert outcomes(faulty)["routing.fallback_names_model"][0] is Outcome.FAIL
    assert "policy/ref-fallback" in faulty.failed[0].findings[0].message


def test_injection_checks_skip_on_a_loopback_target_that_ignores_the_headers():
    def ignores_injections(inner):
        def handler(call):
            headers = {k: v for k, v in call.headers.items() if k not in ("prefer", "x-mock-stream-fault")}
            return inner(type(call)(call.method, call.path, headers, call.body, call.admin_key, call.query))

        return handler

    result = run(Options(base_url="http://127.0.0.1:9/v1", api_key=ADMIN_KEY,
                         transport=mock_transport(ignores_injections(ReferenceGateway())), include=("origin.*",)))
    found = outcomes(result)
    assert found["origin.provider_errors"][0] is Outcome.SKIP and "Prefer: code=503" in found["origin.provider_errors"][1]
    assert found["origin.stream_error"][0] is Outcome.SKIP and "X-Mock-Stream-Fault" in found["origin.stream_error"][1]


def test_the_cli_takes_policy_names_with_or_without_their_prefix(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(cli, "run", lambda options, *consumers: seen.append(options) or run(
        Options(**{**vars(options), "include": ("routing.fallback_names_model", "routing.trace_sticks")})))
    result = CliRunner().invoke(cli.main, ["run", "--report-dir", str(tmp_path), "--policy", "policy/my-fallback",
                                           "--balance-policy", "cheap-balance"])
    assert result.exit_code == 0, result.output
    assert (seen[0].policy, seen[0].balance_policy) == ("policy/my-fallback", "cheap-balance")
    assert "2 passed, 0 failed" in result.output


def test_a_policy_the_target_does_not_have_fails_the_check():
    result = run(Options(include=("routing.fallback_names_model",), policy="no-such-policy"))
    assert result.exit_code == 1
    assert "policy/no-such-policy" in result.failed[0].findings[0].message


def test_the_reference_routing_file_names_only_reference_models():
    from tests.gateways import MODELS

    policies = Policies.from_file(ROUTING_FILE)
    ids = {m["id"] for m in MODELS}
    assert all(model in ids for name in ("ref-fallback", "ref-balance") for model in policies.models_of(name))
