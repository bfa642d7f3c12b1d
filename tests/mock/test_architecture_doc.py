"""docs/architecture.md names only what exists: every module path and code name in backticks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
CODE = "\n".join(p.read_text() for folder in ("mockserver", "contract_tests") for p in (ROOT / folder).rglob("*.py"))
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _defined(name: str) -> bool:
    return re.search(rf"^\s*(class|def|async def) {name}\b|^\s*{name}(: [^=]+)? = ", CODE, re.M) is not None


def names(text: str) -> tuple[list[str], list[str]]:
    inline = re.sub(r"```.*?```", "", text, flags=re.S)  # the drawn map: only its module paths are read
    quoted = list(dict.fromkeys(re.findall(r"`([^`]+)`", inline) + re.findall(r"(mockserver/[\w/]+\.py)", text)))
    paths = [q for q in quoted if q.endswith(".py") or q.startswith(("mockserver/", "contract_tests/"))]
    code = [q for q in quoted if q not in paths and IDENTIFIER.match(q) and not q.startswith("X-")]
    return paths, code


def test_every_path_and_name_in_the_map_exists():
    paths, code = names(DOC.read_text())
    assert len(paths) >= 10 and len(code) >= 15
    missing = [p for p in paths if not (ROOT / p).exists()]
    for name in code:
        owner, _, member = name.partition(".")
        if not _defined(owner) or (member and not _defined(member)):
            missing.append(name)
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"


def test_the_check_notices_a_name_that_is_gone():
    paths, code = names("`mockserver/no_such_module.py` and `Exchange.no_such_method` and `NoSuchClass`")
    assert paths == ["mockserver/no_such_module.py"] and not (ROOT / paths[0]).exists()
    assert [n for n in code if not all(_defined(part) for part in n.split("."))] == ["Exchange.no_such_method",
                                                                                      "NoSuchClass"]
