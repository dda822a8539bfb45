"""Tracked terms are matched case- and accent-insensitively, on word boundaries, through the Snowball stems of
the conversation's language (inflected forms are mentions), and as whole phrases."""

from __future__ import annotations

import pytest

from domain.enums import Language, TermKind
from domain.errors import ValidationError
from domain.terms import TermMatcher, TrackedTerm
from domain.text import tokens


def found(text: str, language: Language, *names: str, term_language: Language | None = None) -> list[str]:
    terms = [
        TrackedTerm(id=n, kind=TermKind.KEYWORD, name=name, language=term_language)
        for n, name in enumerate(names, start=1)
    ]
    matcher = TermMatcher.build(terms, language)
    words = tokens(text)
    return [text[words[m.start].start : words[m.end - 1].end] for m in matcher.find(text)]


@pytest.mark.parametrize(
    "language,term,text,mentions",
    [
        (Language.DA, "rabat", "Kan vi få rabatten nu? Alle rabatter tæller.", ["rabatten", "rabatter"]),
        (Language.DA, "produktion", "Produktionen og produktionens folk.", ["Produktionen", "produktionens"]),
        (Language.NO, "rabatt", "Rabatten er bra, og rabattene også.", ["Rabatten", "rabattene"]),
        (Language.NO, "printer", "Printeren og printere.", ["Printeren", "printere"]),
        (Language.SV, "offert", "Offerten kom, och fler offerter kommer.", ["Offerten", "offerter"]),
        (Language.SV, "skrivare", "Skrivaren och skrivarna.", ["Skrivaren", "skrivarna"]),
        (Language.EN, "discount", "Discounts help; we discounted it.", ["Discounts", "discounted"]),
        (Language.EN, "printer", "Two printers and a printer.", ["printers", "printer"]),
    ],
)
def test_inflected_forms_are_mentions_in_each_language(language, term, text, mentions):
    assert found(text, language, term) == mentions


def test_a_phrase_matches_with_spaces_or_hyphens_between_its_words_and_its_last_word_inflected():
    text = "Vores 3D-printer, to 3D printere og 3D-printerne."
    assert found(text, Language.DA, "3D printer") == ["3D-printer", "3D printere", "3D-printerne"]


def test_a_phrase_does_not_match_across_punctuation_or_in_another_order():
    assert found("Den er i 3D. Printeren er ny, og printer 3D er noget andet.", Language.DA, "3D printer") == []


def test_the_longest_phrase_wins_and_a_shorter_term_at_the_same_place_counts_too():
    text = "Vi bruger Contoso 360 og Contoso Cloud."
    terms = [
        TrackedTerm(id=1, kind=TermKind.COMPETITOR, name="Contoso 360"),
        TrackedTerm(id=2, kind=TermKind.COMPETITOR, name="Contoso"),
    ]
    matches = TermMatcher.build(terms, Language.DA).find(text)
    assert [(m.term_id, m.start, m.end) for m in matches] == [(1, 2, 4), (2, 2, 3), (2, 5, 6)]


def test_case_and_accents_are_ignored():
    assert found("Vi har kontor i MALMO og malmö.", Language.SV, "Malmö") == ["MALMO", "malmö"]
    assert found("A CAFE and a café.", Language.EN, "Café") == ["CAFE", "café"]


def test_only_whole_words_match():
    assert found("STLX and pistle are not STL.", Language.EN, "STL") == ["STL"]
    assert found("Vipers are no VIP.", Language.EN, "VIP") == ["VIP"]


def test_variants_are_mentions_of_their_term_and_count_once_per_place():
    term = TrackedTerm(id=5, kind=TermKind.KEYWORD, name="discount", variants=["rabatt", "Rabatt"])
    assert term.variants == ["rabatt"]
    matches = TermMatcher.build([term], Language.NO).find("Gir dere rabatt? Rabatten er viktig.")
    assert [m.term_id for m in matches] == [5, 5]


def test_a_term_of_one_language_is_matched_only_in_that_languages_conversations():
    assert found("We want a discount.", Language.EN, "discount", term_language=Language.DA) == []
    assert found("Vi vil have en discount.", Language.DA, "discount", term_language=Language.DA) == ["discount"]


@pytest.mark.parametrize(
    "name,field",
    [("   ", "name"), ("...", "name"), ("one two three four five six seven", "name"), ("x" * 101, "name")],
)
def test_a_term_needs_one_to_six_words_of_at_most_100_characters(name, field):
    with pytest.raises(ValidationError) as raised:
        TrackedTerm(kind=TermKind.KEYWORD, name=name)
    assert raised.value.field == field
