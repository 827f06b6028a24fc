"""Rule data: the schema of lexicons/*.yaml and its loader.

Rule *types* live in code (phrase lists, spaCy token patterns, regular expressions); rules live in YAML. Every rule
has an id, a category, a severity, the seed policy it comes from, and examples and counter-examples that the test
suite runs.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from notecheck.report import ELEMENTS, PII_CATEGORIES, PROHIBITED_CATEGORIES, QUALITY_CATEGORIES
from notecheck.yamlsource import load_yaml, raise_validation_error

SeverityName = Literal["error", "warning", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matchers(_Strict):
    """What a rule matches: any of lowercase phrases, spaCy Matcher token patterns, or regular expressions."""

    phrases: tuple[str, ...] = ()
    patterns: tuple[tuple[dict[str, Any], ...], ...] = ()
    regex: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Matchers:
        if not (self.phrases or self.patterns or self.regex):
            raise ValueError("a rule needs at least one of phrases, patterns or regex")
        return self


class ProhibitedRule(Matchers):
    id: str
    severity: SeverityName = "error"
    confidence: float = Field(0.9, ge=0, le=1)
    message: str | None = None
    # Generic wording ("diagnosed", "his meds") that takes the category of a more specific finding in the same
    # sentence: the hit is dropped when a rule of one of these categories also fires in that sentence.
    yields_to: tuple[Literal[PROHIBITED_CATEGORIES], ...] = ()  # type: ignore[valid-type]
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


class CategoryLexicon(_Strict):
    """One prohibited category: lexicons/<category>.yaml."""

    category: Literal[PROHIBITED_CATEGORIES]  # type: ignore[valid-type]
    seed: str
    message: str
    rules: tuple[ProhibitedRule, ...]

    @field_validator("rules")
    @classmethod
    def _ids_in_category(cls, rules: tuple[ProhibitedRule, ...], info: Any) -> tuple[ProhibitedRule, ...]:
        category = info.data.get("category")
        for rule in rules:
            if category and not rule.id.startswith(f"prohibited.{category}."):
                raise ValueError(f"rule id '{rule.id}' must start with 'prohibited.{category}.'")
        return rules


class Exclusion(Matchers):
    """Occupational or incidental uses; a prohibited match overlapping one is dropped."""

    id: str
    categories: tuple[Literal[PROHIBITED_CATEGORIES], ...]  # type: ignore[valid-type]
    seed: str
    only_with: Matchers | None = None
    examples: tuple[str, ...] = ()


class ExclusionLexicon(_Strict):
    exclusions: tuple[Exclusion, ...]


class ElementRule(Matchers):
    """Evidence of one element. Beyond its own matchers (which count anywhere in the note):
    `opening` counts only in the note's first sentence ("Call w/ cl" opens a note; "will call" later does not say
    how this contact happened); `with_date` counts only in a sentence that also names a date, day or time ("f/u
    5/27" is a concrete next step, "will follow up" is not); `closing` counts only in the note's last sentence, and only
    when it names a date, day or time (writers end a note with the next contact or deadline: "Review 4/15.",
    "Info session 7/17."); `implied_by` lists elements whose presence implies this
    one (a contact location implies an in-person contact); `min_words` makes the element present in any note at
    least that long (what happened is stated in every note of substance); `not_in_plans` drops evidence that follows a
    plan cue in its sentence ("Next appt 5/14 in person", "P: ... next session via Zoom": a planned contact, not this
    one)."""

    opening: Matchers | None = None
    with_date: Matchers | None = None
    closing: Matchers | None = None
    implied_by: tuple[Literal[ELEMENTS], ...] = ()  # type: ignore[valid-type]
    min_words: int | None = None
    not_in_plans: bool = False
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> ElementRule:  # an element may be defined by its extra matchers alone
        extra = self.opening or self.with_date or self.closing or self.min_words
        if not (self.phrases or self.patterns or self.regex or extra):
            raise ValueError("an element rule needs matchers, opening, with_date, closing or min_words")
        return self


class ElementLexicon(_Strict):
    seed: str
    elements: dict[Literal[ELEMENTS], ElementRule]  # type: ignore[valid-type]


class QualityRule(Matchers):
    id: str
    category: Literal[QUALITY_CATEGORIES]  # type: ignore[valid-type]
    seed: str
    message: str
    confidence: float = Field(0.8, ge=0, le=1)
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


class Topic(Matchers):
    """A major subject, for the one-subject-per-note rule."""

    name: str


class QualityLexicon(_Strict):
    rules: tuple[QualityRule, ...]
    vague_min_words: int = 12
    # A note shorter than this that gives no number at all (no date, hours, amount) is too generic to be useful.
    vague_min_words_without_numbers: int | None = None
    vague_generic: Matchers | None = None
    topics: tuple[Topic, ...] = ()
    multiple_subjects_min_topics: int = 3
    # Words that turn to another subject ("also asked about", "and she wants"). When given, a note has multiple
    # subjects with at least `multiple_subjects_min_shifts` of them, or with one and `min_topics` topics.
    subject_shifts: Matchers | None = None
    multiple_subjects_min_shifts: int = 2


class PiiPattern(_Strict):
    name: str
    regex: str
    score: float = Field(ge=0, le=1)


class PiiRecognizerSpec(_Strict):
    """A Presidio pattern recognizer defined in YAML. A named group `value` narrows the reported span."""

    entity: Literal[PII_CATEGORIES]  # type: ignore[valid-type]
    name: str
    seed: str
    patterns: tuple[PiiPattern, ...]
    context: tuple[str, ...] = ()
    deny_context: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    # A regular expression that every text this recognizer can find something in contains: a cheap necessary
    # condition checked first, so notes that cannot hold such PII skip the recognizer (and Presidio) entirely.
    requires: str | None = None


class BuiltinRecognizer(_Strict):
    """A Presidio recognizer used as it is, with constructor options (e.g. phone regions)."""

    name: str
    options: dict[str, Any] = {}
    # A regular expression that every text this recognizer can find something in contains: a cheap necessary
    # condition checked first, so notes that cannot hold such PII skip the recognizer (and Presidio) entirely.
    requires: str | None = None


class PiiLexicon(_Strict):
    builtin: tuple[BuiltinRecognizer, ...] = ()
    min_score: float = 0.4
    recognizers: tuple[PiiRecognizerSpec, ...] = ()
    messages: dict[Literal[PII_CATEGORIES], str] = {}  # type: ignore[valid-type]


class Lexicons(BaseModel):
    """All rule data, loaded once per Checker."""

    model_config = ConfigDict(frozen=True)
    categories: tuple[CategoryLexicon, ...]
    exclusions: ExclusionLexicon
    elements: ElementLexicon
    quality: QualityLexicon
    pii: PiiLexicon

    def prohibited_rules(self) -> dict[str, tuple[CategoryLexicon, ProhibitedRule]]:
        return {rule.id: (lex, rule) for lex in self.categories for rule in lex.rules}


def default_lexicon_dir() -> Path:
    return Path(str(resources.files("notecheck") / "lexicons"))


def _load(model: type[BaseModel], path: Path) -> Any:
    doc = load_yaml(path)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise_validation_error(doc, exc)


@cache
def load_lexicons(directory: str | None = None) -> Lexicons:
    """Load and validate every lexicon file in `directory` (default: the bundled lexicons)."""
    root = Path(directory) if directory else default_lexicon_dir()
    categories = tuple(_load(CategoryLexicon, root / f"{name}.yaml") for name in PROHIBITED_CATEGORIES)
    return Lexicons(
        categories=categories,
        exclusions=_load(ExclusionLexicon, root / "exclusions.yaml"),
        elements=_load(ElementLexicon, root / "elements.yaml"),
        quality=_load(QualityLexicon, root / "quality.yaml"),
        pii=_load(PiiLexicon, root / "pii.yaml"),
    )
