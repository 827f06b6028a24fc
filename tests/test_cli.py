"""CONTRACT §3 for the single-note commands: check, redact, policies, eval; exit codes 0/1/2, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notecheck.cli import app

runner = CliRunner()
BLOCKED = "Called client 3/4 re: CDL training. Her PO approved it. SSN 123-45-6789. I will call her Friday.\n"
WARN = "Called client 3/4 re: CDL training at the Helena office. She seems lazy. I will call her Friday.\n"


def run(*args: str, stdin: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


@pytest.fixture
def note_file(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text(BLOCKED, encoding="utf-8")
    return path


def test_check_json_is_the_contract_report_and_exit_1_on_block(note_file: Path) -> None:
    result = run("check", str(note_file), "--format", "json", "--contact-date", "2026-03-04", "--id", "N-7")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["decision"] == "block" and report["note_id"] == "N-7"
    assert {f["category"] for f in report["findings"]} >= {"criminal", "US_SSN"}


def test_check_exit_0_on_warn_from_stdin() -> None:
    result = run("check", "-", "--format", "json", stdin=WARN)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["decision"] == "warn"


def test_check_text_output_names_the_decision_and_findings(note_file: Path) -> None:
    result = run("check", str(note_file))
    assert result.exit_code == 1
    assert "BLOCK" in result.stdout and "criminal" in result.stdout and "US_SSN" in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "reason"),
    [
        (["check", "/no/such/note.txt"], None, "no such file"),
        (["check", "-"], "", "empty"),
        (["check", "-"], b"\xff\xfe\xfa bad", "not valid UTF-8"),
        (["check", "-"], b"PK\x03\x04\x00\x00binary", "binary"),
        (["check", "-"], "x" * 70_000, "over the limit"),
        (["check", "-", "--format", "xml"], "hello there", "--format"),
        (["check", "-", "--policy", "no-such-policy"], "hello there", "unknown policy"),
        (["check", "-", "--contact-date", "March 4"], "hello there", "contact_date"),
        (["redact", "/no/such/note.txt"], None, "no such file"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_reason(args: list[str], stdin, reason: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert reason in message
    assert "Traceback" not in result.output
    assert len(message.splitlines()) == 1


def test_bad_policy_file_names_file_line_and_key(tmp_path: Path) -> None:
    policy = tmp_path / "agency.yaml"
    policy.write_text(
        "name: agency\ndescription: d\nextends: default\nprohibited:\n  medical: {severity: fatal, ref: x}\n"
    )
    result = run("check", "-", "--policy", str(policy), stdin="hello there")
    assert result.exit_code == 2
    assert f"{policy}:5:" in result.stderr and "prohibited.medical.severity" in result.stderr


def test_redact_replaces_prohibited_spans_and_pii(note_file: Path) -> None:
    result = run("redact", str(note_file))
    assert result.exit_code == 0
    assert "<US_SSN>" in result.stdout and "<CRIMINAL>" in result.stdout
    assert "123-45-6789" not in result.stdout and "Her PO" not in result.stdout
    assert result.stdout.startswith("Called client 3/4 re: CDL training.")


def test_policies_lists_every_profile_with_its_sources() -> None:
    result = run("policies")
    assert result.exit_code == 0
    for name in ("default", "help-link", "wioa-montgomery", "nalwdb", "masshire", "alaska-dpa"):
        assert name in result.stdout
    detail = run("policies", "alaska-dpa")
    assert detail.exit_code == 0 and "004_6ed360e28e7eb5bb.txt" in detail.stdout


def test_every_command_is_documented_with_an_example() -> None:
    import notecheck.cli as cli

    cli._register_optional_commands()
    for command in cli.app.registered_commands:
        doc = command.callback.__doc__ or ""
        assert doc.strip(), f"{command.callback.__name__} has no docstring"
        assert "Example:" in doc, f"{command.callback.__name__} has no Example: line"


def test_installed_console_script_runs_end_to_end(note_file: Path) -> None:
    """The real process, as a user runs it (exit code and JSON on stdout)."""
    exe = Path(sys.executable).with_name("notecheck")
    done = subprocess.run([str(exe), "check", str(note_file), "--format", "json"], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["decision"] == "block"
    missing = subprocess.run([str(exe), "check", "/no/such/file"], capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_checking_a_note_does_not_import_the_server_or_database_stack(note_file: Path) -> None:
    probe = (
        "import sys; sys.argv = ['notecheck', 'check', sys.argv[1], '--format', 'json']\n"
        "import notecheck.cli\n"
        "notecheck.cli._exit_now = sys.exit  # return here instead of ending the process at once\n"
        "try:\n    notecheck.cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'sklearn', 'skops') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(note_file)], capture_output=True, text=True)
    assert "HEAVY []" in done.stderr, done.stderr


def test_help_lists_every_command() -> None:
    exe = Path(sys.executable).with_name("notecheck")
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    for command in ("check", "redact", "policies", "eval", "scan", "report", "serve", "keys", "users", "demo"):
        assert command in done.stdout


def test_short_commands_end_without_tearing_down_but_keep_their_output_and_exit_code(note_file: Path) -> None:
    """`check` and `scan` leave through os._exit once their work is written (no 0.2 s of freeing the Checker):
    the output is complete and the exit code is the command's."""
    exe = Path(sys.executable).with_name("notecheck")
    done = subprocess.run([str(exe), "check", str(note_file), "--format", "json"], capture_output=True, text=True)
    report = json.loads(done.stdout)
    assert done.returncode == (1 if report["decision"] == "block" else 0)
    missing = subprocess.run([str(exe), "check", str(note_file) + ".missing"], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr
