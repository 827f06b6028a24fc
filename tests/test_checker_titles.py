"""Titles are checked for prohibited content and PII like the text (note-level findings); a Checker remembers each
title's hits, so a repeated title costs nothing - and must give what a first look gives."""

from __future__ import annotations

import pytest

from notecheck import checker as checker_module
from notecheck.checker import Checker

TEXT = "Met with client at the office to review her resume. Next: apply to two warehouse jobs by Friday."


def _titled(checker: Checker, title: str, note_id: str) -> dict:  # type: ignore[type-arg]
    return checker.check(TEXT, title=title, note_id=note_id).to_dict()


@pytest.mark.parametrize("title", ["Rehab follow-up, SSN 123-45-6789", "Phone", "Relapse - DUI court date"])
def test_a_remembered_title_gives_the_first_reports(checker: Checker, title: str) -> None:
    checker._title_cache.clear()
    first = _titled(checker, title, "n-1")
    again = _titled(checker, title, "n-1")
    assert title in checker._title_cache
    assert again == first
    fresh = Checker()
    assert _titled(fresh, title, "n-1") == first


def test_title_findings_are_reported_every_time(checker: Checker) -> None:
    checker._title_cache.clear()
    for _ in range(3):
        report = checker.check(TEXT, title="Call re: SSN 123-45-6789", note_id="n-2")
        pii = [f for f in report.findings if f.kind == "pii" and f.start is None]
        assert pii and all(f.message.startswith(checker_module.TITLE_PREFIX) for f in pii)


def test_the_title_cache_is_bounded(checker: Checker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    checker._title_cache.clear()
    monkeypatch.setattr(checker_module, "TITLE_CACHE_SIZE", 3)
    for i in range(10):
        checker.check(TEXT, title=f"Visit {i}", note_id=f"n-{i}")
        assert len(checker._title_cache) <= 3
