"""The result model the measurements fill and the table prints: rows of cells, one per server."""

from __future__ import annotations

from dataclasses import dataclass, field

NAMES = {"mock": "mock", "bare": "bare Starlette", "prism": "Prism"}


@dataclass(frozen=True)
class Cell:
    value: float | None
    reason: str | None = None  # why there is no value

    @classmethod
    def na(cls, reason: str) -> Cell:
        return cls(None, reason)

    @property
    def ok(self) -> bool:
        return self.value is not None


@dataclass
class Row:
    label: str
    unit: str
    cells: dict[str, Cell] = field(default_factory=dict)

    def cell(self, server: str) -> Cell:
        return self.cells.get(server, Cell.na("not measured"))

    def ratio(self, reference: str) -> Cell:
        """The mock's figure divided by the reference's, or why there is none."""
        mine, theirs = self.cell("mock"), self.cell(reference)
        if not mine.ok:
            return Cell.na("no mock figure")
        if not theirs.ok:
            return Cell.na(f"no {NAMES[reference]} figure")
        if theirs.value == 0:
            return Cell.na("reference is 0")
        return Cell(mine.value / theirs.value)
