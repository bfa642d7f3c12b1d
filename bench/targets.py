"""The targets the mock is held to on this 2-core machine, judged from one run's rows."""

from __future__ import annotations

from bench.cells import Cell, Row
from bench.measure import MEMORY_KINDS, Settings, labels

RSS_TOLERANCE = 1.05  # RSS after the second count of requests within 5% of RSS after the first


def judge(rows: list[Row], settings: Settings) -> list[tuple[str, str, str]]:
    by_key = dict(zip(labels(settings), rows, strict=True))
    out = []

    def check(name: str, cell: Cell, shown: str, passed: bool) -> None:
        out.append((name, shown if cell.ok else f"n/a ({cell.reason})", ("PASS" if passed else "FAIL") if cell.ok else "n/a"))

    chat = by_key["chat_rps"]
    cell = chat.ratio("bare")
    check("non-stream chat >= 0.5 of bare Starlette", cell, f"{cell.value or 0:.2f}x", (cell.value or 0) >= 0.5)
    cell = chat.ratio("prism")
    check("non-stream chat >= 3x Prism", cell, f"{cell.value or 0:.2f}x", (cell.value or 0) >= 3)
    cell = by_key["startup_upstream"].cell("mock")
    check("start-up < 1 s, upstream spec", cell, f"{cell.value or 0:.2f} s", (cell.value or 0) < 1)
    cell = by_key["startup_generated"].cell("mock")
    check(f"start-up < 5 s, {settings.spec_operations} operations", cell, f"{cell.value or 0:.2f} s",
          (cell.value or 0) < 5)
    for key, name in (("startup_upstream", "upstream"), ("startup_generated", "generated"), ("startup_openai", "OpenAI's")):
        cell = by_key[key].ratio("prism")
        check(f"start-up ahead of Prism, {name} spec", cell, f"{cell.value or 0:.2f}x", (cell.value or 9) < 1)
    cell = by_key["startup_openai"].cell("mock")
    check("start-up < 5 s, OpenAI's spec", cell, f"{cell.value or 0:.2f} s", (cell.value or 0) < 5)
    first, second = (f"{n:,}" for n in settings.rss_counts)
    for kind in MEMORY_KINDS:
        cell = by_key[f"rss_{kind.key}_ratio"].cell("mock")
        check(f"RSS after {second} {kind.label} within 5% of after {first}", cell, f"{cell.value or 0:.3f}",
              (cell.value or 0) <= RSS_TOLERANCE)
    held, worst = by_key["paced_ok"].cell("mock"), by_key["paced_worst"].cell("mock")
    cell = held if not held.ok else worst
    check(f"{settings.paced_streams} paced streams, no error, none > 20% over pacing", cell,
          f"{held.value or 0:.0f} held, slowest {worst.value or 0:+.1f}%",
          held.value == settings.paced_streams and (worst.value or 0) <= 20)
    return out
