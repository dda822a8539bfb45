"""Sentiment of what a speaker says: positive, neutral or negative, with a score from -1 to 1.

`SentimentScorer` is the interface a workflow is given; `LexiconScorer` is the one built in: it works
offline, from published word lists (AFINN for English and Danish, the Swedish translation of VADER's
list) with our small additions (domain/lexicons/), and handles negation ("not good", "ikke dårligt",
"inte bra", "no problem") and intensifiers ("very", "meget", "veldig", "mycket"). A model can take its
place behind the same interface. docs/decisions.md ("Sentiment") says why these lists and rules."""

from __future__ import annotations

import importlib.util
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from domain.enums import Language, SentimentLabel
from domain.text import WORD, inflection_stem, tokens

# A segment is positive or negative when its score is at least this far from zero: one mildly valenced
# word (±1 on AFINN's scale, e.g. "want", "please") leaves it neutral, one clear word (±2) does not.
SEGMENT_BAND = 0.3
# A call's score is the time-weighted mean of its customer segments' scores, mostly neutral ones: a
# narrower band tells its leaning.
CALL_BAND = 0.05
# VADER's normalisation of a sum of valences into (-1, 1), and its factor for a negated word.
ALPHA = 15.0
NEGATION = -0.74
BOOST = 1.3
MIN_STEM = 5  # the shortest stem that looks up the inflected forms a list lacks
WINDOW = 3  # a negator this many words before a sentiment word (or fewer) turns it
CLAUSE_MARK = re.compile(r"[.,;:!?]")
# The score an upstream label stands for when the recording system sent no score of its own.
LABEL_SCORE = {SentimentLabel.POSITIVE: 0.5, SentimentLabel.NEUTRAL: 0.0, SentimentLabel.NEGATIVE: -0.5}


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1 (most negative) … 1 (most positive)

    @classmethod
    def of(cls, score: float, band: float = SEGMENT_BAND) -> Sentiment:
        score = max(-1.0, min(1.0, score))
        label = (
            SentimentLabel.POSITIVE
            if score >= band
            else SentimentLabel.NEGATIVE
            if score <= -band
            else SentimentLabel.NEUTRAL
        )
        return cls(label, round(score, 4))


class SentimentScorer(Protocol):
    """Scores one utterance in its language."""

    def score(self, text: str, language: Language) -> Sentiment: ...


@dataclass(frozen=True)
class Lexicon:
    """One language's word list and rules: valences by word form, by phrase (2-3 words) and by stem (for
    inflected forms the list lacks), the negators, the intensifiers and the words that start a new clause."""

    words: Mapping[str, float]
    phrases: Mapping[tuple[str, ...], float]
    phrase_starts: frozenset[str]
    stems: Mapping[str, float]
    negators: frozenset[str]
    boosters: frozenset[str]
    contrast: frozenset[str]
    language: Language

    @classmethod
    def build(
        cls,
        language: Language,
        entries: Mapping[str, float],
        negators: str,
        boosters: str,
        contrast: str,
    ) -> Lexicon:
        words: dict[str, float] = {}
        phrases: dict[tuple[str, ...], float] = {}
        by_stem: dict[str, list[float]] = defaultdict(list)
        for entry, valence in entries.items():
            parts = tuple(w.casefold() for w in WORD.findall(entry))
            if not parts or valence == 0:
                continue
            if len(parts) == 1:
                words[parts[0]] = valence
                by_stem[inflection_stem(parts[0], language)].append(valence)
            elif len(parts) <= 3:
                phrases[parts] = valence
        # A stem stands for its forms only when it is long enough to mean one word (short stems meet
        # unrelated words: "mødes" → "mød", "willing" → "will") and its forms agree on the sign.
        stems = {
            key: sum(values) / len(values)
            for key, values in by_stem.items()
            if len(key) >= MIN_STEM and (all(v > 0 for v in values) or all(v < 0 for v in values))
        }
        return cls(
            words,
            phrases,
            frozenset(phrase[0] for phrase in phrases),
            stems,
            frozenset(negators.split()),
            frozenset(boosters.split()),
            frozenset(contrast.split()),
            language,
        )

    def is_negator(self, word: str) -> bool:
        return word in self.negators or (self.language is Language.EN and word.endswith(("n't", "n’t")))


