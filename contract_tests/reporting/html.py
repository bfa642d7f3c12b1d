"""A single-file HTML report: no script, no external asset, everything escaped."""

from __future__ import annotations

from html import escape

from contract_tests.reporting.markdown import summary_lines
from contract_tests.results import Origin, Outcome, RunResult

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px}th{background:#f4f4f4}.pass{background:#dff5df}
.fail{background:#f9d6d6;font-weight:bold}.skip{background:#eee;color:#777}pre{background:#f7f7f7;padding:8px;
overflow:auto;white-space:pre-wrap}.gap{color:#8a5a00}"""


def render(result: RunResult) -> str:
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>Conformance report</title>",
           f"<style>{STYLE}</style></head><body><h1>Conformance report</h1><ul>"]
    out += [f"<li>{escape(line)}</li>" for line in summary_lines(result)]
    out.append("</ul>")
    for layer, title in ((1, "Layer 1: Schemathesis"), (2, "Layer 2: semantics")):
        items = [r for r in result.results if r.layer == layer]
        if not items:
            continue
        checks = sorted({r.check for r in items})
        operations = sorted({r.operation for r in items}, key=lambda o: (o.partition(" ")[2], o))
        out.append(f"<h2>{title}</h2><table><tr><th>operation</th>"
                   + "".join(f"<th>{escape(c)}</th>" for c in checks) + "</tr>")
        for op in operations:
            out.append(f"<tr><th>{escape(op)}</th>")
            for c in checks:
                cell = result.cell(op, c)
                if cell is None:
                    out.append("<td></td>")
                else:
                    title_ = cell.skip_reason or (cell.findings[0].message if cell.findings else cell.reason)
                    out.append(f"<td class='{cell.outcome.value}' title='{escape(title_)}'>{cell.outcome.value}</td>")
            out.append("</tr>")
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
