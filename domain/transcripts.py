"""A conversation's transcript as a recording system sends it: the speakers (who each speaks for, the
seller's side or the customer's, and which user or contact that is) and the segments (who said what,
from when to when), given as segments or as WebVTT with `<v Speaker>` voice tags, the format Teams and
most meeting tools export (read with webvtt-py).

Everything is checked before anything is stored; a transcript that cannot be taken is refused with a
`TranscriptRejected` naming the problem (`problem`, a code programs can act on) and the place."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from domain.enums import Language, SentimentLabel, Side
from domain.errors import ValidationError
from domain.sentiment import LABEL_SCORE, Sentiment
from domain.text import Detected, detect, reads_as

MAX_SPEAKERS = 100
MAX_SEGMENTS = 20_000
MAX_SEGMENT_TEXT = 20_000
MAX_TEXT = 2_000_000  # characters of the whole transcript: 30 hours of speech
MAX_WEBVTT = 4_000_000
NAME_MAX = 200
VOICE = re.compile(r"<v(?:\.[^\s>]+)*\s+([^>]+)>")
LANGUAGE_NAMES = {Language.DA: "Danish", Language.NO: "Norwegian", Language.SV: "Swedish", Language.EN: "English"}


class TranscriptProblem(str, Enum):
    """What is wrong with a transcript that was refused."""

    NO_TRANSCRIPT = "NO_TRANSCRIPT"
    TWO_TRANSCRIPTS = "TWO_TRANSCRIPTS"
    MALFORMED_WEBVTT = "MALFORMED_WEBVTT"
    MISSING_VOICE = "MISSING_VOICE"
    NEGATIVE_TIME = "NEGATIVE_TIME"
    END_BEFORE_START = "END_BEFORE_START"
    OVERLAPPING_SEGMENTS = "OVERLAPPING_SEGMENTS"
    EMPTY_SEGMENT = "EMPTY_SEGMENT"
    UNKNOWN_SPEAKER = "UNKNOWN_SPEAKER"
    DUPLICATE_SPEAKER = "DUPLICATE_SPEAKER"
    BAD_SPEAKER = "BAD_SPEAKER"
    BAD_SENTIMENT = "BAD_SENTIMENT"
    TOO_LARGE = "TRANSCRIPT_TOO_LARGE"
    SHORTER_THAN_TRANSCRIPT = "DURATION_SHORTER_THAN_TRANSCRIPT"
    UNREADABLE_LANGUAGE = "UNREADABLE_LANGUAGE"


class TranscriptRejected(ValidationError):
    """A transcript that cannot be taken: `field` is where (e.g. `segments[4].start`), `problem` what."""

    def __init__(self, problem: TranscriptProblem, field: str, message: str) -> None:
        super().__init__(field, message)
        self.problem = problem


@dataclass(frozen=True)
class Speaker:
    """A voice of the transcript, as named there, and who it is."""

    name: str
    side: Side
    user_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class NewSegment:
    """A segment as sent: times in milliseconds from the start of the recording; `sentiment` when the
    recording system scored it (then preferred to ours)."""

    speaker: str
    start_ms: int
    end_ms: int
    text: str
    sentiment_label: SentimentLabel | None = None
    sentiment_score: float | None = None

    def upstream(self) -> Sentiment | None:
        if self.sentiment_label is None:
            return None
        score = self.sentiment_score if self.sentiment_score is not None else LABEL_SCORE[self.sentiment_label]
        return Sentiment(self.sentiment_label, round(score, 4))


@dataclass(frozen=True)
class Segment:
    """A checked segment, in time order: `position` counts from 0, `speaker` is the speaker's position."""

    position: int
    speaker: int
    side: Side
    start_ms: int
    end_ms: int
    text: str
    upstream: Sentiment | None = None

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Transcript:
    speakers: tuple[Speaker, ...]
    segments: tuple[Segment, ...]
    language: Language

    @property
    def end_ms(self) -> int:
        return max((s.end_ms for s in self.segments), default=0)


def seconds(ms: int) -> str:
    return f"{ms / 1000:g} s"


