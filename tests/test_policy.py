"""CONTRACT §6: built-in profiles, seed citations, `extends`, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from notecheck.errors import ConfigError
from notecheck.policy import builtin_names, load_policy

SEEDS = {
    "000_307c4094741002af.txt", "001_d938a723a3cc94a0.txt", "002_79a53be2a09ade33.txt",
    "003_dd8136f12dca5cb8.txt", "004_6ed360e28e7eb5bb.txt",
}  # fmt: skip
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_the_six_contract_profiles_are_built_in() -> None:
    assert builtin_names() == sorted(["default", "help-link", "wioa-montgomery", "nalwdb", "masshire", "alaska-dpa"])


@pytest.mark.parametrize("name", builtin_names())
def test_every_rule_and_limit_cites_a_seed_file(name: str) -> None:
    policy = load_policy(name)
    refs = [r.ref for r in policy.elements.values()]
    refs += [r.ref for table in (policy.prohibited, policy.pii, policy.quality) for r in table.values()]
    refs += [policy.late_entry.ref] if policy.late_entry else []
    caseload = policy.caseload
    refs += [c.ref for c in (caseload.contact_gap, caseload.missed_follow_up, caseload.cloned) if c]
    assert refs and set(refs) <= SEEDS
    assert set(policy.sources) <= SEEDS
    if SHARED_SEEDS.exists():
        assert all((SHARED_SEEDS / ref).exists() for ref in refs)


def test_default_profile_matches_the_contract() -> None:
    policy = load_policy("default")
    assert all(e.required for e in policy.elements.values()) and len(policy.elements) == 7
    assert {c: r.severity for c, r in policy.prohibited.items()} == dict.fromkeys(policy.prohibited, "error")
    assert len(policy.prohibited) == 9
    assert policy.pii["US_SSN"].severity == "error"
    assert policy.late_entry is not None and policy.late_entry.business_days == 3


def test_agency_profiles_carry_their_seed_limits() -> None:
    assert load_policy("alaska-dpa").late_entry.business_days == 1  # type: ignore[union-attr]
    assert load_policy("nalwdb").late_entry.business_days == 3  # type: ignore[union-attr]
    masshire = load_policy("masshire").caseload.contact_gap
    assert masshire is not None and masshire.days == 60 and masshire.program_days == {"veteran": 30}
    assert not masshire.letter_counts_as_contact
    follow_up = load_policy("wioa-montgomery").caseload.missed_follow_up
    assert follow_up is not None and follow_up.months_after_exit == (1, 3, 5, 8, 12)


def _write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "agency.yaml"
    path.write_text(body)
    return str(path)


@pytest.mark.parametrize(
    ("body", "line", "key", "words"),
    [
        ("name: a\ndescription: d\nextends: default\nlate_entry:\n  business_dayz: 2\n", 5, "late_entry.business_dayz",
         "unknown key"),
        ("name: a\ndescription: d\nextends: default\npii:\n  US_SSN: {severity: severe, ref: x}\n", 5,
         "pii.US_SSN.severity", "'error', 'warning', 'info' or 'off'"),
        ("name: a\ndescription: d\nextends: default\nprohibited:\n\n  astrology: {severity: error, ref: x}\n", 6,
         "prohibited.astrology", "unknown name 'astrology'"),
        ("name: a\ndescription: d\nextends: defaultt\n", 3, "extends", "built-in policy"),
        ("name: a\ndescription: d\nextends: default\nrules:\n  prohibited.medical.nope: {severity: off, ref: x}\n", 5,
         "rules.prohibited.medical.nope", "unknown rule"),
        ("name: a\ndescription: [unclosed\n", 3, None, "invalid YAML"),
    ],
)  # fmt: skip
def test_config_errors_name_file_line_and_key(
    tmp_path: Path, body: str, line: int, key: str | None, words: str
) -> None:
    from notecheck.checker import Checker

    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        Checker(policy=path, classifier=False)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:") or info.value.line == line, message
    assert words in message
    if key:
        assert info.value.key == key


def test_an_agency_file_can_extend_and_override(tmp_path: Path) -> None:
    from notecheck.checker import Checker

    path = _write(
        tmp_path,
        "name: county\ndescription: d\nextends: default\n"
        "prohibited:\n  legal: {severity: off, ref: 000_307c4094741002af.txt}\n",
    )
    checker = Checker(policy=path, classifier=False)
    report = checker.check("Client has a court date on Friday for the eviction and will miss the workshop.")
    assert report.policy == "county"
    assert "legal" not in {f.category for f in report.findings}
