"""Word timings and subtitles keep every written word, once, in order, with time of its own,
even where espeak-ng merges words ("I am" → aɪɐm), splits them ("2024") or reads them out
("e.g." → "for example"). Real Piper voice, real espeak-ng.

Sentences the word alignment was tuned on (``benchmarks/voice_word_timings.py`` TUNED): the
first three of ``ENGLISH``, the first of ``CODE_SWITCHED`` and of ``REPEATS``. Held out (never
tuned on): the last two of ``ENGLISH``, the second of ``CODE_SWITCHED`` and of ``REPEATS``.
"""

from __future__ import annotations

import itertools
import json

import pytest

from pipelines.media import AudioClip
from pipelines.voice.accents import ACCENTS
from pipelines.voice.codeswitch import PhonemizedSentence, phonemize_sentence
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest
from pipelines.voice.timings import MIN_WORD_SECONDS, sentence_units, share
from pipelines.voice.wordalign import text_words, word_spans

ENGLISH = (  # (text, its words as the subtitles show them)
    (
        "I can't believe you did this to me, I am furious!",
        "I can't believe you did this to me I am furious",
    ),
    (
        "In 2024 we paid $15.50 to Dr. Smith, e.g. for a well-known X-ray.",
        "In 2024 we paid $15.50 to Dr Smith e.g. for a well-known X-ray",
    ),
    ("Mr. Jones said it's 3:45 p.m. and I'd go.", "Mr Jones said it's 3:45 p.m. and I'd go"),
    (
        "We'll meet at No. 10 Downing St. on Jan. 5th, won't we?",
        "We'll meet at No 10 Downing St on Jan 5th won't we",
    ),
    (
        "Prof. Lee's lab got $2.5 million, i.e. about 40% more than last year's.",
        "Prof Lee's lab got $2.5 million i.e. about 40% more than last year's",
    ),
)
CODE_SWITCHED = (
    (
        "नमस्ते दोस्तों, let's talk about it, मैं बहुत खुश हूँ।",
        "नमस्ते दोस्तों let's talk about it मैं बहुत खुश हूँ",
    ),
    (
        "आज मौसम अच्छा है, so we'll go to the park at 4 pm, फिर घर जाएंगे।",
        "आज मौसम अच्छा है so we'll go to the park at 4 pm फिर घर जाएंगे",
    ),
)
REPEATS = (
    (
        "Come on, let's go to the e-mail co-op at 9 a.m. Yes, I am.",
        "Come on let's go to the e-mail co-op at 9 a.m. Yes I am",
    ),
    (
        "Hey, hey, hey! I said I am not, I am NOT going, OK?",
        "Hey hey hey I said I am not I am NOT going OK",
    ),
)


def _cue_words(subtitles: str) -> list[str]:
    """The words of SRT or WebVTT text, in order (cue numbers and times left out)."""
    words: list[str] = []
    for block in subtitles.strip().split("\n\n"):
        lines = block.splitlines()
        if "-->" in block:
            at = next(i for i, line in enumerate(lines) if "-->" in line)
            words += " ".join(lines[at + 1 :]).split()
    return words


@pytest.mark.parametrize(
    ("sentences", "emotion", "accent"),
    [(ENGLISH, "angry", "us"), (CODE_SWITCHED, "neutral", "indian"), (REPEATS, "happy", "rp")],
    ids=["english-angry", "code-switched-indian", "repeats-rp"],
)
def test_every_word_timed_once_in_order(
    piper: PiperBackend, sentences: tuple[tuple[str, str], ...], emotion: str, accent: str
) -> None:
    text = " ".join(t for t, _ in sentences)
    expected = " ".join(w for _, w in sentences).split()
    res = piper.run(VoiceRequest(text=text, emotion=emotion, accent=accent, seed=2))
    assert res.metadata["sentences"] >= len(sentences)  # several sentence chunks
    clip = res.artifacts["audio"]
    assert isinstance(clip, AudioClip)
    timed = json.loads(res.artifacts["timings"].data)["words"]
    assert [w for w, _, _ in timed] == expected
    assert all(end > start for _, start, end in timed), timed
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(timed)), timed
    assert timed[0][1] >= 0 and timed[-1][2] <= clip.duration
    srt = res.artifacts["subtitles"].data.decode("utf-8")
    vtt = res.artifacts["subtitles_vtt"].data.decode("utf-8")
    assert _cue_words(srt) == expected and _cue_words(vtt) == expected
    assert vtt.startswith("WEBVTT")


def test_merged_words_split_where_their_phonemes_meet() -> None:
    ph = phonemize_sentence("I can't believe you did this to me, I am furious!", ACCENTS["us"])
    spans = {(w, i): "".join(ph.phonemes[a:b]) for i, (w, a, b) in enumerate(ph.words)}
    assert spans[("I", 8)] == "aɪ" and spans[("am", 9)] == "ɐm"  # espeak's one word aɪɐm
    ph = phonemize_sentence("Smith, e.g. for a well-known X-ray.", ACCENTS["us"])
    said = ["".join(ph.phonemes[a:b]).replace("ˈ", "").replace("ˌ", "") for _, a, b in ph.words]
    assert said[1] == "fɔːɹɛɡzæmpəl" and said[2] + said[3] == "fɚɹə"  # "for example", "for a"


def test_word_spans_join_splits_and_place_words_with_nothing() -> None:
    assert word_spans(["tuː θaʊzənd", "wiː"], "tuː θaʊzənd wiː") == [(0, 11), (12, 15)]
    # a word the alignment gives nothing stays, empty, against its neighbour
    assert word_spans(["ɪn", "ə", "taɪm"], "ɪn taɪm") == [(0, 2), (2, 2), (3, 7)]
    assert word_spans(["aɪ", "æm"], "aɪɐm") == [(0, 2), (2, 4)]  # merged: split at ɪ|ɐ
    # … and timings give it part of the neighbour it sits against
    sent = PhonemizedSentence(list("ɪn taɪm"), [("in", 0, 2), ("a", 2, 2), ("time", 3, 7)])
    _, words = sentence_units(sent, [1000] * 7, 0, 10_000, 1.0)
    got = [(w.label, round(w.start, 3), round(w.end, 3)) for w in words]
    assert got == [("in", 1.0, 1.14), ("a", 1.14, 1.2), ("time", 1.3, 1.7)]


def test_share_gives_every_word_time() -> None:
    assert share(0.5, [0.2, 0.3]) == [0.2, 0.3]  # long enough: kept
    out = share(0.3, [0.3, 0.0])  # espeak gave the second word no phoneme of its own
    assert min(out) == pytest.approx(MIN_WORD_SECONDS) and sum(out) == pytest.approx(0.3)
    out = share(0.05, [0.05, 0.0, 0.0])  # shorter than three minimums: equal shares
    assert out == pytest.approx([0.05 / 3] * 3)


def test_text_words_as_subtitles_show_them() -> None:
    shown = [w for w, _ in text_words('"Well-known," said Dr. Lee: e.g. $15.50 (50%) & U.S. - ok.')]
    assert shown == ["Well-known", "said", "Dr", "Lee", "e.g.", "$15.50", "50%", "&", "U.S.", "ok"]
