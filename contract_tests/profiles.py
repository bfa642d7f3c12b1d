"""Profiles: how hard a run pushes, as one table of settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    phases: tuple[str, ...]  # Schemathesis phases
    max_examples: int  # Schemathesis examples per operation and phase
    stateful_steps: int
    read_only: bool  # the schema layer only on GET operations; semantic checks write only with --allow-writes
    max_requests: int | None  # default budgets (the options override them)
    max_spend: float | None
    max_tokens: int  # for the suite's own inference


ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
PROFILES: dict[str, Profile] = {p.name: p for p in (
    # CI default on a local target: every phase, few examples
    Profile("quick", ALL_PHASES, 8, 6, False, None, None, 16),
    # every phase, many examples: a nightly run
    Profile("full", ALL_PHASES, 60, 20, False, None, None, 16),
    # a paid router: read-only operations plus minimal inference on the cheapest models, within a budget
    Profile("live", ("examples", "coverage", "fuzzing"), 3, 0, True, 200, 0.05, 8),
)}


def default_profile(local: bool) -> str:
    """``quick`` on the embedded mock or loopback, ``live`` on anything else."""
    return "quick" if local else "live"