def from_webvtt(text: str) -> list[NewSegment]:
    """The cues of a WebVTT file as segments: each cue's `<v Speaker>` names its speaker (every cue needs
    one, and only one voice), its lines are joined by spaces and its tags left out."""
    if len(text) > MAX_WEBVTT:
        raise TranscriptRejected(TranscriptProblem.TOO_LARGE, "webvtt", f"is longer than {MAX_WEBVTT} characters")
    try:
        captions = webvtt.WebVTT.from_string(text, strict=True).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise TranscriptRejected(
            TranscriptProblem.MALFORMED_WEBVTT, "webvtt", f"is not WebVTT that can be read: {error}"
        ) from None
    segments = []
    for number, caption in enumerate(captions, start=1):
        where = f"cue {number} (at {caption.start})"
        voices = {v.strip() for v in VOICE.findall(caption.raw_text)}
        if not voices:
            raise TranscriptRejected(
                TranscriptProblem.MISSING_VOICE, "webvtt", f"{where} has no <v Speaker> tag naming who speaks"
            )
        if len(voices) > 1:
            raise TranscriptRejected(
                TranscriptProblem.MISSING_VOICE,
                "webvtt",
                f"{where} has several voices ({', '.join(sorted(voices))}); give each speaker a cue of its own",
            )
        segments.append(
            NewSegment(
                speaker=voices.pop(),
                start_ms=caption.start_time.in_milliseconds(),
                end_ms=caption.end_time.in_milliseconds(),
                text=" ".join(caption.text.split()),
            )
        )
    return segments


