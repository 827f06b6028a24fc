"""The wheel carries everything (lexicons, policies, models, migrations): build it, install it into an empty venv,
and run `notecheck check` and `notecheck redact` from it with the network unplugged (a fresh network namespace)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "Called client 3/4 at the Helena office re: CDL training. She was in county lockup. "
    "SSN 123-45-6789, jo.smith@example.org.\n"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (path,) = out.glob("notecheck-*.whl")
    return path


def test_wheel_contains_the_rule_data_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "notecheck/lexicons/medical.yaml",
        "notecheck/lexicons/pii.yaml",
        "notecheck/policies/default.yaml",
        "notecheck/policies/alaska-dpa.yaml",
        "notecheck/store/migrations/env.py",
        "notecheck/store/migrations/versions/0001_initial_schema.py",
        "notecheck/py.typed",
    ):
        assert required in names, required
    assert not any(name.startswith("tests/") for name in names)


def _offline(command: list[str]) -> list[str]:
    """Run without any network: a new network namespace has only a downed loopback."""
    unshare = shutil.which("unshare")
    if unshare and os.geteuid() == 0:
        return [unshare, "--net", *command]
    return command


def test_installed_wheel_checks_and_redacts_offline(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
    )
    # Third-party dependencies come from the project's environment; notecheck itself only from the wheel.
    site = Path(
        subprocess.check_output([str(python), "-c", "import site; print(site.getsitepackages()[0])"], text=True).strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "NO_PROXY": "*"}

    where = subprocess.run([str(python), "-c", "import notecheck; print(notecheck.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, check=True)  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout

    checked = subprocess.run(_offline([str(venv / "bin" / "notecheck"), "check", str(note), "--format", "json"]),
                             capture_output=True, text=True, cwd=tmp_path, env=env)  # fmt: skip
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert {f["category"] for f in report["findings"]} >= {"criminal", "US_SSN", "EMAIL_ADDRESS"}

    redacted = subprocess.run(_offline([str(venv / "bin" / "notecheck"), "redact", str(note)]),
                              capture_output=True, text=True, cwd=tmp_path, env=env)  # fmt: skip
    assert redacted.returncode == 0, redacted.stderr
    assert "<US_SSN>" in redacted.stdout and "123-45-6789" not in redacted.stdout
