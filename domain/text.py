"""Words of a transcript as the analysis sees them: tokens with their place in the text, a form that
ignores case and accents, Snowball stems for Danish, Norwegian, Swedish and English, and which of
those languages a text is written in."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

from domain.enums import Language

# A word: letters and digits, with inner apostrophes ("don't", "Kari's") kept in the word.
WORD = re.compile(r"\w+(?:['’]\w+)*")
# What may stand between two words of one phrase: spaces and hyphens ("3D printer", "3D-printeren").
JOINER = re.compile(r"[\s\-‐‑–]*")
# Letters that Unicode does not decompose into a base letter and an accent, folded by hand.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "œ": "oe", "ð": "d", "þ": "th", "ł": "l", "’": "'"})
_SNOWBALL = {Language.DA: "danish", Language.NO: "norwegian", Language.SV: "swedish", Language.EN: "english"}


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text and where it stands (`text[start:end]`)."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[Token, ...]:
    return tuple(Token(m.group(), m.start(), m.end()) for m in WORD.finditer(text))


def tokens(text: str) -> list[Token]:
    """The words of a text (the analysis and the scorer read each segment's words: they are kept for a while)."""
    return list(_tokens(text))


def joined(text: str, before: Token, after: Token) -> bool:
    """Whether two neighbouring words belong to one phrase: only spaces or hyphens between them (a comma
    or a full stop ends the phrase)."""
    return JOINER.fullmatch(text, before.end, after.start) is not None


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """The word without case or accents: "Café" and "cafe", "Göteborg" and "goteborg", "Ærø" and "aero"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _stemmer(language: Language) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(_SNOWBALL[language])


@lru_cache(maxsize=200_000)
def stem(word: str, language: Language) -> str:
    """The word's Snowball stem in the language, folded (case and accents ignored). Snowball strips one
    suffix; it runs a second time on its own stem so that loanwords ending in -er meet their inflections
    (Norwegian "printer" → print, "printeren" → printer → print)."""
    stemmer = _stemmer(language)
    once = stemmer.stemWord(word.casefold())
    return fold(stemmer.stemWord(once))


@lru_cache(maxsize=200_000)
def inflection_stem(word: str, language: Language) -> str:
    """Snowball's stem of the word, once and with its accents (for looking up inflected forms in a word
    list, where "hörs" must not meet "hor")."""
    return _stemmer(language).stemWord(word.casefold())


# --- which language a text is in ---

# The commonest short words of each language's speech (pronouns, articles, prepositions, conjunctions,
# auxiliaries, answers). Danish and Norwegian share many: the words that tell them apart (hvad/hva,
# noget/noe, meget/mye, af/av, nu/nå, måske/kanskje …) decide between them.
FUNCTION_WORDS: dict[Language, frozenset[str]] = {
    Language.DA: frozenset(
        """og i at det er en et til på jeg vi du de den som med for har ikke kan så men om vil skal
        af hvad noget meget nu måske også efter ud sådan jer mig dig sig lige gerne tak hej godt bare
        hvordan hvorfor hvis eller når der her fra var være blive bliver nogle ingen kun jo vel altså
        vores jeres deres hans hendes min din sin mit dit ja nej okay selvfølgelig synes tror""".split()
    ),
    Language.NO: frozenset(
        """og i at det er en et ei til på jeg vi du de den som med for har ikke kan så men om vil skal
        av hva noe mye nå kanskje også etter ut sånn dere meg deg seg bare gjerne takk hei godt
        hvordan hvorfor hvis eller når der her fra var være blir noen ingen kun jo vel altså veldig
        vår våre deres hans hennes min din sin mitt ditt ja nei okei selvfølgelig synes tror ikkje""".split()
    ),
    Language.SV: frozenset(
        """och i att det är en ett till på jag vi du de den som med för har inte kan så men om vill ska
        av vad något mycket nu kanske också efter ut sådan ni mig dig sig bara gärna tack hej bra
        hur varför om eller när där här från var vara blir några ingen bara ju väl alltså väldigt
        vår våra er era hans hennes min din sin mitt ditt ja nej okej självklart tycker tror inga""".split()
    ),
    Language.EN: frozenset(
        """the and to of a in that it is we you i not for on with this be are have was but so what can
        do our your they if about just yes no thanks would will there how which when where from my me
        he she them their an or at by as all been has had were don't it's that's i'm we're you're
        really think know okay right well also very""".split()
    ),
}
# A transcript reads as a language when at least this share of its words are that language's function
# words (speech in any of the four languages has 35-55 %; other languages share a few by chance).
READABLE_SHARE = 0.2
MIN_WORDS = 3


@dataclass(frozen=True)
class Detected:
    """What the language check found: the language the text reads as (None: none of ours), and for each
    language the share of the words that are its function words."""

    language: Language | None
    shares: dict[Language, float]
    words: int


def detect(text: str) -> Detected:
    """The language the text is written in, of the four; None when it reads as none of them (another
    language, or too few words to tell)."""
    words = [t.text.casefold() for t in tokens(text)]
    counts = Counter(words)
    total = len(words)
    hits = {
        language: sum(n for word, n in counts.items() if word in vocabulary)
        for language, vocabulary in FUNCTION_WORDS.items()
    }
    shares = {language: (hits[language] / total if total else 0.0) for language in FUNCTION_WORDS}
    best = max(FUNCTION_WORDS, key=lambda language: (hits[language], -list(Language).index(language)))
    if total < MIN_WORDS or hits[best] < MIN_WORDS or shares[best] < READABLE_SHARE:
        return Detected(None, shares, total)
    return Detected(best, shares, total)


def reads_as(detected: Detected, language: Language) -> bool:
    """Whether a text whose languages were `detected` can be read as `language` (a declared language)."""
    return detected.words >= MIN_WORDS and detected.shares[language] >= READABLE_SHARE
