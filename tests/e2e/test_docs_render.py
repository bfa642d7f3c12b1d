"""README.md and every page in docs/, rendered to HTML as GitHub would (markdown-it-py, CommonMark + tables).

What a reader would see broken: a table row with more or fewer cells than its
header (GitHub pads or drops them silently), rows split off a table by a blank
line (stray ``| ... |`` text), text or a heading glued to the end of a table
(GitHub swallows a following text line as one more row), and relative links or
images that point at no file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
MARKDOWN = MarkdownIt("commonmark").enable("table")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
HTML_SRC = re.compile(r"""<(?:img|a|source)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.I)


@dataclass
class Problem:
    line: int  # 1-based
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def cells(line: str) -> int:
    """The cells of a table row as GFM splits it: on every pipe that is not escaped, outer pipes aside."""
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") and not text.endswith("\\|") else text
    return len(UNESCAPED_PIPE.split(text))


def table_problems(tokens: list[Token], lines: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            start, end = token.map
            header = cells(lines[start])
            for tr in (t for t in tokens[i:] if t.type in ("tr_open", "table_close")):
                if tr.type == "table_close":
                    break
                row = tr.map[0]
                if row != start and not lines[row].lstrip().startswith("|"):
                    problems.append(Problem(row + 1, f"text swallowed as a table row: {lines[row].strip()!r}"))
                elif cells(lines[row]) != header:
                    problems.append(Problem(row + 1, f"{cells(lines[row])} cells, the header has {header}"))
            if end < len(lines) and lines[end].strip():
                problems.append(Problem(end + 1, f"glued to the table above (no blank line): {lines[end].strip()!r}"))
        elif token.type == "paragraph_open":
            start, end = token.map
            stray = [n for n in range(start, end) if lines[n].lstrip().startswith("|")]
            if stray:
                problems.append(Problem(stray[0] + 1, f"table rows outside a table: {lines[stray[0]].strip()!r}"))
    return problems


def targets(tokens: list[Token]) -> list[str]:
    """Every link and image target of the page, Markdown and inline HTML alike."""
    found: list[str] = []
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            found += HTML_SRC.findall(token.content)
        for child in token.children or []:
            if child.type == "link_open":
                found.append(child.attrs["href"])
            elif child.type == "image":
                found.append(child.attrs["src"])
            elif child.type == "html_inline":
                found += HTML_SRC.findall(child.content)
    return found


def link_problems(page: Path, tokens: list[Token]) -> list[str]:
    problems = []
    for target in targets(tokens):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:  # absolute URLs and same-page anchors
            continue
        if not (page.parent / unquote(parts.path)).resolve().exists():
            problems.append(f"{target} -> no such file")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_renders_without_broken_tables_or_links(page: Path):
    source = page.read_text(encoding="utf-8")
    tokens = MARKDOWN.parse(source)
    assert MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})  # renders at all
    problems = [str(p) for p in table_problems(tokens, source.splitlines())] + link_problems(page, tokens)
    assert problems == []


BROKEN = """\
| option | default | meaning |
|---|---|---|
| `--port` | `8080` | port |
| `--seed` | `0` |

| `--state FILE` | none | SQLite file |
### Inference
| a | b |
|---|---|
| 1 | 2 |
Some text right after.

![shot](images/missing.png) [ok](#anchor) [away](https://example.com/x.md) [gone](nowhere.md)
"""


def test_the_checks_catch_each_kind_of_breakage(tmp_path):
    """The README's old options table, and the other ways a page breaks, are each reported."""
    page = tmp_path / "page.md"
    page.write_text(BROKEN)
    tokens = MARKDOWN.parse(BROKEN)
    found = [str(p) for p in table_problems(tokens, BROKEN.splitlines())]
    assert found == [
        "line 4: 2 cells, the header has 3",
        "line 6: table rows outside a table: '| `--state FILE` | none | SQLite file |'",
        "line 11: text swallowed as a table row: 'Some text right after.'",
    ]
    assert link_problems(page, tokens) == ["images/missing.png -> no such file", "nowhere.md -> no such file"]
    glued = "| a |\n|---|\n| 1 |\n### Heading\n"
    assert [str(p) for p in table_problems(MARKDOWN.parse(glued), glued.splitlines())] == [
        "line 4: glued to the table above (no blank line): '### Heading'"]


def test_a_pipe_inside_a_cell_counts_only_when_not_escaped():
    assert cells("| `a \\| b` | c |") == 2
    assert cells("| a | b | c |") == 3
