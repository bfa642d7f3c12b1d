"""The semantic checks as explicit tables: named once, sourced from documents that exist, free of import circles."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from contract_tests import checks
from contract_tests.checks import all_checks, check_named
from contract_tests.schema_layer import SOURCE as SCHEMA_SOURCE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "contract_tests"
SPEC_FILES = ("spec/requesty-openapi.yml", "spec/overlay.yml")
NAMED_DOCUMENTS = ("Requesty changelog", "Requesty usage API page", "OpenAI API reference", "Anthropic API reference")


def test_all_checks_concatenates_the_module_tables_in_order():
    listed = [check for module in checks.MODULES for check in module.CHECKS]
    assert all_checks() == listed and len(listed) == 78
    names = [check.name for check in listed]
    assert len(set(names)) == len(names)
    for module in checks.MODULES:
        assert all(check.func.__module__ == module.__name__ for check in module.CHECKS)
    importlib.reload(checks.streaming)  # importing a module again registers nothing twice
    assert [check.name for check in all_checks()] == names
    assert check_named("sse.done_last").func.__name__ == "done_last"


def source_problems(source: str) -> list[str]:
    """Why ``source`` does not name documents of the project (or named upstream references), if it does not."""
    problems = []
    for part in source.split("; "):
        document, _, detail = part.partition(": ")
        if document in SPEC_FILES:
            text = " ".join((ROOT / document).read_text().split())
            quotes = re.findall(r"'([^']+)'", detail)
            names = re.findall(r"[A-Za-z_][\w]*", re.sub(r"\(.*?\)", "", detail))
            problems += [f"{document} has no {w!r}" for w in quotes + names if w not in text]
        elif not document.startswith(NAMED_DOCUMENTS):
            problems.append(f"{part!r} names no document of the project")
    return problems


def test_every_source_is_a_document_that_exists():
    problems = {check.name: source_problems(check.source) for check in all_checks()}
    problems["schema layer"] = source_problems(SCHEMA_SOURCE)
    assert {name: found for name, found in problems.items() if found} == {}


def test_a_source_that_points_nowhere_is_caught():
    assert source_problems("OpenAI chat streaming format (DESIGN.md: the OpenAI wire format)")
    assert source_problems("spec/overlay.yml: NoSuchSchema") == ["spec/overlay.yml has no 'NoSuchSchema'"]
    assert source_problems("spec/requesty-openapi.yml: ApiKey ('returned twice')")


def test_no_stale_document_is_named():
    written = [p.read_text() for p in PACKAGE.rglob("*.py")] + [(ROOT / "docs" / "conformance-suite.md").read_text()]
    assert not [text for text in written if "DESIGN.md" in text]


def test_the_docs_table_says_what_the_code_says():
    docs = (ROOT / "docs" / "conformance-suite.md").read_text()
    rows = {m.group(1): (m.group(2), m.group(3), m.group(4), m.group(5))
            for m in re.finditer(r"^\| `(\w+\.\w+)` \| `([^`]+)` \| ([^|]+) \| (.+) \| ([^|]+) \|$", docs, re.M)}
    for check in all_checks():
        operation, level, reason, source = rows[check.name]
        assert (operation, reason, source) == (check.operation, check.reason, check.source), check.name
        assert level.startswith(check.level) and ("writes" in level) == check.writes
        assert ("overlay" in level) == (check.basis == "overlay")


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("contract_tests"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("contract_tests")}
    return found


def test_no_module_of_the_suite_imports_one_that_imports_it_back():
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for target in graph[name]:
            if target in trail:
                cycles.append(trail[trail.index(target):] + [target])
            elif len(trail) < 30:
                visit(target, trail + [target])

    for name in graph:
        visit(name, [name])
    # A package and its own modules are one unit (contract_tests.checks lists its modules' tables).
    cycles = [c for c in cycles if not all(m.startswith(c[0]) or c[0].startswith(m) for m in c)]
    assert cycles == []


def test_checks_read_exchanges_through_the_http_part_not_the_transport():
    for path in (PACKAGE / "checks").glob("*.py"):
        used = {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
        if path.name != "http_calls.py":
            assert not used & {"transport", "log", "exchanges"}, path.name
        if hasattr(importlib.import_module(f"contract_tests.checks.{path.stem}"), "CHECKS"):
            assert not used & {"target", "_target", "client"}, path.name
