"""The reviewer pages over HTTP (TestClient): sign-in, cookies, CSRF, the login rate limit, office isolation,
escaping, verdicts, bulk actions, the audit log, rule precision."""

from __future__ import annotations

import json
import re

from review_support import PASSWORD, ReviewEnv, csrf_of, load_notes, login, stored_findings
from sqlalchemy import select

from notecheck.store.models import AuditEvent, FindingRow, Suppression, Verdict


def finding_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<li class="finding[^"]*" id="f(\d+)"', html)]


def note_texts() -> dict[str, str]:
    return {n["id"]: n["text"] for n in load_notes()}


def test_pages_need_a_session(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/review", "/review/rules", "/review/notes/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/review/login?next=")


def test_login_sets_a_hardened_session_cookie(client) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "rita")
    assert response.status_code == 303 and response.headers["location"] == "/review"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("notecheck_review="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here
    page = client.get("/review")
    assert page.status_code == 200 and "rita" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_cookie_is_secure_behind_a_tls_proxy(client) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "rita", **{"X-Forwarded-Proto": "https"})
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("notecheck_review="))
    assert "Secure" in cookie


def test_wrong_password_is_401_and_audited_without_the_password(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "walt", "not-the-password")
    assert response.status_code == 401 and "Wrong username or password" in response.text
    with env.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.login_failed")).all()
    assert events and all("not-the-password" not in json.dumps(e.detail) for e in events)


