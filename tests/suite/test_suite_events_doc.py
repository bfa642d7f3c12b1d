"""docs/suite-events.md names only what exists: every name in backticks is defined in contract_tests."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from contract_tests.checks import all_checks
from contract_tests.schema_layer import CHECKS as SCHEMA_CHECKS
from contract_tests.schema_layer import PREFIX

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "suite-events.md"
PACKAGE = ROOT / "contract_tests"
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def defined_names() -> tuple[set[str], set[str]]:
    """Every name contract_tests defines (modules, classes, functions, fields, attributes) and its string constants."""
    names: set[str] = {"contract_tests"}
    strings: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        names.add(path.stem if path.stem != "__init__" else path.parent.name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    names |= {check.name for check in all_checks()} | {PREFIX + name for name in SCHEMA_CHECKS}
    return names, strings


def objects() -> dict[str, object]:
    """contract_tests' modules and what they define at module level, by name."""
    found: dict[str, object] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":  # runs the command line on import
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        found[module.__name__.rsplit(".", 1)[-1]] = module
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) == module.__name__:
                found.setdefault(name, value)
    return found


def has(owner: object, name: str) -> bool:
    return hasattr(owner, name) or name in getattr(owner, "__dataclass_fields__", {})


def doc_names(text: str) -> set[str]:
    """The backticked names of the prose, and the CamelCase and called names of the diagrams."""
    found = set(re.findall(r"`([^`\n]+)`", FENCE.sub("", text)))
    for block in FENCE.findall(text):
        found |= set(re.findall(r"\b[A-Z][a-z]+[A-Z]\w*", block)) | {f"{m}()" for m in re.findall(r"\b(\w+)\(", block)}
    return found


def missing(names: set[str]) -> list[str]:
    defined, strings = defined_names()
    by_name = objects()
    absent = []
    for token in sorted(names):
        name = token.removesuffix("()")
        if "/" in name:
            ok = (ROOT / name).exists()
        else:
            ok = name in strings or name in defined
            if not ok and "." in name:  # an attribute of a module or class: Layer.SCHEMA, RunResult.add()
                owner, attribute = name.rsplit(".", 1)
                ok = owner in by_name and has(by_name[owner], attribute)
        if not ok:
            absent.append(token)
    return absent


def test_every_name_in_the_events_doc_exists_in_the_code():
    text = DOC.read_text()
    names = doc_names(text)
    assert {"RunStarted", "CheckStarted", "CheckFinished", "BudgetStopped", "RunFinished", "run_events()"} <= names
    assert missing(names) == []


def test_a_name_that_is_not_in_the_code_is_caught():
    assert missing({"RunPaused", "RunFinished.verdict", "contract_tests/nowhere.py", "publish_everything()",
                    "RunFinished.result", "Layer.SCHEMA"}) == [
        "RunFinished.verdict", "RunPaused", "contract_tests/nowhere.py", "publish_everything()"]


def test_the_doc_lists_every_event_and_its_fields():
    import dataclasses

    from contract_tests import events

    text = DOC.read_text()
    for event in (events.RunStarted, events.CheckStarted, events.CheckFinished, events.BudgetStopped,
                  events.RunFinished):
        section = text.split(f"### `{event.__name__}`", 1)[1].split("\n### ", 1)[0]
        for field in dataclasses.fields(event):
            assert f"| `{field.name}` |" in section, (event.__name__, field.name)
