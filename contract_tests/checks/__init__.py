"""Layer 2: the semantics no schema expresses, as named checks in a registry."""

# The check modules register themselves on import: streams, usage, embeddings, models, keys, reports, errors.
from contract_tests.checks import embeddings, errors, keys, models, reports, streaming, usage  # noqa: F401
from contract_tests.checks.registry import (
    MUST,
    REGISTRY,
    SHOULD,
    Check,
    CheckFailed,
    CheckSkipped,
    all_checks,
    check,
)

__all__ = ["MUST", "REGISTRY", "SHOULD", "Check", "CheckFailed", "CheckSkipped", "all_checks", "check"]
