"""The analysis of a conversation, figure by figure, on a small fixed transcript whose values are worked out
by hand here; the checks a transcript passes before it is taken; the language check; sentiment with
negation; and which names count as names."""

from __future__ import annotations

import math

import pytest

from domain.analysis import analyse
from domain.enums import Language, SentimentLabel, SentimentSource, Side, TermKind
from domain.sentiment import ALPHA, NEGATION, builtin_scorer, lexicon
from domain.terms import TrackedTerm
from domain.text import detect
from domain.transcripts import NewSegment, Speaker, TranscriptProblem, TranscriptRejected, checked

KARI, OLE, PER = "Kari Nordmann", "Ole Hansen", "Per Berg"
SPEAKERS = [
    Speaker(KARI, Side.SELLER, user_id=1),
    Speaker(OLE, Side.CUSTOMER, contact_id=7),
    Speaker(PER, Side.SELLER, user_id=2),
]
# (speaker, start s, end s, text, upstream sentiment)
LINES = [
    (KARI, 0, 20, "Hej Ole. Hvordan går det med jeres 3D-printere?", None),
    (KARI, 21, 30, "Vi har en ny printer til produktionen.", None),
    (OLE, 30, 50, "Vi bruger Contoso 360 i dag, og Contoso er dyr.", (SentimentLabel.NEGATIVE, -0.6)),
    (PER, 51, 56, "Vores 3D printer kører STL.", None),
    (OLE, 56, 86, "Vi har også set på MakerHouse og Da Vinci 3D.", (SentimentLabel.POSITIVE, 0.8)),
    (OLE, 87, 97, "3D-printerne fra MakerHouse er fine.", (SentimentLabel.NEUTRAL, None)),
    (KARI, 100, 120, "Tak, jeg sender et tilbud.", None),
]
TERMS = [
    TrackedTerm(id=1, kind=TermKind.KEYWORD, name="3D printer"),
    TrackedTerm(id=2, kind=TermKind.COMPETITOR, name="Contoso 360", variants=["Contoso"]),
]


def segments(lines=LINES) -> list[NewSegment]:
    return [
        NewSegment(
            speaker,
            start * 1000,
            end * 1000,
            text,
            sentiment_label=upstream[0] if upstream else None,
            sentiment_score=upstream[1] if upstream else None,
        )
        for speaker, start, end, text, upstream in lines
    ]


@pytest.fixture(scope="module")
def analysed():
    transcript, duration = checked(SPEAKERS, segments(), None, None, 150)
    return transcript, analyse(transcript, duration, TERMS, 7, builtin_scorer())


def test_the_transcript_reads_as_danish_and_keeps_its_given_duration(analysed):
    transcript, _ = analysed
    assert transcript.language is Language.DA
    assert [s.speaker for s in transcript.segments] == [0, 0, 1, 2, 1, 1, 0]
    assert [s.side for s in transcript.segments][:3] == [Side.SELLER, Side.SELLER, Side.CUSTOMER]


def test_talk_time_and_the_sellers_talk_to_listen_ratio(analysed):
    _, analysis = analysed
    # Seller: 20 + 9 + 5 + 20 s; customer: 20 + 30 + 10 s. 54 / 114 = 47.37 %.
    assert analysis.seller_talk_ms == 54_000
    assert analysis.customer_talk_ms == 60_000
    assert analysis.talk_ratio == 47.4


def test_speaker_switches_and_their_rate_per_hour(analysed):
    _, analysis = analysed
    # Kari, Kari | Ole | Per | Ole, Ole | Kari: 4 changes in 150 s = 96 an hour.
    assert analysis.speaker_switches == 4
    assert analysis.switches_per_hour == 96.0


def test_the_longest_monologue_of_each_side(analysed):
    _, analysis = analysed
    # Kari 0-30 s (two segments) beats her 20 s and Per's 5 s; Ole 56-97 s beats his 20 s.
    assert (analysis.seller_monologue.speaker, analysis.seller_monologue.start_ms) == (0, 0)
    assert analysis.seller_monologue.duration_ms == 30_000
    assert (analysis.customer_monologue.speaker, analysis.customer_monologue.start_ms) == (1, 56_000)
    assert analysis.customer_monologue.duration_ms == 41_000


def test_customer_sentiment_per_segment_prefers_the_upstream_one_and_weights_the_call_by_time(analysed):
    _, analysis = analysed
    customer = [analysis.sentiments[n] for n in (2, 4, 5)]
    assert [(s.sentiment.label, s.sentiment.score, s.source) for s in customer] == [
        (SentimentLabel.NEGATIVE, -0.6, SentimentSource.UPSTREAM),
        (SentimentLabel.POSITIVE, 0.8, SentimentSource.UPSTREAM),
        (SentimentLabel.NEUTRAL, 0.0, SentimentSource.UPSTREAM),  # a label alone stands for 0
    ]
    # (-0.6 * 20 + 0.8 * 30 + 0 * 10) / 60 = 0.2
    assert analysis.customer_sentiment.label is SentimentLabel.POSITIVE
    assert analysis.customer_sentiment.score == pytest.approx(0.2)
    assert analysis.customer_segments == {
        SentimentLabel.POSITIVE: 1,
        SentimentLabel.NEUTRAL: 1,
        SentimentLabel.NEGATIVE: 1,
    }


