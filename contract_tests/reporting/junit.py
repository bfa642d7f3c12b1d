"""JUnit XML for CI: one testsuite per layer, one testcase per operation x check; SHOULD failures are skipped warnings."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contract_tests.results import MUST, CheckResult, Layer, Outcome, RunResult


def render(result: RunResult) -> str:
    suites = ET.Element("testsuites", name="contract-tests")
    for layer in Layer:
        items = result.of_layer(layer)
        if items:
            _suite(suites, layer, items)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _suite(suites: ET.Element, layer: Layer, items: list[CheckResult]) -> None:
    failures = sum(1 for i in items if i.outcome is Outcome.FAIL and i.level == MUST)
    skipped = sum(1 for i in items if i.outcome is Outcome.SKIP or (i.outcome is Outcome.FAIL and i.level != MUST))
    suite = ET.SubElement(suites, "testsuite", name=layer.value, tests=str(len(items)), failures=str(failures),
                          skipped=str(skipped), errors="0")
    for item in items:
        case = ET.SubElement(suite, "testcase", classname=item.operation, name=f"{item.check} [{item.level}]")
        if item.outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", message=item.skip_reason)
        elif item.outcome is Outcome.FAIL:
            text = "\n\n".join(f"{f.message}\n[{f.origin.value}] {f.origin_note}\n{f.request}\n{f.response}\n{f.curl}"
                               for f in item.findings)
            first = item.findings[0].message if item.findings else ""
            if item.level == MUST:
                ET.SubElement(case, "failure", message=first[:500] or item.check).text = text
            else:
                ET.SubElement(case, "skipped", message=f"SHOULD not met: {first[:300]}".rstrip(": ")).text = text
