"""The benchmarks package lives at the repository root, which `pytest` (unlike `python -m pytest`) does not put on
sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