def test_segments_without_an_upstream_sentiment_are_scored_by_the_lexicon(analysed):
    _, analysis = analysed
    assert {analysis.sentiments[n].source for n in (0, 1, 3, 6)} == {SentimentSource.SCORER}


def test_mentions_of_each_term_by_side_and_segment(analysed):
    _, analysis = analysed
    found = [(m.term_id, m.segment, m.side, m.count) for m in analysis.mentions]
    assert found == [
        (1, 0, Side.SELLER, 1),  # 3D-printere
        (2, 2, Side.CUSTOMER, 2),  # Contoso 360, then Contoso
        (1, 3, Side.SELLER, 1),  # 3D printer
        (1, 5, Side.CUSTOMER, 1),  # 3D-printerne
    ]
    assert analysis.mention_totals == {TermKind.KEYWORD: 3, TermKind.COMPETITOR: 2}


def test_names_are_capitalised_runs_that_are_no_speaker_no_common_word_and_no_tracked_term(analysed):
    _, analysis = analysed
    found = {(n.name, n.customer_mentions, n.seller_mentions, n.first_segment) for n in analysis.names}
    assert found == {("MakerHouse", 2, 0, 4), ("Da Vinci 3D", 1, 0, 4), ("STL", 0, 1, 3)}


def test_a_term_changes_the_names_it_covers():
    transcript, duration = checked(SPEAKERS, segments(), None, None, 150)
    tracked = [*TERMS, TrackedTerm(id=3, kind=TermKind.COMPETITOR, name="MakerHouse")]
    analysis = analyse(transcript, duration, tracked, 8, builtin_scorer())
    assert {n.name for n in analysis.names} == {"Da Vinci 3D", "STL"}
    assert [(m.term_id, m.segment, m.count) for m in analysis.mentions if m.term_id == 3] == [(3, 4, 1), (3, 5, 1)]


# --- what a transcript must be ---


def refused(lines=LINES, speakers=SPEAKERS, **options) -> TranscriptRejected:
    with pytest.raises(TranscriptRejected) as raised:
        checked(
            speakers,
            options.pop("given", segments(lines)),
            options.pop("webvtt", None),
            options.pop("language", None),
            options.pop("duration", None),
        )
    return raised.value


def test_a_negative_time_is_refused():
    error = refused([*LINES[:2], (OLE, -3, 5, "Hej.", None)])
    assert (error.problem, error.field) == (TranscriptProblem.NEGATIVE_TIME, "segments[2].start")


def test_a_segment_ending_before_it_starts_is_refused():
    error = refused([(KARI, 10, 9, "Hej.", None)])
    assert (error.problem, error.field) == (TranscriptProblem.END_BEFORE_START, "segments[0].end")


def test_overlapping_segments_are_refused_naming_both():
    error = refused([*LINES[:2], (OLE, 25, 35, "Ja, det gør vi.", None)])
    assert (error.problem, error.field) == (TranscriptProblem.OVERLAPPING_SEGMENTS, "segments[2].start")
    assert "segments[2] (25 s–35 s) overlaps segments[1] (21 s–30 s)" in error.reason


def test_a_speaker_missing_from_the_speakers_is_refused_by_name():
    error = refused([(KARI, 0, 5, "Hej.", None), ("Mette Holm", 5, 9, "Hej Kari.", None)])
    assert (error.problem, error.field) == (TranscriptProblem.UNKNOWN_SPEAKER, "segments[1].speaker")
    assert "'Mette Holm'" in error.reason


def test_a_speaker_named_twice_and_a_customer_who_is_a_user_are_refused():
    twice = refused(speakers=[*SPEAKERS, Speaker("ole hansen", Side.SELLER)])
    assert (twice.problem, twice.field) == (TranscriptProblem.DUPLICATE_SPEAKER, "speakers[3].name")
    user = refused(speakers=[Speaker(KARI, Side.SELLER), Speaker(OLE, Side.CUSTOMER, user_id=3)])
    assert (user.problem, user.field) == (TranscriptProblem.BAD_SPEAKER, "speakers[1].userId")


def test_a_duration_shorter_than_the_transcript_is_refused():
    error = refused(duration=100)
    assert (error.problem, error.field) == (TranscriptProblem.SHORTER_THAN_TRANSCRIPT, "durationSeconds")


def test_a_transcript_in_another_language_is_refused():
    german = [(KARI, 0, 10, "Guten Tag, wie geht es Ihnen mit den Druckern?", None)]
    german.append((OLE, 10, 20, "Nicht so gut, wir haben Probleme mit der Lieferung und dem Preis.", None))
    error = refused(german)
    assert (error.problem, error.field) == (TranscriptProblem.UNREADABLE_LANGUAGE, "segments")
    declared = refused(language=Language.EN)
    assert (declared.problem, declared.field) == (TranscriptProblem.UNREADABLE_LANGUAGE, "language")
    assert "does not read as English (it reads as Danish)" in declared.reason


