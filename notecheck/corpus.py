"""The labeled corpus: merge data/raw/*.jsonl, validate every record, assign the split once, write the files.

`python -m notecheck.corpus build` (`make corpus`) reads the hand-written batches in data/raw/, applies the documented
label corrections in data/label_fixes.json, checks every record against data/README.md's format (quotes are exact
substrings, categories are valid, every listed category has evidence), gives each note a split by a stable hash of
its id (60/20/20 train/dev/test) and writes data/corpus.jsonl, data/{train,dev,test}.jsonl and the unlabeled demo
notes in notecheck/data/sample_notes.jsonl (drawn from train and dev only). The split depends on nothing but the id,
so rebuilding never moves a note from one split to another.

Example: python -m notecheck.corpus build
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notecheck.report import ELEMENTS, PII_CATEGORIES, PROHIBITED_CATEGORIES


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Every (start, end) where a label's quote occurs in the note text."""
    spans, start = [], text.find(quote)
    while start != -1:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return spans


SPLITS = ("train", "dev", "test")
NOTE_FIELDS = ("id", "text", "title", "contact_date", "entered_at", "client_id", "staff", "office", "program")
LABEL_QUALITY = ("opinion", "slang", "vague", "multiple_subjects")
SAMPLE_SIZE = 200
TARGETS = {
    "notes": 600,
    "with prohibited content": 250,
    "per category (minimum)": 20,
    "hard negatives": 150,
    "with PII": 60,
}
README_BEGIN = "<!-- corpus-stats:begin (written by python -m notecheck.corpus build) -->"
README_END = "<!-- corpus-stats:end -->"


class CorpusError(ValueError):
    """One or more records break the corpus format; the message lists every problem with its id."""


def split_of(note_id: str) -> str:
    """The split of a note, from a SHA-256 of its id alone: 60% train, 20% dev, 20% test."""
    bucket = int.from_bytes(hashlib.sha256(note_id.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if bucket < 60 else "dev" if bucket < 80 else "test"


# -- reading and validating ---------------------------------------------------------------------------------------
def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path.name}:{number}: not valid JSON ({exc.msg})") from None
    return records


def validate_record(record: dict[str, Any]) -> list[str]:
    """Every problem with one record, as 'id: reason' strings (empty when the record is good)."""
    rid = record.get("id")
    problems: list[str] = []

    def bad(reason: str) -> None:
        problems.append(f"{rid}: {reason}")

    if not isinstance(rid, str) or not rid:
        return [f"{rid!r}: id must be a non-empty string"]
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return [f"{rid}: text must be a non-empty string"]
    for name in ("title", "client_id", "staff", "office", "program"):
        if record.get(name) is not None and not isinstance(record[name], str):
            bad(f"{name} must be a string")
    if record.get("contact_date") is not None:
        try:
            dt.date.fromisoformat(record["contact_date"])
        except (TypeError, ValueError):
            bad("contact_date is not an ISO date")
    if record.get("entered_at") is not None:
        try:
            dt.datetime.fromisoformat(record["entered_at"])
        except (TypeError, ValueError):
            bad("entered_at is not an ISO datetime")
    labels = record.get("labels")
    if not isinstance(labels, dict):
        return [*problems, f"{rid}: labels missing"]

    prohibited = labels.get("prohibited", [])
    for category in prohibited:
        if category not in PROHIBITED_CATEGORIES:
            bad(f"unknown prohibited category {category!r}")
    if len(set(prohibited)) != len(prohibited):
        bad("prohibited lists a category twice")
    for evidence in labels.get("evidence", []):
        category, quote = evidence.get("category"), evidence.get("quote")
        if category not in prohibited:
            bad(f"evidence category {category!r} is not in prohibited")
        if not isinstance(quote, str) or not quote or quote not in text:
            bad(f"evidence quote for {category} is not an exact substring of text")
    for category in prohibited:
        if not any(e.get("category") == category for e in labels.get("evidence", [])):
            bad(f"category {category} has no evidence quote")

    pii = labels.get("pii", [])
    for kind in pii:
        if kind not in PII_CATEGORIES:
            bad(f"unknown PII type {kind!r}")
    for evidence in labels.get("pii_evidence", []):
        kind, quote = evidence.get("type"), evidence.get("quote")
        if kind not in pii:
            bad(f"pii_evidence type {kind!r} is not in pii")
        if not isinstance(quote, str) or not quote or quote not in text:
            bad(f"pii_evidence quote for {kind} is not an exact substring of text")
    for kind in pii:
        if not any(e.get("type") == kind for e in labels.get("pii_evidence", [])):
            bad(f"PII type {kind} has no evidence quote")

    elements = labels.get("elements")
    if not isinstance(elements, dict) or set(elements) != set(ELEMENTS):
        bad(f"elements must have exactly the keys {list(ELEMENTS)}")
    elif not all(isinstance(v, bool) for v in elements.values()):
        bad("element values must be booleans")
    for quality in labels.get("quality", []):
        if quality not in LABEL_QUALITY:
            bad(f"unknown quality label {quality!r}")
    hard_negative = labels.get("hard_negative")
    if not isinstance(hard_negative, bool):
        bad("hard_negative must be a boolean")
    elif hard_negative and prohibited:
        bad("a hard negative conveys no prohibited information, but prohibited is not empty")
    return problems


def apply_fixes(records: list[dict[str, Any]], fixes: Iterable[dict[str, Any]]) -> list[str]:
    """Apply documented label corrections ({"id", "set": {label: value}, "reason"}); returns the ids changed."""
    by_id = {r["id"]: r for r in records}
    changed = []
    for fix in fixes:
        record = by_id.get(fix["id"])
        if record is None:
            raise CorpusError(f"label fix for unknown id {fix['id']!r}")
        if not fix.get("reason"):
            raise CorpusError(f"label fix for {fix['id']} has no reason")
        for key, value in fix["set"].items():
            if key == "elements":
                record["labels"]["elements"].update(value)
            else:
                record["labels"][key] = value
        changed.append(fix["id"])
    return changed


# -- building ------------------------------------------------------------------------------------------------------
@dataclass
class Built:
    records: list[dict[str, Any]]
    fixed: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["split"] == name]


