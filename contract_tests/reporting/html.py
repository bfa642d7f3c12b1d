"""A single-file HTML report: no script, no external asset, everything escaped."""

from __future__ import annotations

from html import escape

from contract_tests.reporting.markdown import summary_lines
from contract_tests.results import CheckResult, Layer, Origin, Outcome, RunResult

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px}th{background:#f4f4f4}.pass{background:#dff5df}
.fail{background:#f9d6d6;font-weight:bold}.skip{background:#eee;color:#777}pre{background:#f7f7f7;padding:8px;
overflow:auto;white-space:pre-wrap}.gap{color:#8a5a00}"""


def render(result: RunResult) -> str:
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>Conformance report</title>",
           f"<style>{STYLE}</style></head><body><h1>Conformance report</h1><ul>"]
    out += [f"<li>{escape(line)}</li>" for line in summary_lines(result)]
    out.append("</ul>")
    operations, checks = result.matrix(Layer.SCHEMA)
    if checks:
        out.append("<h2>Schema layer: Schemathesis</h2><table><tr><th>operation</th>"
                   + "".join(f"<th>{escape(c.removeprefix('schema:'))}</th>" for c in checks) + "</tr>")
        for op in operations:
            out.append(f"<tr><th>{escape(op)}</th>" + "".join(_cell(result.cell(op, c)) for c in checks) + "</tr>")
        out.append("</table>")
    operations, checks = result.matrix(Layer.SEMANTIC)
    if checks:
        out.append("<h2>Semantic layer: what no schema says</h2>"
                   "<table><tr><th>operation</th><th>check</th><th>level</th><th>result</th></tr>")
        out += [f"<tr><th>{escape(op)}</th><td>{escape(r.check)}</td><td>{r.level}</td>{_cell(r)}</tr>"
                for op in operations for r in result.of_layer(Layer.SEMANTIC) if r.operation == op]
        out.append("</table>")
    if result.failed:
        out.append("<h2>Failures</h2>")
        for item in result.failed:
            out.append(f"<h3>{escape(item.check)} on {escape(item.operation)} ({item.level})</h3>"
                       f"<p>{escape(item.reason)}<br><small>Source: {escape(item.source)}</small></p>")
            for f in item.findings:
                kind = "gap" if f.origin is Origin.SPEC_GAP else ""
                out.append(f"<p><b>{escape(f.message)}</b><br><span class='{kind}'>{escape(f.origin.value)}"
                           f"{': ' + escape(f.origin_note) if f.origin_note else ''}</span></p>")
                for label, text in (("Request", f.request), ("Response (excerpt)", f.response), ("Reproduce", f.curl)):
                    if text:
                        out.append(f"<details><summary>{label}</summary><pre>{escape(text)}</pre></details>")
    skipped = [r for r in result.results if r.outcome is Outcome.SKIP]
    if skipped:
        out.append("<h2>Skipped</h2><ul>" + "".join(
            f"<li>{escape(r.check)} on {escape(r.operation)}: {escape(r.skip_reason)}</li>" for r in skipped) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _cell(cell: CheckResult | None) -> str:
    if cell is None:
        return "<td></td>"
    title = cell.skip_reason or (cell.findings[0].message if cell.findings else cell.reason)
    return f"<td class='{cell.outcome.value}' title='{escape(title, quote=True)}'>{cell.outcome.value}</td>"