def test_login_is_rate_limited_per_username_and_address(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    from notecheck.users import create_user

    with env.db.session() as session:
        create_user(session, "limited", PASSWORD, role="reviewer", offices=["Rockville"])
    for _ in range(5):
        assert login(client, "limited", "wrong password!").status_code == 401
    blocked = login(client, "limited", PASSWORD)  # even the right password, until the window passes
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "notecheck_review=" not in blocked.headers.get("set-cookie", "")
    assert login(client, "rita").status_code == 303  # another username from the same address is not affected


def test_login_form_without_its_csrf_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/review/login")
    response = client.post(
        "/review/login",
        data={"username": "rita", "password": PASSWORD, "csrf_token": "forged", "next": "/review"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "notecheck_review=" not in response.headers.get("set-cookie", "")


def test_verdict_post_without_csrf_token_is_refused(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")
    pk = env.pk("rv-001")
    fid = finding_ids(client.get(f"/review/notes/{pk}").text)[0]
    for token in ("", "wrong-token"):
        response = client.post(
            f"/review/notes/{pk}/verdicts",
            data={"finding": fid, "verdict": "confirmed", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 403
    bulk = client.post("/review/bulk", data={"note": pk, "verdict": "confirmed"}, follow_redirects=False)
    assert bulk.status_code == 403
    logout = client.post("/review/logout", data={}, follow_redirects=False)
    assert logout.status_code == 403
    with env.db.session() as session:
        fp = session.get(FindingRow, fid).fingerprint
        assert session.scalar(select(Verdict).where(Verdict.fingerprint == fp)) is None


def test_another_offices_note_is_404_like_a_missing_one(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")  # Rockville only
    wheaton = env.pk("wh-001")
    other = client.get(f"/review/notes/{wheaton}")
    missing = client.get("/review/notes/999999")
    assert other.status_code == missing.status_code == 404
    assert "Andre" not in other.text and "probation" not in other.text
    queue = client.get("/review?status=all").text
    assert "wh-001" not in queue and "Wheaton" not in queue
    token = csrf_of(queue)
    post = client.post(
        f"/review/notes/{wheaton}/verdicts",
        data={"scope": "open", "verdict": "confirmed", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert post.status_code == 404
    login(client, "walt")  # Wheaton
    assert client.get(f"/review/notes/{wheaton}").status_code == 200
    assert client.get(f"/review/notes/{env.pk('rv-001')}").status_code == 404
    login(client, "ada")  # admin: every office
    assert client.get(f"/review/notes/{wheaton}").status_code == 200


def test_note_text_is_escaped(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")
    html = client.get(f"/review/notes/{env.pk('rv-003')}").text
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;" in html
    assert re.search(r"<script(?![^>]*src=\"/review/static/review\.js\")", html) is None


def test_note_view_shows_findings_elements_and_redaction(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")
    html = client.get(f"/review/notes/{env.pk('rv-004')}").text
    assert '<mark class="hl hl-pii" data-findings="f' in html  # the SSN, highlighted by kind
    assert "000_307c4094741002af.txt" in html  # the seed reference beside the finding
    assert html.count('<li class="present">') + html.count('<li class="missing">') == 7
    redacted = re.search(r'<div class="note-text redacted"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "&lt;US_SSN&gt;" in redacted and "123-45-6789" not in redacted


def test_note_views_and_verdicts_are_audited_without_text(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")
    pk = env.pk("rv-002")
    html = client.get(f"/review/notes/{pk}").text
    fid = finding_ids(html)[-1]
    response = client.post(
        f"/review/notes/{pk}/verdicts",
        data={"finding": fid, "verdict": "dismissed", "reason_code": "false_match", "csrf_token": csrf_of(html)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with env.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.note_id == "rv-002")).all()
        fp = session.get(FindingRow, fid).fingerprint
    viewed = [e for e in events if e.action == "review.note_viewed" and e.actor == "rita"]
    decided = [e for e in events if e.action == "review.verdict" and fp in e.fingerprints]
    assert viewed and decided and decided[-1].detail["verdict"] == "dismissed"
    assert decided[-1].actor_type == "user" and decided[-1].office == "Rockville"
    dumped = json.dumps([[e.detail, e.fingerprints] for e in events])
    assert all(word not in dumped for word in ("pregnant", "lazy", "Dana", "baby"))


def test_dismissal_needs_a_reason_and_typed_reasons_are_kept(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    login(client, "rita")
    pk = env.pk("rv-006")
    html = client.get(f"/review/notes/{pk}").text
    token, fid = csrf_of(html), finding_ids(html)[0]
    headers = {"Accept": "application/json"}
    missing = client.post(
        f"/review/notes/{pk}/verdicts",
        data={"finding": fid, "verdict": "dismissed", "csrf_token": token},
        headers=headers,
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    typed = client.post(
        f"/review/notes/{pk}/verdicts",
        data={
            "finding": fid,
            "verdict": "dismissed",
            "reason_code": "other",
            "reason": "agency shorthand",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert typed.status_code == 200
    assert typed.json()["findings"] == [
        {"id": fid, "status": "dismissed", "reason": "agency shorthand", "reviewer": "rita"}
    ]
    again = client.get(f"/review/notes/{pk}").text
    assert "agency shorthand" in again


def test_only_admins_add_dismissals_to_the_suppression_list(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    pk = env.pk("rv-001")
    login(client, "rita")
    html = client.get(f"/review/notes/{pk}").text
    assert "agency suppression list" not in html
    data = {"finding": finding_ids(html)[-1], "verdict": "dismissed", "reason_code": "allowed", "suppress": "1"}
    refused = client.post(
        f"/review/notes/{pk}/verdicts",
        data={**data, "csrf_token": csrf_of(html)},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 422
    login(client, "ada")
    html = client.get(f"/review/notes/{pk}").text
    assert "agency suppression list" in html
    done = client.post(
        f"/review/notes/{pk}/verdicts",
        data={**data, "csrf_token": csrf_of(html)},
        headers={"Accept": "application/json"},
    )
    assert done.status_code == 200
    with env.db.session() as session:
        fp = session.get(FindingRow, data["finding"]).fingerprint
        row = session.scalar(select(Suppression).where(Suppression.fingerprint == fp))
    assert row is not None and row.created_by == "ada" and row.reason.startswith("Allowed by policy")


def test_bulk_action_applies_to_matching_open_findings_of_selected_notes(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    custody = [f for f in stored_findings(env) if f.note_id == "wh-002" and f.category == "child_custody"]
    assert custody  # "custody of the kids is with CPS"
    login(client, "walt")
    queue = client.get("/review?category=child_custody").text
    pk = env.pk("wh-002")
    assert f"/review/notes/{pk}?" in queue
    response = client.post(
        "/review/bulk",
        data={"note": pk, "verdict": "confirmed", "reason_code": "redact", "q": "category=child_custody&status=open",
              "csrf_token": csrf_of(queue)},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and f"done={len(custody)}" in response.headers["location"]
    with env.db.session() as session:
        rows = session.scalars(select(Verdict).where(Verdict.note_id == "wh-002")).all()
    assert sorted(v.category for v in rows) == ["child_custody"] * len({f.fingerprint for f in custody})
    assert {v.verdict for v in rows} == {"confirmed"} and {v.reviewer for v in rows} == {"walt"}


def test_queue_filters_and_counts(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    found = stored_findings(env)
    notes_with = {k: {f.note_id for f in found if f.kind == k} for k in ("prohibited", "quality")}
    login(client, "ada")
    html = client.get("/review?kind=prohibited&status=all").text
    kinds = dict(re.findall(r'<option value="(prohibited|pii|quality|timeliness)"[^>]*>\w+ \((\d+)\)', html))
    assert int(kinds["prohibited"]) == len(notes_with["prohibited"]) >= 6
    assert int(kinds["quality"]) == len(notes_with["quality"]) >= 1  # a facet ignores its own filter
    listed = set(re.findall(r'class="open">([\w-]+)</a>', html))
    assert listed == notes_with["prohibited"] and "rv-006" not in listed  # quality and timeliness only
    offices = dict(re.findall(r'<option value="(Rockville|Wheaton)"[^>]*>\w+ \((\d+)\)', html))
    assert offices == {"Rockville": "4", "Wheaton": "2"}  # rv-001..004 and wh-001..002 name prohibited things
    staff = client.get("/review?staff=P.+Singh&status=all").text
    assert "wh-001" in staff and "rv-001" not in staff
    dated = client.get("/review?date_from=2026-03-04&date_to=2026-03-05&status=all").text
    assert "rv-003" in dated and "rv-004" in dated and "rv-001" not in dated
    bad = client.get("/review?severity=loud")
    assert bad.status_code == 200 and "&#39;severity&#39; must be one of" in bad.text


def test_rules_page_reports_precision_from_verdicts(client, env: ReviewEnv) -> None:  # type: ignore[no-untyped-def]
    from review_support import precision_rows

    login(client, "ada")
    pk = env.pk("rv-003")
    note = client.get(f"/review/notes/{pk}").text
    first, second = finding_ids(note)[:2]
    for fid, verdict, code in ((first, "confirmed", "redact"), (second, "dismissed", "incidental")):
        data = {"finding": fid, "verdict": verdict, "reason_code": code, "csrf_token": csrf_of(note)}
        assert client.post(f"/review/notes/{pk}/verdicts", data=data, follow_redirects=False).status_code == 303
    html = client.get("/review/rules").text
    with env.db.session() as session:
        verdicts = session.scalars(select(Verdict)).all()
    expected = precision_rows(verdicts)
    assert sum(c for c, _ in expected.values()) >= 1 and sum(d for _, d in expected.values()) >= 1
    for category, (confirmed, dismissed) in expected.items():
        row = re.search(rf"<th scope=\"row\">{category.replace('_', ' ')}</th>.*?</tr>", html, re.S).group(0)
        cells = re.findall(r'<td class="num">([^<]*)', row)
        assert cells[:2] == [str(confirmed), str(dismissed)]
        assert cells[2].startswith(f"{100 * confirmed / (confirmed + dismissed):.0f}%")
