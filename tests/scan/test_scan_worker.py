"""The per-process half of a scan (notecheck.scan.worker): spaCy memory zones only once the vocabulary budget is
spent, with the same results either way."""

from __future__ import annotations

from scan_support import synthetic

from notecheck.checker import Checker
from notecheck.scan import worker
from notecheck.scan.sources import RawRow
from notecheck.scan.worker import check_rows


def _rows(notes: list[dict]) -> list[RawRow]:  # type: ignore[type-arg]
    return [RawRow(number, note) for number, note in enumerate(notes, start=1)]


def _fields(items: list[worker.Item]) -> list[dict]:  # type: ignore[type-arg]
    return [vars(item) for item in items]


def test_items_are_the_same_inside_and_outside_memory_zones(checker: Checker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(synthetic(40, seed=21))
    monkeypatch.setattr(worker, "_VOCAB_BASE", {})
    monkeypatch.setattr(worker, "VOCAB_BUDGET", 0)  # every batch in a zone (words not cached)
    zoned = check_rows(rows, "default", checker=checker)
    monkeypatch.setattr(worker, "VOCAB_BUDGET", 10**9)  # no zone: the words stay cached
    free = check_rows(rows, "default", checker=checker)
    again = check_rows(rows, "default", checker=checker)  # from the tokenizer's cache
    monkeypatch.setattr(worker, "VOCAB_BUDGET", 0)
    zoned_cached = check_rows(rows, "default", checker=checker)  # a zone over cached words
    assert _fields(zoned) == _fields(free) == _fields(again) == _fields(zoned_cached)
    assert all(item.ok for item in free)


def test_the_vocabulary_stops_growing_at_the_budget(checker: Checker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Batches run outside memory zones (their new strings stay) until the vocabulary has grown by VOCAB_BUDGET
    strings; after that every batch's new strings are freed again, so a long scan's memory stays bounded."""
    monkeypatch.setattr(worker, "_VOCAB_BASE", {})
    monkeypatch.setattr(worker, "VOCAB_BUDGET", 100)
    strings = checker.nlp.vocab.strings

    def batch(k: int) -> list[RawRow]:
        notes = synthetic(30, seed=40 + k)
        for i, note in enumerate(notes):  # tokens no other note has: each adds strings to the vocabulary
            note["text"] += f" Ref Q{k:03d}{i:04d}Z and W{k:03d}{i:05d}X."
        return _rows(notes)

    start = len(strings)
    sizes = []
    for k in range(6):
        check_rows(batch(k), "default", checker=checker)
        sizes.append(len(strings) - start)
    assert sizes[0] >= 60  # the first batch kept its new strings
    spent = next(i for i, size in enumerate(sizes) if size >= 100)
    assert spent < 4
    assert sizes[spent:] == [sizes[spent]] * (6 - spent)  # none kept after the budget was spent


def test_a_batch_runs_without_the_cyclic_collector_and_its_cycles_are_freed_after() -> None:
    import gc
    import weakref

    from notecheck.scan.worker import batch_without_gc

    class Node:
        pass

    assert gc.isenabled()
    with batch_without_gc():
        assert not gc.isenabled()
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        ref = weakref.ref(node)
        del node
        assert ref() is not None  # a cycle: reference counting alone cannot free it
    assert gc.isenabled()
    assert ref() is None  # the collection after the batch did
    gc.disable()
    try:
        with batch_without_gc():
            pass
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
