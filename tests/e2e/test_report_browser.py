"""The HTML report of a failing run, in headless Chromium: what a person sees first, width, filter, accessibility.

``UPDATE_SCREENSHOTS=1 pytest tests/e2e/test_report_browser.py`` also writes the
first screen to docs/images/report.png (the README shows it).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from tests.e2e.browser import Browser, Page
from tests.e2e.failing_run import failing_run

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 800


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("failing-run")
    result = failing_run(directory)
    assert result.exit_code == 1
    return {"url": (directory / "report.html").as_uri(), "result": result}


@pytest.fixture
def page(browser: Browser, report: dict):
    tab = browser.new_page(WIDTH, HEIGHT)
    tab.goto(report["url"])
    yield tab
    browser.close_page(tab)
    assert tab.console == [], "the page logged errors"


def rect(page: Page, selector: str) -> dict:
    box = page.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })()")
    assert box is not None
    return box


def visible(page: Page, selector: str) -> list[str]:
    """The class names of the elements ``selector`` matches that are rendered."""
    return page.evaluate(f"Array.from(document.querySelectorAll({json.dumps(selector)}))"
                         ".filter(e => e.getClientRects().length > 0).map(e => e.className)")


def test_first_screen_shows_the_verdict_and_the_first_failure(page, report):
    verdict = rect(page, ".verdict")
    assert verdict["bottom"] <= HEIGHT / 2
    assert page.evaluate("document.querySelector('.verdict h2').textContent") == "Does not conform"
    must = len(report["result"].must_failures)
    assert f"{must} MUST checks failed" in page.evaluate("document.querySelector('.verdict').textContent")
    first = rect(page, "article.failure")
    header = rect(page, "article.failure .message")
    assert first["top"] < HEIGHT and header["bottom"] <= HEIGHT  # the first failure's finding is on screen
    card = page.evaluate("document.querySelector('article.failure').textContent")
    worst = report["result"].must_failures
    assert any(f.check.removeprefix("schema:") in card for f in worst)
    assert "target violation" in card and "MUST" in card
    shot = page.screenshot(ROOT / "docs" / "images" / "report.png" if os.environ.get("UPDATE_SCREENSHOTS") else None)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", shot[16:24]) == (WIDTH, HEIGHT)


def test_no_horizontal_scroll_at_1280_px_even_with_every_group_open(page):
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    sizes = page.evaluate("({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})")
    assert sizes["scroll"] <= sizes["client"] <= WIDTH
    overflowing = page.evaluate("""Array.from(document.querySelectorAll('main *'))
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.width > 0 && r.right > document.documentElement.clientWidth; })
        .map(e => e.tagName + '.' + e.className)""")
    assert overflowing == []
    clipped = page.evaluate("""Array.from(document.querySelectorAll('table.matrix th, h3, .message'))
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 60))""")
    assert clipped == []  # matrix headers and titles wrap instead of running out of their boxes


def test_matrix_headers_stay_in_view_while_scrolling_it(page):
    page.set_viewport(WIDTH, 400)  # short enough that the matrix's header can scroll past the top
    page.evaluate("window.scrollTo(0, document.querySelector('table.matrix tbody').getBoundingClientRect().top"
                  " + window.scrollY + 120)")
    assert rect(page, "table.matrix tbody tr")["top"] < 0  # the first rows are above the window now
    header = rect(page, "table.matrix thead th")
    toolbar = rect(page, ".toolbar")
    assert 0 <= header["top"] <= toolbar["bottom"] + 1


def test_the_filter_hides_passing_checks_then_should_checks(page, report):
    result = report["result"]
    total = len(result.results)
    opened = page.evaluate("Array.from(document.querySelectorAll('details.op')).map(d => [d.open, d.dataset.failed !== '0'])")
    assert opened and all(is_open == failing for is_open, failing in opened)  # only groups with failures start open
    page.evaluate("document.querySelectorAll('details.op').forEach(d => d.open = true)")
    assert len(visible(page, "tr.row")) == total
    page.click("label:has(#only-failures)")
    assert page.evaluate("document.getElementById('only-failures').checked") is True
    rows = visible(page, "tr.row")
    assert len(rows) == len(result.failed) and all(" fail " in f" {name} " for name in rows)
    assert len(visible(page, "details.op")) == len({r.operation for r in result.failed})
    assert page.evaluate("document.getElementById('shown').textContent") == f"{len(result.failed)} of {total} checks shown"
    page.click("label:has(#only-must)")
    rows = visible(page, "tr.row")
    assert len(rows) == len(result.must_failures) and not any("should" in name.split() for name in rows)
    assert len(visible(page, "article.failure")) == len(result.must_failures)
    assert visible(page, "table.matrix th.should") == []
    page.click("label:has(#only-failures)")
    page.click("label:has(#only-must)")
    assert len(visible(page, "tr.row")) == total and len(visible(page, "article.failure")) == len(result.failed)


def test_accessibility_no_serious_or_critical_issue(page, axe_source):
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.evaluate(axe_source)
    found = page.evaluate("""axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=1)


def test_without_scripts_everything_shows_and_the_filters_hide(browser, report):
    tab = browser.new_page(WIDTH, HEIGHT)
    try:
        tab.send("Emulation.setScriptExecutionDisabled", value=True)
        tab.goto(report["url"])
        assert visible(tab, "#filters") == [] and visible(tab, "button.copy") == []
        assert len(visible(tab, "article.failure")) == len(report["result"].failed)
        assert tab.evaluate("document.querySelector('.verdict h2').textContent") == "Does not conform"
    finally:
        browser.close_page(tab)
