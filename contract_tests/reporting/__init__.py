"""Reports, all written from one :class:`~contract_tests.results.RunResult`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from contract_tests.reporting import html, json_report, junit, markdown
from contract_tests.results import RunResult
from contract_tests.target import Exchange

WRITERS = {"report.json": json_report.render, "report.md": markdown.render, "report.html": html.render,
           "junit.xml": junit.render}


def write_reports(result: RunResult, report_dir: str | Path | None, *, junit: str | Path | None = None,
                  log: Iterable[Exchange] = ()) -> list[Path]:
    written = []
    if report_dir:
        directory = Path(report_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for name, render in WRITERS.items():
            path = directory / name
            path.write_text(render(result), encoding="utf-8")
            written.append(path)
        path = directory / "run.log"
        path.write_text("".join(_log_line(e) for e in log), encoding="utf-8")
        written.append(path)
    if junit:
        path = Path(junit)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(WRITERS["junit.xml"](result), encoding="utf-8")
        written.append(path)
    return written


def _log_line(exchange: Exchange) -> str:
    """The exchanges of the run, already redacted when they were recorded."""
    auth = exchange.request_headers.get("authorization", "-")
    return f"{exchange.method} {exchange.url} auth={auth} -> {exchange.status} ({exchange.elapsed * 1000:.1f} ms)\n"
