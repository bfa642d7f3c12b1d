"""Reasoning: ``reasoning_effort`` normalised, and how many reasoning tokens a reasoning model spends.

``reasoning_effort`` takes ``low``, ``medium``, ``high``, Requesty's ``max``, ``min`` and ``none``, or a
budget in tokens as a string (``"10000"``). It maps to a level the way Requesty maps it for OpenAI
models: ``max`` -> ``high``; ``min`` and ``none`` -> ``low``; a budget of 0-1024 -> ``low``, 1025-8192 ->
``medium``, more -> ``high``. Absent, a reasoning model reasons at ``medium``.

The deterministic rule: a reasoning model (catalog ``reasoning: true``) spends :data:`LEVEL_TOKENS`
for its level (low 64, medium 256, high 1024), never more than a budget it was given; a model other
than OpenAI's asked for ``none`` does not reason, nor does one with ``reasoning_by_default: false``
(Claude) asked for no effort at all. Reasoning tokens are part of
``completion_tokens`` (as OpenAI counts them) and billed at the output price. A model with
``reasoning_content: true`` (DeepSeek, Anthropic) also returns the reasoning text, exactly that many
tokens long, in the message's ``reasoning_content``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mockserver.llm import tokens
from mockserver.llm.catalog import ModelInfo

LEVELS = ("low", "medium", "high")
ALIASES = {"max": "high", "min": "low", "none": "low"}
LEVEL_TOKENS = {"low": 64, "medium": 256, "high": 1024}
DEFAULT_LEVEL = "medium"
THOUGHT = ("The user asks a question; I read it carefully, consider what they need, check each step of my "
           "reasoning and plan a short, clear answer. ")


class Reasoning(NamedTuple):
    level: str | None  # low | medium | high, or None when the model does not reason
    tokens: int
    text: str | None  # the reasoning text, for models that return it


NONE = Reasoning(None, 0, None)


def level_of(effort: str) -> str:
    """``effort`` (schema-checked: a level, max/min/none, or digits) as low, medium or high."""
    if effort in LEVELS:
        return effort
    if effort in ALIASES:
        return ALIASES[effort]
    budget = int(effort)
    return "low" if budget <= 1024 else "medium" if budget <= 8192 else "high"


def reason(model: ModelInfo, effort: Any) -> Reasoning:
    """What ``model`` spends on reasoning at ``effort`` (the request's ``reasoning_effort``, or None)."""
    if not model.reasoning:
        return NONE
    if (effort == "none" and model.owned_by != "openai") or (effort is None and not model.reasoning_by_default):
        return NONE
    effort = effort if isinstance(effort, str) else DEFAULT_LEVEL
    level = level_of(effort)
    count = LEVEL_TOKENS[level]
    if effort.isdigit():
        count = min(count, int(effort))
    return Reasoning(level, count, thought(count) if model.reasoning_content else None)


def within(thinking: Reasoning, max_tokens: int | None) -> Reasoning:
    """``thinking`` cut to ``max_tokens``: the request's bound on completion tokens, reasoning included."""
    if max_tokens is None or thinking.tokens <= max_tokens:
        return thinking
    return Reasoning(thinking.level, max_tokens, thought(max_tokens) if thinking.text is not None else None)


def thought(count: int) -> str:
    """A reasoning text of exactly ``count`` tokens (by :mod:`mockserver.llm.tokens`)."""
    per_thought = tokens.count(THOUGHT) - 1  # its trailing space joins the next copy's first word
    pieces = tokens.split(THOUGHT * (count // per_thought + 2))
    return "".join(pieces[:count])
