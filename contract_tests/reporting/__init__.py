"""Reports, all written from one :class:`~contract_tests.results.RunResult`, as consumers of the run's events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from contract_tests.events import Consumer, Event, RunFinished
from contract_tests.reporting import html, json_report, junit, markdown
from contract_tests.results import RunResult
from contract_tests.target import Exchange

DEFAULT_REPORT_DIR = "contract-test-reports"
RENDERERS: dict[str, Callable[[RunResult], str]] = {
    "report.json": json_report.render, "report.md": markdown.render, "report.html": html.render,
    "junit.xml": junit.render,
}
RUN_LOG = "run.log"


@dataclass
class ReportFile:
    """A consumer of the run's events that writes one report file when the run finishes."""

    path: Path
    render: Callable[[RunFinished], str]

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(self.render(event), encoding="utf-8")


def report_files(report_dir: str | Path | None, *, junit: str | Path | None = None) -> list[Consumer]:
    """The consumers that write every report into ``report_dir`` (none when it is None), and ``junit`` if asked."""
    files: list[Consumer] = []
    if report_dir:
        directory = Path(report_dir)
        files += [ReportFile(directory / name, _of_result(render)) for name, render in RENDERERS.items()]
        files.append(ReportFile(directory / RUN_LOG, lambda event: run_log(event.exchanges)))
    if junit:
        files.append(ReportFile(Path(junit), _of_result(RENDERERS["junit.xml"])))
    return files


def _of_result(render: Callable[[RunResult], str]) -> Callable[[RunFinished], str]:
    return lambda event: render(event.result)


def run_log(exchanges: Iterable[Exchange]) -> str:
    """The exchanges of the run, already redacted when they were recorded: one line each."""
    return "".join(f"{e.method} {e.url} auth={e.request_headers.get('authorization', '-')} -> {e.status} "
                   f"({e.elapsed * 1000:.1f} ms)\n" for e in exchanges)
