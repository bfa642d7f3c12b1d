"""Print the rows as a Markdown table (figure, ratios to bare Starlette and to Prism), then the targets."""

from __future__ import annotations

from bench.cells import Cell, Row

HEADER = ("metric", "unit", "mock", "mock / bare", "mock / Prism", "bare Starlette", "Prism")


def missing(cell: Cell) -> str:
    return f"n/a ({(cell.reason or 'no figure').replace('|', '/')})"


def figure(cell: Cell) -> str:
    if not cell.ok:
        return missing(cell)
    value = cell.value
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(cell: Cell) -> str:
    return f"{cell.value:.2f}x" if cell.ok else missing(cell)


def render(rows: list[Row], targets: list[tuple[str, str, str]], notes: list[str]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = (row.label, row.unit, figure(row.cell("mock")), ratio(row.ratio("bare")), ratio(row.ratio("prism")),
                 figure(row.cell("bare")), figure(row.cell("prism")))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {verdict} |" for name, measured, verdict in targets]
    lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines)
