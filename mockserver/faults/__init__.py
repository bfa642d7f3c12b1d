"""Fault injection: per-request headers, server-wide scenarios, admin endpoints and the request journal.

headers.py   per-request directives (Prefer, X-Mock-Latency-Ms, X-Mock-Stream-Fault)
scenario.py  the scenario file: YAML -> checked against data/scenario.schema.json -> dataclasses
decide.py    pure: (seed, request number, operation) -> which random faults
ratelimit.py requests/tokens per minute per key, over an injected clock
streams.py   the send wrapper that breaks text/event-stream bodies
runtime.py   the state in force: scenario, counter, rate windows, journal
inject.py    the fault step of the request path (mockserver/pipeline.py runs it)
admin.py     /__mock/ reset, scenario, journal
"""

from mockserver.faults.runtime import Faults
from mockserver.faults.scenario import Scenario, ScenarioError, build_scenario, load_scenario_file, parse_scenario

__all__ = ["Faults", "Scenario", "ScenarioError", "build_scenario", "load_scenario_file", "parse_scenario"]
