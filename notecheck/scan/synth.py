"""Synthetic case notes for benchmarks and tests, made by recombining sentences of a corpus of real-looking notes.

`generate_notes(n, corpus_paths)` yields CONTRACT §1 dicts with unique ids, clients seen every few weeks by one staff
member, contact and entry dates, exit dates for some youth clients, and a few near-copies of a client's earlier note
(so caseload checks have something to find). Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def load_corpus(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    if not rows:
        raise ValueError("the corpus is empty")
    return rows


def default_corpus() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "data" / "raw"
    return sorted(root.glob("*.jsonl"))


def generate_notes(n: int, corpus: list[Path] | None = None, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    rows = load_corpus(corpus or default_corpus())
    rng = random.Random(seed)
    sentences = [s for r in rows for s in _SENTENCE.split(r["text"]) if len(s) > 15]
    programs = sorted({r["program"] for r in rows if r.get("program")})
    offices = sorted({r["office"] for r in rows if r.get("office")})
    staff = sorted({r["staff"] for r in rows if r.get("staff")})
    titles = [r["title"] for r in rows if r.get("title")]
    start = dt.date(2024, 1, 2)
    clients: dict[str, dict[str, Any]] = {}
    for i in range(n):
        client_number = rng.randrange(max(1, n // 8))
        client_id = f"G-{client_number:06d}"
        client = clients.get(client_id)
        if client is None:
            client = {
                "program": rng.choice(programs),
                "office": rng.choice(offices),
                "staff": rng.choice(staff),
                "day": start + dt.timedelta(days=rng.randrange(365)),
                "last_text": None,
            }
            clients[client_id] = client
            if len(clients) > 50_000:  # keep memory bounded for huge n
                clients.pop(next(iter(clients)))
        client["day"] = client["day"] + dt.timedelta(days=rng.choice((7, 14, 21, 28, 30, 35, 45, 70)))
        if client["last_text"] and rng.random() < 0.02:
            text = client["last_text"].replace(" the ", " this ", 1)
        else:
            text = " ".join(rng.sample(sentences, rng.randint(2, 6)))
        client["last_text"] = text
        entered = dt.datetime.combine(client["day"], dt.time(9)) + dt.timedelta(days=rng.choice((0, 0, 1, 2, 6)),
                                                                               minutes=rng.randrange(480))  # fmt: skip
        note: dict[str, Any] = {
            "id": f"g-{i + 1:07d}",
            "client_id": client_id,
            "staff": client["staff"],
            "office": client["office"],
            "program": client["program"],
            "contact_date": client["day"].isoformat(),
            "entered_at": entered.isoformat(timespec="seconds"),
            "text": text,
        }
        if rng.random() < 0.5:
            note["title"] = rng.choice(titles)
        if "youth" in client["program"].lower() and rng.random() < 0.1:
            note["exit_date"] = client["day"].isoformat()
        yield note


def write_jsonl(path: Path, notes: Iterator[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for note in notes:
            handle.write(json.dumps(note) + "\n")
            count += 1
    return count
