"""Phoneme and word timings from Piper's alignments, and SRT / WebVTT subtitles.

Piper's VITS model predicts a duration (in audio samples) for every phoneme id; with the model's
``w_ceil`` tensor exposed as an output these become exact phoneme spans of the audio it made.
Stress and length marks and combining diacritics are folded into the phoneme they modify; the
words are the spans of the phonemes each written word became (see ``codeswitch``).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

import numpy as np

from pipelines.media import TimedUnit, Timings
from pipelines.voice.codeswitch import PUNCTUATION, PhonemizedSentence

_PREFIX_MARKS = frozenset("ˈˌ")
_SUFFIX_MARKS = frozenset("ːˑ")


def sentence_units(
    sent: PhonemizedSentence, char_samples: Sequence[int], lead: int, sr: int, offset: float
) -> tuple[list[TimedUnit], list[TimedUnit]]:
    """Phoneme and word units of one synthesised sentence.

    ``char_samples[i]`` is the number of samples of ``sent.phonemes[i]`` (0 for characters the
    voice dropped); ``lead`` the samples before the first phoneme; ``offset`` the sentence's
    start in the whole clip (seconds).
    """
    bounds = np.concatenate([[0], np.cumsum(char_samples)]) + lead
    phonemes: list[TimedUnit] = []
    marks, mark_start = "", 0.0  # stress marks wait for the phoneme they stress
    for i, ch in enumerate(sent.phonemes):
        s, e = offset + bounds[i] / sr, offset + bounds[i + 1] / sr
        if ch == " " or ch in PUNCTUATION:
            marks = ""
        elif ch in _PREFIX_MARKS:
            mark_start = mark_start if marks else s
            marks += ch
        elif (ch in _SUFFIX_MARKS or unicodedata.combining(ch)) and phonemes:
            last = phonemes[-1]
            phonemes[-1] = TimedUnit(last.label + ch, last.start, float(e))
        else:
            phonemes.append(TimedUnit(marks + ch, float(mark_start if marks else s), float(e)))
            marks = ""
    words = [
        TimedUnit(word, float(offset + bounds[a] / sr), float(offset + bounds[b] / sr))
        for word, a, b in sent.words
    ]
    return phonemes, words


def shift(units: Sequence[TimedUnit], seconds: float) -> list[TimedUnit]:
    return [TimedUnit(u.label, u.start + seconds, u.end + seconds) for u in units]


def to_json(timings: Timings) -> bytes:
    """The timings file: ``{"words": [[label, start, end], …], "phonemes": […]}``."""
    data = {
        "words": [[u.label, round(u.start, 4), round(u.end, 4)] for u in timings.words],
        "phonemes": [[u.label, round(u.start, 4), round(u.end, 4)] for u in timings.phonemes],
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def from_json(data: bytes | str) -> Timings:
    raw = json.loads(data)
    return Timings(
        phonemes=tuple(TimedUnit(str(a), float(b), float(c)) for a, b, c in raw["phonemes"]),
        words=tuple(TimedUnit(str(a), float(b), float(c)) for a, b, c in raw["words"]),
    )


def cues(
    words: Sequence[TimedUnit],
    sentence_ends: Sequence[float] = (),
    max_chars: int = 42,
    max_seconds: float = 5.0,
) -> list[TimedUnit]:
    """Subtitle cues: words grouped up to ``max_chars`` / ``max_seconds``, broken at sentence
    ends (times after which a new cue starts)."""
    out: list[TimedUnit] = []
    group: list[TimedUnit] = []
    ends = sorted(sentence_ends)

    def flush() -> None:
        if group:
            out.append(TimedUnit(" ".join(w.label for w in group), group[0].start, group[-1].end))
            group.clear()

    for w in words:
        text = " ".join([*(g.label for g in group), w.label])
        crosses = group and any(group[-1].end <= t <= w.start + 1e-6 for t in ends)
        if group and (len(text) > max_chars or w.end - group[0].start > max_seconds or crosses):
            flush()
        group.append(w)
    flush()
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cue_list: Sequence[TimedUnit]) -> str:
    """SubRip text."""
    blocks = [
        f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.label}\n"
        for i, c in enumerate(cue_list, 1)
    ]
    return "\n".join(blocks)


def to_vtt(cue_list: Sequence[TimedUnit]) -> str:
    """WebVTT text."""
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.label}\n" for c in cue_list]
    return "WEBVTT\n\n" + "\n".join(blocks)
