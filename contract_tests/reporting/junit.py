"""JUnit XML for CI: one testcase per operation x check; SHOULD failures are reported as skipped warnings."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contract_tests.results import Outcome, RunResult


def render(result: RunResult) -> str:
    suites = ET.Element("testsuites", name="contract-tests")
    by_layer: dict[int, list] = {}
    for item in result.results:
        by_layer.setdefault(item.layer, []).append(item)
    for layer, items in sorted(by_layer.items()):
        name = "layer1-schemathesis" if layer == 1 else "layer2-semantics"
        failures = sum(1 for i in items if i.outcome is Outcome.FAIL and i.level == "MUST")
        skipped = sum(1 for i in items if i.outcome is Outcome.SKIP or (i.outcome is Outcome.FAIL and i.level != "MUST"))
        suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(items)), failures=str(failures),
                              skipped=str(skipped), errors="0")
        for item in items:
            case = ET.SubElement(suite, "testcase", classname=item.operation, name=f"{item.check} [{item.level}]")
            if item.outcome is Outcome.SKIP:
                ET.SubElement(case, "skipped", message=item.skip_reason)
            elif item.outcome is Outcome.FAIL:
                text = "\n\n".join(f"{f.message}\n[{f.origin.value}] {f.origin_note}\n{f.request}\n{f.response}\n{f.curl}"
                                   for f in item.findings)
                if item.level == "MUST":
                    failure = ET.SubElement(case, "failure", message=item.findings[0].message[:500] if item.findings
                                            else item.check)
                    failure.text = text
                else:
                    skipped = ET.SubElement(case, "skipped", message=f"SHOULD not met: {item.findings[0].message[:300]}"
                                            if item.findings else "SHOULD not met")
                    skipped.text = text
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
