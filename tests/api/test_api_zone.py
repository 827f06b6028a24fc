"""The server does not grow spaCy's vocabulary with the new words it is sent (api/zone.py)."""

from __future__ import annotations

import random
import string
import threading

from api_support import BLOCKED, Api

from api.zone import ZonedChecker
from notecheck.checker import Checker


def fresh_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(9)) for _ in range(n))


def test_new_words_do_not_stay_in_the_vocabulary(api: Api, checker: Checker) -> None:
    rng = random.Random(7)
    api.post("/v1/gate", json={"text": BLOCKED})  # warm: everything a blocked note needs is loaded
    before = len(checker.nlp.vocab.strings)
    for i in range(20):
        text = f"Met client at the office. {fresh_words(rng, 30)}. He denies drug use. Next: call on 3/8."
        response = api.post("/v1/gate", json={"id": f"z-{i}", "text": text})
        assert response.status_code == 422
        assert any(f["category"] == "substance_use" for f in response.json()["findings"])
    assert len(checker.nlp.vocab.strings) == before


def test_zoned_checker_gives_the_same_reports(checker: Checker) -> None:
    zoned = ZonedChecker(checker)
    notes = [{"id": str(i), "text": f"{BLOCKED} {fresh_words(random.Random(i), 5)}"} for i in range(5)]
    expected = [r.to_dict() for r in checker.check_many(notes)]
    assert [r.to_dict() for r in zoned.check_many(notes)] == expected
    assert zoned.check_note(notes[0]).to_dict() == expected[0]
    assert zoned.check(notes[0]["text"], note_id="0").to_dict() == expected[0]
    assert zoned.policy is checker.policy and ZonedChecker(zoned).unwrapped is checker


def test_concurrent_zoned_checks_agree_with_serial_ones(checker: Checker) -> None:
    zoned = ZonedChecker(checker)
    texts = [f"{BLOCKED} {fresh_words(random.Random(i), 12)}" for i in range(24)]
    expected = [checker.check(t).to_dict() for t in texts]
    results: dict[int, dict] = {}

    def run(i: int) -> None:
        results[i] = zoned.check(texts[i]).to_dict()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(texts))] == expected
