"""Tracked terms: the keywords and competitors whose mentions the analysis counts, and how a transcript's
words are matched against them: case- and accent-insensitive, on word boundaries, through Snowball stems
of the conversation's language (so "3D-printeren" and "3D printers" are mentions of "3D printer"), a
phrase only where its words follow one another with nothing but spaces or hyphens between."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from domain.base import Entity, required
from domain.enums import Language, TermKind
from domain.errors import ValidationError
from domain.text import Token, joined, stem, tokens

NAME_MAX = 100
MAX_VARIANTS = 20
MAX_WORDS = 6


@dataclass(kw_only=True)
class TrackedTerm(Entity):
    """A keyword or a competitor, with the other ways people say it (variants) and, when it belongs to one
    language, that language (matched only in that language's conversations; otherwise in all)."""

    kind: TermKind
    name: str
    variants: list[str] = field(default_factory=list)
    language: Language | None = None

    def __post_init__(self) -> None:
        self.kind = TermKind(self.kind)
        self.language = Language(self.language) if self.language is not None else None
        self.name = _phrase(self.name, "name")
        variants: list[str] = []
        seen = {self.name.casefold()}
        for n, variant in enumerate(self.variants or []):
            cleaned = _phrase(variant, f"variants[{n}]")
            if cleaned.casefold() not in seen:
                seen.add(cleaned.casefold())
                variants.append(cleaned)
        if len(variants) > MAX_VARIANTS:
            raise ValidationError("variants", f"at most {MAX_VARIANTS} variants")
        self.variants = variants

    @property
    def phrases(self) -> list[str]:
        return [self.name, *self.variants]

    def applies_to(self, language: Language) -> bool:
        return self.language is None or self.language is language


def _phrase(value: str, field_name: str) -> str:
    text = " ".join(required(value, field_name).split())
    if len(text) > NAME_MAX:
        raise ValidationError(field_name, f"is longer than {NAME_MAX} characters")
    words = tokens(text)
    if not words:
        raise ValidationError(field_name, f"{text!r} has no word to match")
    if len(words) > MAX_WORDS:
        raise ValidationError(field_name, f"a term has at most {MAX_WORDS} words")
    return text


@dataclass(frozen=True)
class Match:
    """A mention of a term in a text: the term and the words it covers (token positions, end exclusive)."""

    term_id: int
    start: int
    end: int


@dataclass
class TermMatcher:
    """The terms that apply to one language, indexed by the stem of their first word."""

    language: Language
    by_first: dict[str, list[tuple[tuple[str, ...], int]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, terms: list[TrackedTerm], language: Language) -> TermMatcher:
        matcher = cls(language)
        for term in terms:
            if term.id is None or not term.applies_to(language):
                continue
            for phrase in term.phrases:
                stems = tuple(stem(t.text, language) for t in tokens(phrase))
                entry = (stems, term.id)
                if entry not in matcher.by_first[stems[0]]:
                    matcher.by_first[stems[0]].append(entry)
        for candidates in matcher.by_first.values():
            candidates.sort(key=lambda entry: -len(entry[0]))  # the longest phrase first
        return matcher

    def find(self, text: str, words: list[Token] | None = None) -> list[Match]:
        """Every mention in the text, left to right. Where phrases overlap, the longest one starting at a
        word wins and matching goes on after it; a term counts once per place however many of its
        variants match there."""
        words = tokens(text) if words is None else words
        stems = [stem(t.text, self.language) for t in words]
        found: list[Match] = []
        i = 0
        while i < len(words):
            best: Match | None = None
            for phrase, term_id in self.by_first.get(stems[i], ()):
                end = i + len(phrase)
                if end > len(words) or tuple(stems[i:end]) != phrase:
                    continue
                if all(joined(text, words[k], words[k + 1]) for k in range(i, end - 1)):
                    best = Match(term_id, i, end)
                    break
            if best is None:
                i += 1
                continue
            found.append(best)
            # Other terms matching at the same place (a keyword "Contoso" inside the competitor "Contoso 360").
            for phrase, term_id in self.by_first.get(stems[i], ()):
                end = i + len(phrase)
                if term_id == best.term_id or end > len(words) or tuple(stems[i:end]) != phrase:
                    continue
                if all(joined(text, words[k], words[k + 1]) for k in range(i, end - 1)):
                    if not any(m.term_id == term_id and m.start == i for m in found):
                        found.append(Match(term_id, i, end))
            i = best.end
        return found
