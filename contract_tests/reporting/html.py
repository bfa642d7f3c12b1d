"""A single-file HTML report: the page is ``templates/report.html``; everything from the run is escaped.

No external asset: the CSS and the one small script (the failures-only and
MUST-only filter, shown only when scripts run) are inline, so the file opens
anywhere, from a CI artifact too.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from contract_tests.reporting.view import build, finding_kind, short_name, summary_lines
from contract_tests.results import RunResult

TEMPLATES = Path(__file__).parent / "templates"


def _wbr(text: str) -> Markup:
    """Allow a line break after each ``_``, ``.`` and ``/`` of a long name, so narrow columns wrap it cleanly."""
    out = str(escape(text))
    for mark in ("_", ".", "/"):
        out = out.replace(mark, mark + "<wbr>")
    return Markup(out)


def _split_message(message: str) -> tuple[str, str]:
    head, _, rest = message.strip().partition("\n")
    return head.strip(), rest.strip("\n")


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
ENV.filters.update(wbr=_wbr, split_message=_split_message, kind=finding_kind, short=short_name)


def render(result: RunResult) -> str:
    return ENV.get_template("report.html").render(view=build(result), summary=summary_lines(result))
