"""Detectors: one concern each, all reading the same spaCy Doc. Each returns `Hit`s; the Checker applies policy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """A raw detection before policy: what was found, where, by which rule, citing which seed."""

    kind: str
    category: str
    rule: str
    start: int | None
    end: int | None
    confidence: float
    message: str
    seed: str