def merge(raw_dir: Path, fixes_path: Path | None = None) -> Built:
    """Read every raw batch, apply label fixes, validate, assign splits. Raises CorpusError listing all problems."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    paths = sorted(raw_dir.glob("*.jsonl"))
    if not paths:
        raise CorpusError(f"no *.jsonl files in {raw_dir}")
    for path in paths:
        for record in read_jsonl(path):
            rid = record.get("id")
            if isinstance(rid, str) and rid in seen:
                problems.append(f"{rid}: duplicate id (also in {seen[rid]})")
                continue
            if isinstance(rid, str):
                seen[rid] = path.name
            records.append(record)
    fixed: list[str] = []
    if fixes_path is not None and fixes_path.exists():
        fixed = apply_fixes(records, json.loads(fixes_path.read_text(encoding="utf-8"))["fixes"])
    for record in records:
        problems += validate_record(record)
    if problems:
        raise CorpusError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    for record in records:
        record["split"] = split_of(record["id"])
    records.sort(key=lambda r: r["id"])
    return Built(records, fixed)


def validate_bank(paths: Iterable[Path]) -> list[str]:
    """Every problem with the sentence banks (data/sentences/*.jsonl, training data for the classifier only)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    texts: set[str] = set()
    for path in paths:
        for record in read_jsonl(path):
            rid, text, categories = record.get("id"), record.get("text"), record.get("categories")
            if not isinstance(rid, str) or not rid or rid in seen:
                problems.append(f"{path.name}: {rid!r}: id missing or not unique")
                continue
            seen[rid] = path.name
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{rid}: text must be a non-empty string")
            elif text.strip().lower() in texts:
                problems.append(f"{rid}: the same text appears earlier")
            else:
                texts.add(text.strip().lower())
            if not isinstance(categories, list) or any(c not in PROHIBITED_CATEGORIES for c in categories):
                problems.append(f"{rid}: categories must be a list of prohibited categories")
            if not isinstance(record.get("hard_negative"), bool):
                problems.append(f"{rid}: hard_negative must be a boolean")
            elif record["hard_negative"] and categories:
                problems.append(
                    f"{rid}: a hard negative conveys no prohibited information, but categories is not empty"
                )
    return problems


def sample_notes(records: list[dict[str, Any]], size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """Unlabeled demo notes (CONTRACT §1 fields only) from train and dev, never test; a stable pseudo-random pick."""
    pool = [r for r in records if r["split"] in ("train", "dev")]
    pool.sort(key=lambda r: hashlib.sha256(("sample:" + r["id"]).encode()).hexdigest())
    picked = sorted(pool[:size], key=lambda r: r["id"])
    return [{k: r[k] for k in NOTE_FIELDS if r.get(k) is not None} for r in picked]


def statistics(records: list[dict[str, Any]]) -> dict[str, Any]:
    def count(rows: list[dict[str, Any]]) -> dict[str, Any]:
        categories = Counter(c for r in rows for c in r["labels"]["prohibited"])
        return {
            "notes": len(rows),
            "with prohibited content": sum(1 for r in rows if r["labels"]["prohibited"]),
            "categories": {c: categories.get(c, 0) for c in PROHIBITED_CATEGORIES},
            "hard negatives": sum(1 for r in rows if r["labels"]["hard_negative"]),
            "with PII": sum(1 for r in rows if r["labels"]["pii"]),
            "pii": dict(sorted(Counter(p for r in rows for p in r["labels"]["pii"]).items())),
            "quality": dict(sorted(Counter(q for r in rows for q in r["labels"]["quality"]).items())),
            "elements absent": {e: sum(1 for r in rows if not r["labels"]["elements"][e]) for e in ELEMENTS},
        }

    return {"all": count(records), **{s: count([r for r in records if r["split"] == s]) for s in SPLITS}}


def targets_met(stats: dict[str, Any]) -> dict[str, tuple[int, int, bool]]:
    every = stats["all"]
    actual = {
        "notes": every["notes"],
        "with prohibited content": every["with prohibited content"],
        "per category (minimum)": min(every["categories"].values()),
        "hard negatives": every["hard negatives"],
        "with PII": every["with PII"],
    }
    return {name: (actual[name], target, actual[name] >= target) for name, target in TARGETS.items()}


def stats_markdown(stats: dict[str, Any], fixed: list[str]) -> str:
    lines = [README_BEGIN, "", "### Counts (as built)", ""]
    lines += ["| target | required | actual | met |", "| --- | ---: | ---: | --- |"]
    for name, (actual, target, ok) in targets_met(stats).items():
        lines.append(f"| {name} | >= {target} | {actual} | {'yes' if ok else '**no**'} |")
    lines += ["", "| | " + " | ".join(("all", *SPLITS)) + " |", "| --- |" + " ---: |" * 4]

    def row(label: str, values: list[Any]) -> str:
        return f"| {label} | " + " | ".join(str(v) for v in values) + " |"

    columns = [stats[s] for s in ("all", *SPLITS)]
    lines.append(row("notes", [c["notes"] for c in columns]))
    lines.append(row("with prohibited content", [c["with prohibited content"] for c in columns]))
    lines += [row(f"`{k}`", [c["categories"][k] for c in columns]) for k in PROHIBITED_CATEGORIES]
    lines.append(row("hard negatives", [c["hard negatives"] for c in columns]))
    lines.append(row("with PII", [c["with PII"] for c in columns]))
    lines += [row(f"PII `{k}`", [c["pii"].get(k, 0) for c in columns]) for k in PII_CATEGORIES]
    lines += [row(f"quality `{k}`", [c["quality"].get(k, 0) for c in columns]) for k in LABEL_QUALITY]
    lines += [row(f"element `{k}` absent", [c["elements absent"][k] for c in columns]) for k in ELEMENTS]
    lines += ["", f"Label fixes applied from `label_fixes.json`: {len(fixed)}.", "", README_END]
    return "\n".join(lines)


def update_readme(readme: Path, block: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if README_BEGIN in text and README_END in text:
        head, rest = text.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def build(data_dir: Path, sample_path: Path, *, readme: bool = True) -> Built:
    built = merge(data_dir / "raw", data_dir / "label_fixes.json")
    problems = validate_bank(sorted((data_dir / "sentences").glob("*.jsonl")))
    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the sentence banks:\n" + "\n".join(problems))
    write_jsonl(data_dir / "corpus.jsonl", built.records)
    for name in SPLITS:
        write_jsonl(data_dir / f"{name}.jsonl", built.split(name))
    write_jsonl(sample_path, sample_notes(built.records))
    if readme and (data_dir / "README.md").exists():
        update_readme(data_dir / "README.md", stats_markdown(statistics(built.records), built.fixed))
    return built


def load_split(name: str, data_dir: Path | str = "data") -> list[dict[str, Any]]:
    """Read a built split (train, dev, test) or the whole corpus ("corpus")."""
    return read_jsonl(Path(data_dir) / f"{name}.jsonl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notecheck.corpus", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="merge, validate and split data/raw/*.jsonl")
    b.add_argument("--data", default="data", help="the data directory (default: data)")
    b.add_argument("--sample-out", default=None, help="where to write the demo notes")
    b.add_argument("--no-readme", action="store_true", help="do not rewrite the counts in data/README.md")
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    sample = Path(args.sample_out) if args.sample_out else Path(__file__).parent / "data" / "sample_notes.jsonl"
    try:
        built = build(data_dir, sample, readme=not args.no_readme)
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    stats = statistics(built.records)
    print(f"{stats['all']['notes']} notes: " + ", ".join(f"{s} {stats[s]['notes']}" for s in SPLITS))
    for name, (actual, target, ok) in targets_met(stats).items():
        print(f"  {name}: {actual} (target >= {target}){'' if ok else '  BELOW TARGET'}")
    print(f"  label fixes applied: {len(built.fixed)}; sample notes: {sample}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
