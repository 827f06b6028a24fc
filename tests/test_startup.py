"""CLI start-up trimming: placeholders only in notecheck's own short-lived processes, and checks still work."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
{setup}
from notecheck.checker import Checker
report = Checker().check("Met client at the office; she has diabetes. Call 301-555-0142.")
spacy_cli = sys.modules["spacy.cli"]
categories = sorted({{f.category for f in report.findings}})
print(report.decision, categories, getattr(spacy_cli, "__file__", None) is not None)
"""


def _run(setup: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_cli_processes_check_notes_without_spacys_and_presidios_unused_modules() -> None:
    out = _run("from notecheck.startup import skip_unused_library_modules; skip_unused_library_modules()")
    assert out.startswith("block") and "medical" in out and "PHONE_NUMBER" in out
    assert out.endswith("False")  # spacy.cli is the placeholder


def test_library_users_get_the_real_modules() -> None:
    assert _run("").endswith("True")
