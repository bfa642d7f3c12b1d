"""Layer 2: the semantics no schema expresses, as named checks in a registry."""

from contract_tests.checks.registry import (
    MUST,
    REGISTRY,
    SHOULD,
    Check,
    CheckFailed,
    CheckSkipped,
    all_checks,
    check,
    select,
)

__all__ = ["MUST", "REGISTRY", "SHOULD", "Check", "CheckFailed", "CheckSkipped", "all_checks", "check", "select"]
