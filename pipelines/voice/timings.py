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

MIN_WORD_SECONDS = 0.06
"""The least time a word gets when espeak-ng merged it with others into one phoneme word."""


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
    return phonemes, _word_units(sent, bounds / sr, offset)


def _word_units(sent: PhonemizedSentence, t: np.ndarray, offset: float) -> list[TimedUnit]:
    """Word units from phoneme-character times ``t`` (seconds, one more than the characters).

    Words that share a phoneme word (espeak merged them; no break between their spans) are a
    group: the group's time is split where their phonemes meet, and each gets at least
    ``MIN_WORD_SECONDS`` of it (or an equal share when the group is shorter). A group without
    time of its own (nothing the voice said) joins the group before it (or after it).
    """
    spans = sent.words
    if not spans:
        return []
    groups: list[list[int]] = [[0]]
    for i in range(1, len(spans)):
        between = sent.phonemes[spans[i - 1][2] : spans[i][1]]
        if any(ch == " " or ch in PUNCTUATION for ch in between):
            groups.append([i])
        else:
            groups[-1].append(i)

    def length(g: list[int]) -> float:
        return float(t[spans[g[-1]][2]] - t[spans[g[0]][1]])

    k = 0
    while len(groups) > 1 and k < len(groups):
        if length(groups[k]) <= 0:
            other = k - 1 if k else k + 1
            groups[min(k, other)] = sorted(groups[k] + groups[other])
            del groups[max(k, other)]
            k = max(0, k - 1)
        else:
            k += 1
    out: list[TimedUnit] = []
    for g in groups:
        start, end = float(t[spans[g[0]][1]]), float(t[spans[g[-1]][2]])
        own = [float(t[spans[i][2]] - t[spans[i][1]]) for i in g]
        for i, d in zip(g, share(end - start, own), strict=True):
            out.append(TimedUnit(spans[i][0], offset + start, offset + min(end, start + d)))
            start += d
        out[-1] = TimedUnit(out[-1].label, out[-1].start, offset + end)
    return out


def share(total: float, own: Sequence[float], floor: float = MIN_WORD_SECONDS) -> list[float]:
    """``total`` seconds split among words whose own times are ``own``: each keeps its own
    time when that is at least ``floor`` (or ``total / n`` if smaller) and the times fill
    ``total``; otherwise the short ones get the floor and the rest shrink in proportion to what
    they have above it."""
    n = len(own)
    low = min(floor, total / n)
    if all(d >= low for d in own) and abs(sum(own) - total) <= 1e-9:
        return list(own)
    above = [max(0.0, d - low) for d in own]
    spare = total - n * low
    if sum(above) <= 0:
        return [total / n] * n
    return [low + a * spare / sum(above) for a in above]


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
