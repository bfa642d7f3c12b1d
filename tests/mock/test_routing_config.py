"""The routing file: what it accepts, and the one-line error for each way it can be wrong."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mockserver.cli import main
from mockserver.config import build_config
from mockserver.llm.catalog import default_catalog
from mockserver.router.config import DEFAULT_BACKOFF_MS, RoutingError, load_routing, parse_routing

CATALOG = default_catalog()
GOOD = {
    "backoff_ms": 5,
    "policies": {
        "fb": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 3}, "coding/x"]},
        "lb": {"type": "loadbalance", "models": [{"model": "openai/gpt-4o-mini@eu", "weight": 1},
                                                 {"model": "policy/fb", "weight": 3}]},
    },
    "aliases": {"coding/x": {"model": "anthropic/claude-sonnet-4-20250514", "parameters": {"temperature": 0.2}}},
}


def test_a_good_file_is_read():
    routing = parse_routing(GOOD, "r.yml", CATALOG)
    assert routing.backoff_ms == 5
    assert [(e.model, e.retries) for e in routing.policies["fb"].entries] == [("openai/gpt-4o", 3), ("coding/x", 0)]
    assert [e.weight for e in routing.policies["lb"].entries] == [1.0, 3.0]
    assert dict(routing.aliases["coding/x"].parameters) == {"temperature": 0.2}
    assert parse_routing(None, "empty.yml", CATALOG).backoff_ms == DEFAULT_BACKOFF_MS


def test_the_example_file_is_valid():
    routing = load_routing("examples/routing.yml", CATALOG)
    assert {"my-fallback", "cheap-balance"} <= set(routing.policies)
    assert "coding/default" in routing.aliases


@pytest.mark.parametrize(("data", "message"), [
    ([1], "r.yml: $: [1] is not of type \"object\""),
    ({"backoff_ms": -1}, "r.yml: $.backoff_ms: -1 is less than the minimum of 0"),
    ({"policies": {"a": {"type": "random", "models": ["openai/gpt-4o"]}}},
     "r.yml: $.policies.a.type: \"random\" is not one of \"fallback\" or \"loadbalance\""),
    ({"policies": {"a": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "retries": 11}]}}},
     "r.yml: $.policies.a.models[0].retries: 11 is greater than the maximum of 10"),
    ({"policies": {"a": {"type": "fallback", "models": []}}}, "r.yml: $.policies.a.models: [] has less than 1 item"),
    ({"policies": {"a": {"type": "loadbalance", "models": ["openai/gpt-4o"]}}},
     "r.yml: $.policies.a.models[0]: a loadbalance entry needs a weight, e.g. {model: openai/gpt-4o, weight: 1}"),
    ({"policies": {"a": {"type": "loadbalance", "models": [{"model": "openai/gpt-4o", "weight": 0}]}}},
     "r.yml: $.policies.a.models[0].weight: 0 is less than or equal to the minimum of 0"),
    ({"policies": {"a": {"type": "fallback", "models": [{"model": "openai/gpt-4o", "weight": 2}]}}},
     "r.yml: $.policies.a.models[0]: weights belong to loadbalance policies; a fallback entry may have retries"),
    ({"policies": {"a": {"type": "fallback", "models": ["x/y"]}}},
     "r.yml: $.policies.a.models[0].model: unknown model 'x/y': not in the catalog, and not an alias or policy of this file"),
    ({"policies": {"a": {"type": "fallback", "models": ["policy/nope"]}}},
     "r.yml: $.policies.a.models[0].model: no policy named 'nope' in this file"),
    ({"policies": {"a": {"type": "fallback", "models": ["openai/gpt-4o@mars"]}}},
     "r.yml: $.policies.a.models[0].model: openai/gpt-4o is not served in region 'mars' (its regions: us, eu)"),
    ({"policies": {"a": {"type": "fallback", "models": ["policy/b"]},
                   "b": {"type": "loadbalance", "models": [{"model": "policy/c", "weight": 1}]},
                   "c": {"type": "fallback", "models": ["policy/a"]}}},
     "r.yml: $.policies.a: the policies form a cycle: policy/a -> policy/b -> policy/c -> policy/a"),
    ({"policies": {"a": {"type": "fallback", "models": ["policy/a"]}}},
     "r.yml: $.policies.a: the policies form a cycle: policy/a -> policy/a"),
    ({"aliases": {"coding": {"model": "openai/gpt-4o"}}},
     "r.yml: $.aliases: \"coding\" does not match \"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._:-]*$\""),
    ({"aliases": {"openai/gpt-4o": {"model": "openai/gpt-4o"}}},
     "r.yml: $.aliases.openai/gpt-4o: the catalog already has a model named 'openai/gpt-4o'"),
    ({"aliases": {"policy/x": {"model": "openai/gpt-4o"}}},
     "r.yml: $.aliases.policy/x: an alias cannot start with 'policy/', which names policies"),
    ({"policies": {"a": {"type": "fallback", "models": ["openai/gpt-4o"]}},
      "aliases": {"coding/x": {"model": "policy/a"}}},
     "r.yml: $.aliases.coding/x.model: an alias names a catalog model, not a policy ('policy/a')"),
    ({"aliases": {"coding/x": {"model": "openai/gpt-4o", "parameters": {"max_tokens": 20000}}}},
     "r.yml: $.aliases.coding/x.parameters.max_tokens: 20000 is more than openai/gpt-4o can write (16384)"),
    ({"aliases": {"coding/x": {"model": "openai/gpt-4o", "parameters": {"temperature": 3}}}},
     "r.yml: $.aliases.coding/x.parameters.temperature: 3 is greater than the maximum of 2"),
    ({"aliases": {"coding/x": {"model": "openai/gpt-4o", "parameters": {"reasoning_effort": "lots"}}}},
     "r.yml: $.aliases.coding/x.parameters.reasoning_effort: \"lots\" does not match "
     "\"^(low|medium|high|max|min|none|[0-9]{1,9})$\""),
])
def test_each_problem_is_one_line_naming_the_place(data, message):
    with pytest.raises(RoutingError) as caught:
        parse_routing(data, "r.yml", CATALOG)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_files_that_cannot_be_read(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("policies: [unclosed\n")
    with pytest.raises(RoutingError, match=r"bad\.yml"):
        load_routing(bad, CATALOG)
    with pytest.raises(RoutingError, match=r"missing\.yml"):
        load_routing(tmp_path / "missing.yml", CATALOG)


def test_the_config_is_checked_against_the_catalog_given(tmp_path):
    models = tmp_path / "models.yml"
    models.write_text("models:\n  - {id: a/one, type: chat, owned_by: a, region: us, context_window: 100, "
                      "input_price: 1, output_price: 1}\n")
    routing = tmp_path / "routing.yml"
    routing.write_text("policies:\n  p: {type: fallback, models: [a/one, openai/gpt-4o]}\n")
    with pytest.raises(RoutingError, match=r"unknown model 'openai/gpt-4o'"):
        build_config(models_path=str(models), routing_path=str(routing))


def test_the_cli_refuses_a_bad_config_in_one_line_and_exit_2(tmp_path):
    routing = tmp_path / "routing.yml"
    routing.write_text("policies:\n  p: {type: fallback, models: [policy/p]}\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(routing)])
    assert result.exit_code == 2
    assert result.output.strip() == (f"mockserver: error: {routing}: $.policies.p: the policies form a cycle: "
                                     "policy/p -> policy/p")