def checked(
    speakers: list[Speaker],
    segments: list[NewSegment] | None,
    vtt: str | None,
    language: Language | None,
    duration_seconds: int | None,
) -> tuple[Transcript, int]:
    """The transcript and the conversation's duration in seconds (the given one, or to the end of the last
    segment), or TranscriptRejected for the first problem found."""
    if (segments is None) == (vtt is None):
        problem = TranscriptProblem.NO_TRANSCRIPT if vtt is None else TranscriptProblem.TWO_TRANSCRIPTS
        raise TranscriptRejected(problem, "segments", "send the transcript either as segments or as webvtt, once")
    field = "webvtt" if vtt is not None else "segments"
    raw = from_webvtt(vtt) if vtt is not None else list(segments or [])
    if not raw:
        raise TranscriptRejected(TranscriptProblem.NO_TRANSCRIPT, field, "the transcript has no segments")
    if len(raw) > MAX_SEGMENTS:
        raise TranscriptRejected(TranscriptProblem.TOO_LARGE, field, f"at most {MAX_SEGMENTS} segments")
    speakers = [replace(s, name=" ".join(s.name.split())) for s in speakers]
    voices = _speakers(speakers)
    where = (lambda n: f"cue {n + 1}") if vtt is not None else (lambda n: f"segments[{n}]")
    place = (lambda n, part: "webvtt") if vtt is not None else (lambda n, part: f"segments[{n}].{part}")
    total = 0
    for n, segment in enumerate(raw):
        if " ".join(segment.speaker.split()).casefold() not in voices:
            known = ", ".join(s.name for s in speakers) or "none"
            raise TranscriptRejected(
                TranscriptProblem.UNKNOWN_SPEAKER,
                place(n, "speaker"),
                f"{where(n)}: the speaker {segment.speaker.strip()!r} is not among the speakers ({known}); "
                "name each voice of the transcript in `speakers` with its side",
            )
        if segment.start_ms < 0 or segment.end_ms < 0:
            raise TranscriptRejected(
                TranscriptProblem.NEGATIVE_TIME, place(n, "start"), f"{where(n)}: a time is negative"
            )
        if segment.end_ms <= segment.start_ms:
            raise TranscriptRejected(
                TranscriptProblem.END_BEFORE_START,
                place(n, "end"),
                f"{where(n)}: ends ({seconds(segment.end_ms)}) before it starts ({seconds(segment.start_ms)})",
            )
        if not segment.text.strip():
            raise TranscriptRejected(TranscriptProblem.EMPTY_SEGMENT, place(n, "text"), f"{where(n)}: has no text")
        if len(segment.text) > MAX_SEGMENT_TEXT:
            raise TranscriptRejected(
                TranscriptProblem.TOO_LARGE, place(n, "text"), f"{where(n)}: longer than {MAX_SEGMENT_TEXT} characters"
            )
        if segment.sentiment_score is not None and (
            segment.sentiment_label is None or not -1 <= segment.sentiment_score <= 1
        ):
            raise TranscriptRejected(
                TranscriptProblem.BAD_SENTIMENT,
                place(n, "sentiment"),
                f"{where(n)}: a sentiment is a label (POSITIVE, NEUTRAL, NEGATIVE) with an optional score from -1 to 1",
            )
        total += len(segment.text)
    if total > MAX_TEXT:
        raise TranscriptRejected(TranscriptProblem.TOO_LARGE, field, f"more than {MAX_TEXT} characters of text")
    order = sorted(range(len(raw)), key=lambda n: (raw[n].start_ms, raw[n].end_ms, n))
    for before, after in zip(order, order[1:]):
        if raw[after].start_ms < raw[before].end_ms:
            raise TranscriptRejected(
                TranscriptProblem.OVERLAPPING_SEGMENTS,
                place(after, "start"),
                f"{where(after)} ({seconds(raw[after].start_ms)}–{seconds(raw[after].end_ms)}) overlaps "
                f"{where(before)} ({seconds(raw[before].start_ms)}–{seconds(raw[before].end_ms)}); "
                "segments of a transcript follow one another",
            )
    ordered = tuple(
        Segment(
            position=position,
            speaker=voices[" ".join(raw[n].speaker.split()).casefold()],
            side=speakers[voices[" ".join(raw[n].speaker.split()).casefold()]].side,
            start_ms=raw[n].start_ms,
            end_ms=raw[n].end_ms,
            text=" ".join(raw[n].text.split()),
            upstream=raw[n].upstream(),
        )
        for position, n in enumerate(order)
    )
    end_ms = max(s.end_ms for s in ordered)
    if duration_seconds is None:
        duration_seconds = -(-end_ms // 1000)
    elif duration_seconds * 1000 < end_ms:
        raise TranscriptRejected(
            TranscriptProblem.SHORTER_THAN_TRANSCRIPT,
            "durationSeconds",
            f"{duration_seconds} s is shorter than the transcript, which ends at {seconds(end_ms)}",
        )
    found = _language(" ".join(s.text for s in ordered), language, field)
    return Transcript(tuple(speakers), ordered, found), duration_seconds


def _speakers(speakers: list[Speaker]) -> dict[str, int]:
    if not speakers:
        raise TranscriptRejected(TranscriptProblem.BAD_SPEAKER, "speakers", "name the speakers and their sides")
    if len(speakers) > MAX_SPEAKERS:
        raise TranscriptRejected(TranscriptProblem.TOO_LARGE, "speakers", f"at most {MAX_SPEAKERS} speakers")
    voices: dict[str, int] = {}
    for n, speaker in enumerate(speakers):
        name = speaker.name
        if not name or len(name) > NAME_MAX:
            raise TranscriptRejected(
                TranscriptProblem.BAD_SPEAKER, f"speakers[{n}].name", f"a name of 1 to {NAME_MAX} characters"
            )
        if speaker.user_id is not None and speaker.contact_id is not None:
            raise TranscriptRejected(
                TranscriptProblem.BAD_SPEAKER, f"speakers[{n}]", "a speaker is a user or a contact, not both"
            )
        if speaker.side is Side.CUSTOMER and speaker.user_id is not None:
            raise TranscriptRejected(
                TranscriptProblem.BAD_SPEAKER,
                f"speakers[{n}].userId",
                "a customer speaker is a contact (users speak for the seller)",
            )
        if name.casefold() in voices:
            raise TranscriptRejected(
                TranscriptProblem.DUPLICATE_SPEAKER, f"speakers[{n}].name", f"{name!r} is named twice"
            )
        voices[name.casefold()] = n
    return voices


def _language(text: str, declared: Language | None, field: str) -> Language:
    detected: Detected = detect(text)
    if declared is not None:
        if reads_as(detected, declared):
            return declared
        reads = (
            LANGUAGE_NAMES[detected.language] if detected.language else "none of Danish, Norwegian, Swedish, English"
        )
        raise TranscriptRejected(
            TranscriptProblem.UNREADABLE_LANGUAGE,
            "language",
            f"the transcript does not read as {LANGUAGE_NAMES[declared]} (it reads as {reads})",
        )
    if detected.language is None:
        raise TranscriptRejected(
            TranscriptProblem.UNREADABLE_LANGUAGE,
            field,
            "the transcript reads as none of the languages we analyse (Danish, Norwegian, Swedish, English)",
        )
    return detected.language
