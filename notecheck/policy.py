"""Policy profiles: which rule blocks, warns or is off, element weights, limits, each citing its seed file.

A profile is a YAML file in policies/ (built in) or anywhere on disk (`--policy path.yaml`). `extends: default`
starts from another built-in profile and overrides keys; everything is validated at load, and errors name file,
line and key.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from notecheck.errors import ConfigError
from notecheck.report import ELEMENTS, PII_CATEGORIES, PROHIBITED_CATEGORIES, QUALITY_CATEGORIES
from notecheck.yamlsource import YamlDocument, load_yaml, raise_validation_error

Level = Literal["error", "warning", "info", "off"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    ref: str = Field(description="seed file this rule or limit comes from")


def _off_is_not_false(value: Any) -> Any:
    """YAML 1.1 reads a bare `off` as false; in a severity it can only mean "off"."""
    return "off" if value is False else value


class CategoryRule(Cited):
    severity: Level

    _severity = field_validator("severity", mode="before")(_off_is_not_false)


class ElementRule(Cited):
    required: bool = True
    weight: int = Field(10, ge=0, le=100)


class QualityRule(CategoryRule):
    weight: int = Field(5, ge=0, le=100)


class LateEntry(CategoryRule):
    business_days: int = Field(ge=0)
    weight: int = Field(5, ge=0, le=100)
    title_overrides: dict[str, int] = Field(
        default_factory=dict, description="title keyword -> business days (e.g. Alaska EA notes: 2)"
    )


class ContactGap(CategoryRule):
    days: int = Field(gt=0)
    program_days: dict[str, int] = Field(default_factory=dict, description="program keyword -> days (veterans: 30)")
    letter_counts_as_contact: bool = True


class FollowUp(CategoryRule):
    months_after_exit: tuple[int, ...]
    programs: tuple[str, ...] = ("youth",)
    grace_days: int = 15


class Cloned(CategoryRule):
    similarity: float = Field(0.85, gt=0, le=1)


class Caseload(_Strict):
    contact_gap: ContactGap | None = None
    missed_follow_up: FollowUp | None = None
    cloned: Cloned | None = None


class RuleOverride(Cited):
    severity: Level

    _severity = field_validator("severity", mode="before")(_off_is_not_false)


class Policy(_Strict):
    name: str
    description: str
    extends: str | None = None
    sources: tuple[str, ...] = ()
    elements: dict[Literal[ELEMENTS], ElementRule]  # type: ignore[valid-type]
    prohibited: dict[Literal[PROHIBITED_CATEGORIES], CategoryRule]  # type: ignore[valid-type]
    pii: dict[Literal[PII_CATEGORIES], CategoryRule]  # type: ignore[valid-type]
    quality: dict[Literal[QUALITY_CATEGORIES], QualityRule]  # type: ignore[valid-type]
    late_entry: LateEntry | None = None
    caseload: Caseload = Caseload()
    rules: dict[str, RuleOverride] = Field(default_factory=dict, description="per-rule severity overrides")
    classifier_threshold: float = Field(0.5, gt=0, lt=1)
    # A rule finding whose sentence the model scores below this for the rule's category is dropped: the words
    # matched, but the sentence reads like nothing the model learned of that category (an unforeseen job title,
    # employer name or idiom). Not applied in a sentence where the rules found several categories. None keeps every
    # rule finding.
    classifier_veto_below: float | None = Field(None, ge=0, lt=1)
    max_chars: int = Field(64 * 1024, gt=0)
    path: str | None = None

    @model_validator(mode="after")
    def _all_elements(self) -> Policy:
        missing = [e for e in ELEMENTS if e not in self.elements]
        if missing:
            raise ValueError(f"elements missing: {missing}")
        return self

    def severity_for(self, kind: str, category: str, rule: str) -> Level:
        """Per-rule override first, then the category's level."""
        if rule in self.rules:
            return self.rules[rule].severity
        table: dict[str, Any] = {"prohibited": self.prohibited, "pii": self.pii, "quality": self.quality}[kind]
        entry = table.get(category)
        return entry.severity if entry else "off"

    def ref_for(self, kind: str, category: str, rule: str) -> str:
        if rule in self.rules:
            return self.rules[rule].ref
        table: dict[str, Any] = {"prohibited": self.prohibited, "pii": self.pii, "quality": self.quality}[kind]
        entry = table.get(category)
        return entry.ref if entry else ""


def builtin_dir() -> Path:
    return Path(str(resources.files("notecheck") / "policies"))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(doc: YamlDocument, seen: tuple[str, ...]) -> dict[str, Any]:
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError("a policy must be a mapping of keys", path=doc.path, line=1)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str) or parent not in builtin_names():
        raise ConfigError(
            f"'extends' must name a built-in policy, one of {builtin_names()}",
            path=doc.path,
            line=doc.line_of(("extends",)),
            key="extends",
        )
    if parent in seen:
        raise ConfigError(f"'extends' loops through {parent}", path=doc.path, key="extends")
    base = _resolve(load_yaml(builtin_dir() / f"{parent}.yaml"), seen + (parent,))
    base = {k: v for k, v in base.items() if k not in ("name", "description", "extends")}
    return _merge(base, data)


@cache
def load_policy(name_or_path: str = "default", known_rules: frozenset[str] | None = None) -> Policy:
    """Load a built-in profile by name or a profile file by path; errors name file, line and key."""
    candidate = Path(name_or_path)
    if name_or_path in builtin_names():
        path = builtin_dir() / f"{name_or_path}.yaml"
    elif candidate.suffix in (".yaml", ".yml") or candidate.exists():
        path = candidate
    else:
        raise ConfigError(f"unknown policy '{name_or_path}'; built-in policies are {builtin_names()} or give a path")
    doc = load_yaml(path)
    data = _resolve(doc, (path.stem,))
    try:
        policy = Policy.model_validate({**data, "path": str(path)})
    except ValidationError as exc:
        raise_validation_error(doc, exc)
    if known_rules is not None:
        for rule in policy.rules:
            if rule not in known_rules:
                raise ConfigError(
                    f"unknown rule '{rule}' (see `notecheck policies --rules` for rule ids)",
                    path=doc.path,
                    line=doc.line_of(("rules", rule)),
                    key=f"rules.{rule}",
                )
    return policy
