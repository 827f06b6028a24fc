"""The JavaScript gate in a real browser: Debian's chromium, driven by Playwright, on `notecheck serve`'s /example."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_support import CLEAN, LiveServer

# Characters outside the Basic Multilingual Plane before the finding: the report's offsets count code points,
# JavaScript strings count UTF-16 units, and the highlight must still cover exactly the offending words.
BLOCKED = "📞📞 Met client at the office. He denies drug use. Next: call on 3/8."


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{live_server.url}/example")
    try:
        yield pg
        assert errors == []
    finally:
        context.close()


def test_blocked_note_is_held_and_its_spans_highlighted(page: Any, live_server: LiveServer) -> None:
    report = httpx.post(
        f"{live_server.url}/v1/check", json={"text": BLOCKED}, headers={"Authorization": f"Bearer {live_server.key}"}
    ).json()
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["start"] is not None]
    assert errors
    page.fill("#api-key", live_server.key)
    page.fill("#note-text", BLOCKED)
    page.click("button[type=submit]")
    page.wait_for_selector(".nc-output.nc-block")
    marked = page.locator(".nc-preview mark.nc-error").all_inner_texts()
    assert [BLOCKED[f["start"] : f["end"]] for f in errors] == marked
    assert "substance_use" in page.locator(".nc-findings").inner_text()
    assert page.locator("#saved").is_hidden()


def test_clean_note_goes_through(page: Any, live_server: LiveServer) -> None:
    page.fill("#api-key", live_server.key)
    page.fill("#note-text", CLEAN)
    page.click("button[type=submit]")
    page.wait_for_selector("#saved:not([hidden]), .nc-output.nc-warn")
    if page.locator(".nc-output.nc-warn").count():  # warnings: the user confirms
        page.click(".nc-confirm")
    page.wait_for_selector("#saved:not([hidden])")


def test_a_bad_key_holds_the_form_and_says_why(page: Any) -> None:
    page.fill("#api-key", "nck_00000000_not-a-real-key-aaaaaaaaaaaaaaaaaaaaaa")
    page.fill("#note-text", CLEAN)
    page.click("button[type=submit]")
    page.wait_for_selector(".nc-output.nc-error")
    assert "Unauthorized" in page.locator(".nc-output").inner_text()
    assert page.locator("#saved").is_hidden()