class LexiconScorer:
    """The built-in scorer: a sum of word valences (negated and boosted by their neighbours within a
    clause), normalised to (-1, 1) as VADER does."""

    def __init__(self, lexicons: Mapping[Language, Lexicon]) -> None:
        self.lexicons = lexicons

    def score(self, text: str, language: Language) -> Sentiment:
        return Sentiment.of(self.valence(text, language))

    def valence(self, text: str, language: Language) -> float:
        lexicon = self.lexicons[language]
        found = tokens(text)
        words = [t.text.casefold() for t in found]
        total, clause, i = 0.0, 0, 0
        while i < len(words):
            if i > 0 and CLAUSE_MARK.search(text, found[i - 1].end, found[i].start):
                clause = i
            word = words[i]
            if word in lexicon.contrast:
                clause = i + 1
                i += 1
                continue
            if lexicon.is_negator(word):
                i += 1
                continue
            valence, length = self._lookup(lexicon, words, i)
            if valence:
                before = words[max(clause, i - WINDOW) : i]
                if any(lexicon.is_negator(w) for w in before):
                    valence *= NEGATION
                if before and before[-1] in lexicon.boosters:
                    valence *= BOOST
                total += valence
            i += length
        return total / math.sqrt(total * total + ALPHA) if total else 0.0

    @staticmethod
    def _lookup(lexicon: Lexicon, words: list[str], i: int) -> tuple[float, int]:
        word = words[i]
        if word in lexicon.phrase_starts:
            for length in (3, 2):
                phrase = tuple(words[i : i + length])
                if len(phrase) == length and phrase in lexicon.phrases:
                    return lexicon.phrases[phrase], length
        if word in lexicon.words:
            return lexicon.words[word], 1
        return lexicon.stems.get(inflection_stem(word, lexicon.language), 0.0), 1


def call_sentiment(scored: list[tuple[Sentiment, int]]) -> Sentiment | None:
    """A call's customer sentiment from its customer segments' sentiments and durations (ms): the
    time-weighted mean score; None when the customer said nothing."""
    weight = sum(duration for _, duration in scored)
    if not scored:
        return None
    if weight == 0:
        mean = sum(s.score for s, _ in scored) / len(scored)
    else:
        mean = sum(s.score * duration for s, duration in scored) / weight
    return Sentiment.of(mean, CALL_BAND)


# --- the built-in lexicons ---

NEGATORS = {
    Language.EN: "not no never none nobody nothing neither nor without cannot hardly",
    Language.DA: "ikke ingen intet aldrig hverken uden ej",
    Language.NO: "ikke ingen ingenting aldri verken uten ikkje",
    Language.SV: "inte ingen inget inga aldrig varken utan ej",
}
BOOSTERS = {
    Language.EN: "very really extremely absolutely totally super incredibly so",
    Language.DA: "meget rigtig virkelig super utroligt helt vildt",
    Language.NO: "veldig svært virkelig skikkelig utrolig helt kjempe",
    Language.SV: "mycket väldigt verkligen riktigt otroligt helt jätte",
}
CONTRAST = {
    Language.EN: "but however although",
    Language.DA: "men selvom dog",
    Language.NO: "men likevel",
    Language.SV: "men fast dock",
}
OURS = Path(__file__).parent / "lexicons"


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the sentiment lexicons need the package {package!r}; install the project's dependencies")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _read(path: Path) -> dict[str, float]:
    """`word<TAB>valence[<TAB>…]` lines (AFINN, our additions, and VADER's list, whose further columns are
    the raters' spread)."""
    entries: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            entries[parts[0].strip().casefold()] = float(parts[1])
    return entries


def published(language: Language) -> dict[str, float]:
    """The published list a language starts from: AFINN-en-165, AFINN-da-32 (also for Norwegian Bokmål,
    which writes most of the same words), the Swedish VADER list."""
    if language is Language.EN:
        return _read(_package_file("afinn", "data", "AFINN-en-165.txt"))
    if language in (Language.DA, Language.NO):
        return _read(_package_file("afinn", "data", "AFINN-da-32.txt"))
    return _read(_package_file("vaderSentiment", "vader_lexicon.txt"))


@cache
def lexicon(language: Language) -> Lexicon:
    entries = {**published(language), **_read(OURS / f"{language.value}.tsv")}
    return Lexicon.build(language, entries, NEGATORS[language], BOOSTERS[language], CONTRAST[language])


@cache
def builtin_scorer() -> LexiconScorer:
    """The offline scorer for the four languages (its lexicons are read once, on first use)."""
    return LexiconScorer({language: lexicon(language) for language in Language})
