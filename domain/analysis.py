"""What a conversation shows, computed from its transcript alone (pure functions): how much each side
talks, how often the speaker changes, the longest monologues, the customer's sentiment, the mentions of
tracked terms and the names of products, brands and organisations it mentions.

Names: no knowledge base of brands is reachable, so candidates are found in the text itself. A name is
a run of neighbouring capitalised words (only spaces or hyphens between them), where a word with a
digit may continue a run ("Northwind 3D", "Contoso 360") and a word with a capital inside is one by
itself ("MakerHouse"). A capitalised word that starts a sentence is taken only when the conversation
also writes it capitalised inside a sentence, or it continues into a run; the common short words of the
four languages, English months and weekdays, the speakers' own names and tracked terms are never names.
Whether a name is new (never mentioned in an earlier conversation of the company) is decided where the
company's conversations are known (persistence keeps the first conversation of each name)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from domain.enums import SentimentLabel, SentimentSource, Side, TermKind
from domain.sentiment import Sentiment, SentimentScorer, call_sentiment
from domain.terms import Match, TermMatcher, TrackedTerm
from domain.text import FUNCTION_WORDS, Token, fold, joined, tokens
from domain.transcripts import Segment, Transcript

SENTENCE_END = re.compile(r"[.!?]")
NOT_NAMES = frozenset(
    """i january february march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday mr mrs ms dr ok okay hi hello""".split()
) | frozenset(word for vocabulary in FUNCTION_WORDS.values() for word in vocabulary)
NAME_MAX = 200


@dataclass(frozen=True)
class Monologue:
    """The longest stretch one speaker of a side held the word: consecutive segments of that speaker."""

    speaker: int  # the speaker's position
    start_ms: int
    duration_ms: int


@dataclass(frozen=True)
class Mention:
    """How often a tracked term was said in one segment (by that segment's side)."""

    term_id: int
    segment: int
    side: Side
    count: int


@dataclass(frozen=True)
class NameSeen:
    """A candidate name of a product, brand or organisation: `key` is its case- and accent-free form."""

    key: str
    name: str
    customer_mentions: int
    seller_mentions: int
    first_segment: int


@dataclass(frozen=True)
class SegmentSentiment:
    sentiment: Sentiment
    source: SentimentSource


@dataclass(frozen=True)
class Analysis:
    terms_revision: int
    seller_talk_ms: int
    customer_talk_ms: int
    speaker_switches: int
    switches_per_hour: float
    seller_monologue: Monologue | None
    customer_monologue: Monologue | None
    sentiments: tuple[SegmentSentiment, ...]  # one per segment, in order
    customer_sentiment: Sentiment | None
    customer_segments: dict[SentimentLabel, int] = field(default_factory=dict)
    mentions: tuple[Mention, ...] = ()
    mention_totals: dict[TermKind, int] = field(default_factory=dict)  # all mentions of keywords, of competitors
    names: tuple[NameSeen, ...] = ()

    @property
    def talk_ratio(self) -> float | None:
        """The seller side's share of the talking, in percent (its listening is the rest)."""
        talk = self.seller_talk_ms + self.customer_talk_ms
        return round(100 * self.seller_talk_ms / talk, 1) if talk else None


def talk_time(segments: tuple[Segment, ...], side: Side) -> int:
    return sum(s.duration_ms for s in segments if s.side is side)


def speaker_switches(segments: tuple[Segment, ...]) -> int:
    """How often the speaker changes from one segment to the next."""
    return sum(1 for before, after in zip(segments, segments[1:]) if before.speaker != after.speaker)


def per_hour(count: int, duration_seconds: int) -> float:
    return round(count * 3600 / duration_seconds, 1) if duration_seconds > 0 else 0.0


def longest_monologue(segments: tuple[Segment, ...], side: Side) -> Monologue | None:
    """The longest run of consecutive segments of one speaker of the side, from its first start to its
    last end (the earliest of equally long ones)."""
    best: Monologue | None = None
    run: list[Segment] = []
    for segment in (*segments, None):
        if segment is not None and run and segment.speaker == run[0].speaker:
            run.append(segment)
            continue
        if run and run[0].side is side:
            duration = run[-1].end_ms - run[0].start_ms
            if best is None or duration > best.duration_ms:
                best = Monologue(run[0].speaker, run[0].start_ms, duration)
        run = [segment] if segment is not None else []
    return best


def sentiments(transcript: Transcript, scorer: SentimentScorer) -> tuple[SegmentSentiment, ...]:
    """Each segment's sentiment: the recording system's where it sent one, else the scorer's."""
    return tuple(
        SegmentSentiment(s.upstream, SentimentSource.UPSTREAM)
        if s.upstream is not None
        else SegmentSentiment(scorer.score(s.text, transcript.language), SentimentSource.SCORER)
        for s in transcript.segments
    )


def _capitalised(word: str) -> bool:
    """Whether the word has a capital letter anywhere ("Contoso", "3D", "iPhone")."""
    return word.lower() != word


def _inner_capital(word: str) -> bool:
    return any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)


