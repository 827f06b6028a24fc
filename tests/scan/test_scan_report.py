"""`notecheck report`: one self-contained HTML file whose charts draw in headless chromium, offline, no text."""

from __future__ import annotations

from pathlib import Path

import pytest
from scan_support import corpus_notes

from notecheck.checker import Checker
from notecheck.errors import InputError
from notecheck.scan import scan_notes
from notecheck.scan.htmlreport import write_report
from notecheck.store import Database


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, checker: Checker) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("report")
    notes = corpus_notes(60)
    db = Database(f"sqlite:///{tmp / 'nc.db'}")
    scan_notes(notes, db, checker=checker)
    path = Path(write_report(db, str(tmp / "report.html")))
    db.dispose()
    return path, notes


def test_report_is_self_contained_and_holds_no_text(report_file: tuple[Path, list[dict]]) -> None:
    path, notes = report_file
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") >= 7
    for marker in ("<script", "<link", "src=", "@import", "url(http", "https://", "http://"):
        assert marker not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
        ), marker
    for note in notes:
        assert note["text"][:60] not in html
    for heading in ("Findings by category", "By office", "By staff member", "By month", "Element completeness",
                    "Late entries and contact gaps", "Top rules"):  # fmt: skip
        assert heading in html


@pytest.mark.slow
def test_report_charts_draw_in_chromium(report_file: tuple[Path, list[dict]], browser) -> None:  # type: ignore[no-untyped-def]
    path, _ = report_file
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        charts = page.evaluate(
            """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
                const box = svg.getBoundingClientRect();
                const marks = Array.from(svg.querySelectorAll('path, rect, use')).filter(el => {
                    const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
                const texts = Array.from(svg.querySelectorAll('text')).map(t => t.textContent);
                return {width: box.width, height: box.height, marks: marks.length, texts: texts.join(' ')};
            })"""
        )
    finally:
        page.close()
    assert [u for u in requests if not u.startswith("file://")] == []
    assert len(charts) >= 7
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["marks"] >= 5, chart
    titles = " ".join(c["texts"] for c in charts)
    assert "Findings by category" in titles and "Notes with each required element" in titles


def test_report_without_scans_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no scans"):
        write_report(f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "r.html"))
