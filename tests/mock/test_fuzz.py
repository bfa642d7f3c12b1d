"""Schemathesis-generated requests, valid and invalid, against the in-process mock.

Every check of Schemathesis runs on each case: no 5xx, invalid data rejected
with a 4xx, valid data accepted, status codes, content types and bodies as the
overlaid spec documents them.

Chat and embeddings may also refuse a schema-valid request with 400 when it
breaks a rule no JSON Schema can state (a tool_choice naming a function not in
tools, a prompt over the model's context window, max_tokens over the model's
limit): contract_tests/data/schemathesis.toml says so, and tests/mock/test_inference_rules.py asserts
each of those answers specifically.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from mockserver.app import create_app
from mockserver.auth import DEFAULT_API_KEY
from mockserver.config import MockConfig
from tests.schemathesis_config import schemathesis_config

APP = create_app(MockConfig(api_key=DEFAULT_API_KEY))
CONFIG = schemathesis_config(
    generation={"mode": "all", "max-examples": 40},
    headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
)
SCHEMA = schemathesis.openapi.from_asgi("/__mock/openapi.json", APP, config=CONFIG)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_conform(case):
    case.call_and_validate()