def _sentence_starts(text: str, words: list[Token]) -> set[int]:
    return {i for i, word in enumerate(words) if i == 0 or SENTENCE_END.search(text, words[i - 1].end, word.start)}


def name_runs(text: str, words: list[Token], capitalised_inside: set[str], excluded: set[str]) -> list[tuple[int, int]]:
    """The candidate names of one segment, as token ranges (end exclusive); see the module's docstring.
    `capitalised_inside`: the words the conversation writes capitalised inside a sentence; `excluded`:
    folded words that are never (part of) a name, e.g. the speakers' names."""
    starts = _sentence_starts(text, words)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        word = words[i].text
        if not _capitalised(word) or word.casefold() in NOT_NAMES or fold(word) in excluded:
            i += 1
            continue
        end = i + 1
        while end < len(words) and joined(text, words[end - 1], words[end]):
            after = words[end].text
            if after.casefold() in NOT_NAMES or fold(after) in excluded:
                break
            if not (_capitalised(after) or any(c.isdigit() for c in after)):
                break
            end += 1
        single_start = i in starts and end == i + 1
        if single_start and not (_inner_capital(word) or word in capitalised_inside):
            i = end
            continue
        if not all(c.isdigit() for c in "".join(w.text for w in words[i:end])) and len(word) >= 2:
            runs.append((i, end))
        i = end
    return runs


def names(
    segments: tuple[Segment, ...], words: list[list[Token]], term_matches: list[list[Match]], excluded: set[str]
) -> list[NameSeen]:
    """The candidate names of the conversation, each with its mentions per side and its first segment;
    a run that covers a tracked term's mention is the term, not a name."""
    inside: set[str] = set()
    for segment, segment_words in zip(segments, words):
        starts = _sentence_starts(segment.text, segment_words)
        inside |= {w.text for i, w in enumerate(segment_words) if i not in starts and _capitalised(w.text)}
    seen: dict[str, list] = {}
    for segment, segment_words, matches in zip(segments, words, term_matches):
        covered = {k for m in matches for k in range(m.start, m.end)}
        for start, end in name_runs(segment.text, segment_words, inside, excluded):
            if covered & set(range(start, end)):
                continue
            surface = " ".join(segment.text[segment_words[start].start : segment_words[end - 1].end].split())
            key = " ".join(fold(w.text) for w in segment_words[start:end])
            if len(surface) > NAME_MAX or len(key) > NAME_MAX:
                continue
            entry = seen.setdefault(key, [surface, 0, 0, segment.position])
            entry[1 if segment.side is Side.CUSTOMER else 2] += 1
    return [NameSeen(key, name, customer, seller, first) for key, (name, customer, seller, first) in seen.items()]


def analyse(
    transcript: Transcript,
    duration_seconds: int,
    terms: list[TrackedTerm],
    terms_revision: int,
    scorer: SentimentScorer,
    scored: tuple[SegmentSentiment, ...] | None = None,
) -> Analysis:
    """Everything the analysis stores for one conversation. `scored`: the segments' sentiments when they
    are known already (a re-analysis after the terms changed: sentiment does not depend on them)."""
    segments = transcript.segments
    words = [tokens(s.text) for s in segments]
    matcher = TermMatcher.build(terms, transcript.language)
    term_matches = [matcher.find(s.text, w) for s, w in zip(segments, words)]
    found = [
        Mention(term_id, segment.position, segment.side, n)
        for segment, matches in zip(segments, term_matches)
        for term_id, n in sorted(Counter(m.term_id for m in matches).items())
    ]
    scored = scored if scored is not None else sentiments(transcript, scorer)
    customer = [(s.sentiment, seg.duration_ms) for seg, s in zip(segments, scored) if seg.side is Side.CUSTOMER]
    labels = Counter(s.label for s, _ in customer)
    kinds = {term.id: term.kind for term in terms}
    totals = Counter()
    for mention in found:
        totals[kinds[mention.term_id]] += mention.count
    excluded = {fold(w.text) for speaker in transcript.speakers for w in tokens(speaker.name)}
    switches = speaker_switches(segments)
    return Analysis(
        terms_revision=terms_revision,
        seller_talk_ms=talk_time(segments, Side.SELLER),
        customer_talk_ms=talk_time(segments, Side.CUSTOMER),
        speaker_switches=switches,
        switches_per_hour=per_hour(switches, duration_seconds),
        seller_monologue=longest_monologue(segments, Side.SELLER),
        customer_monologue=longest_monologue(segments, Side.CUSTOMER),
        sentiments=scored,
        customer_sentiment=call_sentiment(customer),
        customer_segments={label: labels.get(label, 0) for label in SentimentLabel},
        mentions=tuple(found),
        mention_totals={kind: totals.get(kind, 0) for kind in TermKind},
        names=tuple(names(segments, words, term_matches, excluded)),
    )
