"""The semantic layer: what no schema expresses, as named checks listed module by module."""

from __future__ import annotations

from contract_tests.checks import (
    analytics,
    embeddings,
    errors,
    extensions,
    keys,
    media,
    messages_api,
    models,
    origins,
    reports,
    responses_api,
    routing,
    streaming,
    structured,
    usage,
)
from contract_tests.checks.check import Check

MODULES = (embeddings, errors, keys, models, reports, streaming, usage, structured, responses_api, messages_api, origins,
           routing, extensions, analytics, media)

from contract_tests.checks import governance  # noqa: E402

MODULES += (governance,)


def all_checks() -> list[Check]:
    """Every semantic check, in the order a run goes through them: the modules' ``CHECKS`` lists, concatenated."""
    return [check for module in MODULES for check in module.CHECKS]


def check_named(name: str) -> Check:
    try:
        return next(check for check in all_checks() if check.name == name)
    except StopIteration:
        raise KeyError(f"no semantic check named {name!r}") from None


__all__ = ["Check", "all_checks", "check_named"]
