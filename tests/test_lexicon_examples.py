"""Every example and counter-example in the lexicons is a test: rules are data, and so are their tests."""

from __future__ import annotations

import pytest

from notecheck.lexicon import load_lexicons
from notecheck.matching import RuleSet

LEX = load_lexicons()


def _rule_cases(kind: str):  # type: ignore[no-untyped-def]
    for lexicon in LEX.categories:
        for rule in lexicon.rules:
            for text in rule.examples if kind == "example" else rule.counter_examples:
                yield pytest.param(rule.id, text, id=f"{rule.id}:{text[:40]}")


@pytest.mark.parametrize(("rule_id", "text"), list(_rule_cases("example")))
def test_prohibited_example_fires(checker_no_model, rule_id: str, text: str) -> None:
    report = checker_no_model.check(text)
    assert rule_id in {f.rule for f in report.findings}, f"{rule_id} did not fire"


@pytest.mark.parametrize(("rule_id", "text"), list(_rule_cases("counter")))
def test_prohibited_counter_example_does_not_fire(checker_no_model, rule_id: str, text: str) -> None:
    report = checker_no_model.check(text)
    assert rule_id not in {f.rule for f in report.findings}


def _exclusion_cases():  # type: ignore[no-untyped-def]
    for exclusion in LEX.exclusions.exclusions:
        for text in exclusion.examples:
            yield pytest.param(exclusion, text, id=f"{exclusion.id}:{text[:40]}")


@pytest.mark.parametrize(("exclusion", "text"), list(_exclusion_cases()))
def test_exclusion_example_leaves_no_rule_finding_of_its_categories(checker_no_model, exclusion, text) -> None:  # type: ignore[no-untyped-def]
    doc = checker_no_model.nlp(text)
    assert RuleSet(checker_no_model.nlp, [(exclusion.id, exclusion)]).find(doc), "exclusion did not match"
    report = checker_no_model.check(text)
    hits = {f.category for f in report.findings if f.kind == "prohibited"}
    assert not hits & set(exclusion.categories)


def _pii_cases(kind: str):  # type: ignore[no-untyped-def]
    for spec in LEX.pii.recognizers:
        for text in spec.examples if kind == "example" else spec.counter_examples:
            yield pytest.param(spec.entity, text, id=f"{spec.name}:{text[:40]}")


@pytest.mark.parametrize(("entity", "text"), list(_pii_cases("example")))
def test_pii_example_found(checker_no_model, entity: str, text: str) -> None:
    assert entity in {f.category for f in checker_no_model.check(text).findings if f.kind == "pii"}


@pytest.mark.parametrize(("entity", "text"), list(_pii_cases("counter")))
def test_pii_counter_example_not_found(checker_no_model, entity: str, text: str) -> None:
    assert entity not in {f.category for f in checker_no_model.check(text).findings if f.kind == "pii"}


def _element_cases(kind: str):  # type: ignore[no-untyped-def]
    for name, rule in LEX.elements.elements.items():
        for text in rule.examples if kind == "example" else rule.counter_examples:
            yield pytest.param(name, text, id=f"{name}:{text[:40]}")


@pytest.mark.parametrize(("element", "text"), list(_element_cases("example")))
def test_element_example_present(checker_no_model, element: str, text: str) -> None:
    assert checker_no_model.check(text).elements[element].present


@pytest.mark.parametrize(("element", "text"), list(_element_cases("counter")))
def test_element_counter_example_absent(checker_no_model, element: str, text: str) -> None:
    assert not checker_no_model.check(text).elements[element].present


def _quality_cases(kind: str):  # type: ignore[no-untyped-def]
    for rule in LEX.quality.rules:
        for text in rule.examples if kind == "example" else rule.counter_examples:
            yield pytest.param(rule.id, text, id=f"{rule.id}:{text[:40]}")


@pytest.mark.parametrize(("rule_id", "text"), list(_quality_cases("example")))
def test_quality_example_fires(checker_no_model, rule_id: str, text: str) -> None:
    assert rule_id in {f.rule for f in checker_no_model.check(text).findings}


@pytest.mark.parametrize(("rule_id", "text"), list(_quality_cases("counter")))
def test_quality_counter_example_does_not_fire(checker_no_model, rule_id: str, text: str) -> None:
    assert rule_id not in {f.rule for f in checker_no_model.check(text).findings}


def test_every_rule_has_examples_and_counter_examples() -> None:
    for lexicon in LEX.categories:
        for rule in lexicon.rules:
            assert rule.examples, f"{rule.id} has no examples"
            assert rule.counter_examples, f"{rule.id} has no counter-examples"
    for spec in LEX.pii.recognizers:
        assert spec.examples and spec.counter_examples, spec.name