VTT = """WEBVTT

00:00:00.000 --> 00:00:04.000
<v Kari Nordmann>Hej Ole, hvordan går det med produktionen?

00:00:04.500 --> 00:00:09.000
<v.loud Ole Hansen>Det går godt,
men vi mangler en printer.</v>
"""


def test_webvtt_voice_tags_name_the_speakers_and_lines_join():
    transcript, duration = checked(SPEAKERS, None, VTT, None, None)
    assert [(s.speaker, s.start_ms, s.end_ms, s.text) for s in transcript.segments] == [
        (0, 0, 4000, "Hej Ole, hvordan går det med produktionen?"),
        (1, 4500, 9000, "Det går godt, men vi mangler en printer."),
    ]
    assert duration == 9


def test_webvtt_without_a_voice_malformed_or_with_two_voices_is_refused():
    no_voice = refused(given=None, webvtt=VTT.replace("<v Kari Nordmann>", ""))
    assert (no_voice.problem, no_voice.field) == (TranscriptProblem.MISSING_VOICE, "webvtt")
    assert "cue 1 (at 00:00:00.000)" in no_voice.reason
    malformed = refused(given=None, webvtt=VTT.replace("WEBVTT", "WEBVT"))
    assert malformed.problem is TranscriptProblem.MALFORMED_WEBVTT
    two = refused(given=None, webvtt=VTT.replace("men vi", "<v Kari Nordmann>men vi"))
    assert two.problem is TranscriptProblem.MISSING_VOICE and "several voices" in two.reason


def test_a_transcript_is_sent_once_as_segments_or_as_webvtt():
    assert refused(webvtt=VTT).problem is TranscriptProblem.TWO_TRANSCRIPTS
    assert refused(given=None).problem is TranscriptProblem.NO_TRANSCRIPT


# --- languages and sentiment ---


@pytest.mark.parametrize(
    "text,language",
    [
        ("Hej, det lyder godt. Vi har brug for noget, der virker med vores printere.", Language.DA),
        ("Hei, det høres bra ut. Vi trenger noe som fungerer med printerne våre.", Language.NO),
        ("Hej, det låter bra. Vi behöver något som fungerar med våra skrivare.", Language.SV),
        ("Hi, that sounds good. We need something that works with our printers.", Language.EN),
        ("Hallo, das klingt gut. Wir brauchen etwas, das mit unseren Druckern funktioniert.", None),
        ("Hei, kuulostaa hyvältä. Tarvitsemme jotain, joka toimii tulostimiemme kanssa.", None),
    ],
)
def test_the_language_of_a_text(text, language):
    assert detect(text).language is language


def valence_of(word: str, language: Language) -> float:
    return lexicon(language).words[word]


@pytest.mark.parametrize(
    "text,language,word",
    [
        ("Det er ikke godt.", Language.DA, "godt"),
        ("Det er ikke dårligt.", Language.DA, "dårligt"),
        ("Det er ikke bra.", Language.NO, "bra"),
        ("Det är inte bra.", Language.SV, "bra"),
        ("That is not good.", Language.EN, "good"),
        ("We don't like it.", Language.EN, "like"),
    ],
)
def test_a_negator_before_a_word_turns_its_valence(text, language, word):
    negated = NEGATION * valence_of(word, language)
    expected = negated / math.sqrt(negated**2 + ALPHA)
    score = builtin_scorer().score(text, language)
    assert score.score == pytest.approx(expected, abs=1e-4)
    assert score.label is (SentimentLabel.POSITIVE if expected > 0 else SentimentLabel.NEGATIVE)


def test_negation_ends_with_its_clause():
    # "ikke" is in the first clause; "godt" in the second stays positive.
    assert builtin_scorer().score("Det var ikke nemt, men det er godt.", Language.DA).label is SentimentLabel.POSITIVE


@pytest.mark.parametrize(
    "text,language",
    [
        ("Vi mødes på torsdag klokken ti.", Language.DA),
        ("Vi ses på mandag.", Language.NO),
        ("Vi hörs på fredag.", Language.SV),
        ("We will send the contract on Monday.", Language.EN),
    ],
)
def test_plain_scheduling_talk_is_neutral(text, language):
    assert builtin_scorer().score(text, language).label is SentimentLabel.NEUTRAL


def test_expensive_is_negative_in_every_language_although_two_published_lists_say_otherwise():
    for text, language in (
        ("Det er for dyrt.", Language.DA),
        ("Det er for dyrt.", Language.NO),
        ("Det är för dyrt.", Language.SV),
        ("It is too expensive.", Language.EN),
    ):
        assert builtin_scorer().score(text, language).label is SentimentLabel.NEGATIVE, language
