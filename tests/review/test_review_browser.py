"""The reviewer UI in Debian's chromium (Playwright) against a real uvicorn server: sign in, filter, open a note,
confirm, dismiss with a reason, keyboard navigation, escaping, verdicts that survive a rescan. Screenshots of the
queue and the note view go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from review_support import ReviewEnv, load_notes, screenshot, web_login

from notecheck.scan import scan_notes

expect.set_options(timeout=15_000)
pytestmark = pytest.mark.timeout(300)
NOTE_URL = re.compile(r".*/review/notes/(\d+)\?.*")


UNLABELLED = """() => Array.from(document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button")).filter(el => {
  const name = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
    || (el.tagName === "BUTTON" && el.textContent.trim());
  return !name;
}).map(el => el.outerHTML.slice(0, 80))"""


def open_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("li.finding[data-status='open']").evaluate_all("els => els.map(e => e.id)")


def test_sign_in_filter_open_confirm_and_dismiss(page, live, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.base + "/review/login")
    screenshot(page, "review-login.png")
    web_login(page, live.base, "rita")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.locator("table.queue")).to_contain_text("rv-001")
    expect(page.locator("table.queue")).not_to_contain_text("wh-001")  # another office
    assert page.evaluate(UNLABELLED) == []  # every control has a label
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"  # first in focus order
    screenshot(page, "review-queue.png")

    page.get_by_label("Kind").select_option("pii")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*kind=pii.*"))
    listed = page.locator("table.queue a.open").all_inner_texts()
    assert listed and "rv-003" not in listed  # rv-003 has no PII
    page.get_by_label("Kind").select_option("")
    page.get_by_role("button", name="Apply filters").click()

    page.get_by_role("link", name="rv-001", exact=True).click()
    page.wait_for_url(NOTE_URL)
    expect(page.get_by_role("heading", name=re.compile("Note rv-001"))).to_be_visible()
    findings = page.locator("li.finding")
    count = findings.count()
    assert count >= 3
    assert page.evaluate(UNLABELLED) == []

    # Without the keyboard: the forms post and come back.
    first = findings.nth(0)
    first.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.locator(f"#{first.get_attribute('id')} .status")).to_have_text("confirmed")
    second = page.locator("li.finding").nth(1)
    second_id = second.get_attribute("id")
    second.get_by_label("Reason to dismiss").select_option("false_match")
    second.get_by_role("button", name=re.compile("^Dismiss")).click()
    expect(page.locator(f"#{second_id} .status")).to_have_text("dismissed")
    expect(page.locator(f"#{second_id} .by")).to_contain_text("The words do not mean this here")

    # With the keyboard: c confirms the current finding, d asks for a reason (2 = the second reason), Enter.
    current = page.locator("li.finding.current")
    target = current.get_attribute("id")
    page.keyboard.press("c")
    expect(page.locator(f"#{target} .status")).to_have_text("confirmed")
    if open_ids(page):
        target = page.locator("li.finding.current").get_attribute("id")
        page.keyboard.press("d")
        expect(page.locator("dialog#dismiss")).to_be_visible()
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        expect(page.locator(f"#{target} .status")).to_have_text("dismissed")
        expect(page.locator(f"#{target} .by")).to_contain_text("The words do not mean this here")
    screenshot(page, "review-note.png")

    page.reload()
    statuses = page.locator("li.finding .status").all_text_contents()
    assert statuses[:2] == ["confirmed", "dismissed"] and statuses.count("open") <= count - 3


def test_keyboard_navigation(page, live, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    web_login(page, live.base, "walt")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2  # wh-001 and wh-002
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    first_note = rows.nth(0).locator("a.open").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(NOTE_URL)
    expect(page.get_by_role("heading", name=re.compile(f"Note {first_note}"))).to_be_visible()

    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()

    items = page.locator("li.finding")
    expect(items.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")
    expect(items.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    active = page.locator("mark.hl.active")
    expect(active.first).to_be_visible()  # the finding's words are highlighted in the text
    page.keyboard.press("k")
    expect(items.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    here = page.url
    for _ in range(items.count()):  # past the last finding, j goes to the next note in the queue
        page.keyboard.press("j")
    page.wait_for_url(lambda url: url != here and "/review/notes/" in url)
    expect(page.get_by_role("heading", name=re.compile(r"Note wh-00\d"))).not_to_contain_text(first_note)
    page.keyboard.press("u")
    page.wait_for_url(re.compile(r".*/review\?.*"))
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()


def test_keyboard_alone_empties_the_queue(page, live, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    web_login(page, live.base, "walt")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(NOTE_URL)
    decided = 0
    for _ in range(40):
        if "/review/notes/" not in page.url:
            break
        ids = open_ids(page)
        if not ids:
            here = page.url
            page.keyboard.press("n")
            page.wait_for_url(lambda url, here=here: url != here)
            page.wait_for_load_state()
            continue
        target = page.locator("li.finding.current").get_attribute("id")
        if decided % 2:
            page.keyboard.press("c")
            expect(page.locator(f"#{target} .status")).to_have_text("confirmed")
        else:
            page.keyboard.press("d")
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            expect(page.locator(f"#{target} .status")).to_have_text("dismissed")
        decided += 1
    assert decided >= 4
    page.goto(live.base + "/review")
    expect(page.locator("p.empty")).to_contain_text("Nothing in the queue")


def test_html_in_a_note_shows_literally(page, live, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    web_login(page, live.base, "rita")
    page.goto(f"{live.base}/review/notes/{env.pk('rv-003')}")
    text = page.locator("#note-text")
    expect(text).to_contain_text("<script>alert('x')</script>")
    expect(text).to_contain_text('<b>bold</b> & "quotes"')
    assert text.locator("script, b").count() == 0
    assert dialogs == []


def test_another_offices_note_is_not_found(page, live, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    web_login(page, live.base, "rita")
    response = page.goto(f"{live.base}/review/notes/{env.pk('wh-001')}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Andre")


@pytest.mark.slow
def test_a_verdict_is_still_shown_after_a_rescan(page, live, env: ReviewEnv, checker) -> None:  # type: ignore[no-untyped-def]
    web_login(page, live.base, "rita")
    old_pk = env.pk("rv-006")
    page.goto(f"{live.base}/review/notes/{old_pk}")
    target = page.locator("li.finding.current")
    target_id = target.get_attribute("id")
    heading = target.locator("h3").inner_text()
    page.keyboard.press("c")
    expect(page.locator(f"#{target_id} .status")).to_have_text("confirmed")

    rescan = [n for n in load_notes() if n["id"] == "rv-006"]
    scan_notes(rescan, env.db, checker=checker, source="tests/review rescan", scan_id="scan-rescan")
    new_pk = env.pk("rv-006")
    assert new_pk != old_pk

    page.goto(f"{live.base}/review?status=all")
    page.get_by_role("link", name="rv-006", exact=True).click()
    page.wait_for_url(re.compile(rf".*/review/notes/{new_pk}\?.*"))
    expect(page.locator("main")).not_to_contain_text("A newer result of this note exists")
    same = page.locator("li.finding").filter(has=page.locator("h3", has_text=heading)).first
    expect(same.locator(".status")).to_have_text("confirmed")
    expect(same.locator(".by")).to_contain_text("rita")
