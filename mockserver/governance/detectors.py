"""Guardrail detectors: spans of e-mail addresses, card numbers (Luhn-checked) and API-key-like secrets.

The patterns are data (``mockserver/data/guardrails.yml``); a finding is a kind and a character span,
never the matched value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "data" / "guardrails.yml"


@dataclass(frozen=True, slots=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    mask: str
    check: str | None = None
    hints: tuple[str, ...] = ()  # run only on a text holding one of them

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.hints and not any(hint in text for hint in self.hints):
            return []
        return [m.span() for m in self.pattern.finditer(text) if self.check != "luhn" or luhn_valid(m.group())]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


def luhn_valid(text: str) -> bool:
    """Whether the digits of ``text`` pass the Luhn check (separators ignored)."""
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


@cache
def detectors() -> dict[str, Detector]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))["detectors"]
    return {kind: Detector(kind, re.compile(spec["pattern"]), spec["mask"], spec.get("check"),
                           tuple(spec.get("hints", ())))
            for kind, spec in data.items()}


KINDS = tuple(sorted(detectors()))


def find(text: str, kinds: Iterable[str] = KINDS) -> list[Finding]:
    """Every finding in ``text``, in order of position; overlapping findings keep the earlier (then longer) one."""
    found = sorted((Finding(kind, start, end) for kind in kinds for start, end in detectors()[kind].spans(text)),
                   key=lambda f: (f.start, -f.end))
    kept: list[Finding] = []
    for finding in found:
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept


def mask(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding's span replaced by its detector's mask."""
    out, last = [], 0
    for finding in findings:
        out.append(text[last:finding.start])
        out.append(detectors()[finding.kind].mask)
        last = finding.end
    out.append(text[last:])
    return "".join(out)
