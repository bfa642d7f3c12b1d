"""Spec defects: what is wrong with a document that can still be served, each with its place.

A defect is one warning line ``<file>#<JSON pointer>: <what is wrong>; <what the mock does about it>``.
``--strict`` turns the first one into the one-line start-up error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.spec.errors import SpecError


@dataclass(frozen=True, slots=True)
class Defect:
    pointer: str  # JSON pointer into the loaded (overlaid) document; "" is the root
    message: str

    def line(self, source: str) -> str:
        return f"{source}#{self.pointer}: {self.message}"


@dataclass
class Defects:
    """Collects defects while a spec is loaded; never raises."""

    items: list[Defect] = field(default_factory=list)

    def add(self, pointer: str, message: str) -> None:
        defect = Defect(pointer, message)
        if defect not in self.items:
            self.items.append(defect)

    def __len__(self) -> int:
        return len(self.items)


def refuse(defects: tuple[Defect, ...], source: str) -> None:
    """``--strict``: the first defect (and how many more) as the start-up error."""
    if defects:
        more = f" (and {len(defects) - 1} more warnings)" if len(defects) > 1 else ""
        raise SpecError(f"{defects[0].line(source)}{more} [--strict]")
