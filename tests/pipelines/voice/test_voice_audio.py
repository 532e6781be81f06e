"""The Piper voice on real audio, offline: emotion directions, intelligibility, code-switching,
timings, long text. Measured with ``pipelines.voice.measure`` (the tab's emotion check)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipelines.base import Cancelled, CancelToken
from pipelines.emotion import EMOTIONS, EmotionSpec
from pipelines.media import AudioClip
from pipelines.voice import measure
from pipelines.voice.accent_sets import ACCENT_HELD_OUT_SENTENCES
from pipelines.voice.measure import EVERYDAY_SENTENCES as SENTENCES
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest

SENTENCE = "I can't believe we finally finished the whole project today, after all this time."

# Expected signs vs neutral (+1 up, -1 down, 0 not asserted), from the speech literature.
DIRECTIONS = {
    #              F0  energy rate
    "happy":       (+1, +1, +1),
    "sad":         (-1, -1, -1),
    "angry":       (+1, +1, +1),
    "fearful":     (+1, +1, +1),
    "surprised":   (+1, +1, +1),
    "disgusted":   (-1, -1, -1),
    "contemptuous": (-1, -1, -1),
}  # fmt: skip


def _measures(piper: PiperBackend, emotion: str) -> dict[str, float]:
    res = piper.run(VoiceRequest(text=SENTENCE, emotion=emotion, seed=3))
    return dict(res.metadata["measures"])


@pytest.fixture(scope="module")
def grid(piper: PiperBackend) -> dict[str, dict[str, float]]:
    out = {"neutral": _measures(piper, "neutral")}
    for label in DIRECTIONS:
        out[label] = _measures(piper, label)
        out[f"{label}@0.4"] = _measures(piper, f"{label}@0.4")
    return out


def test_directions_vs_neutral(grid: dict[str, dict[str, float]]) -> None:
    assert set(DIRECTIONS) | {"neutral"} == set(EMOTIONS)
    n = grid["neutral"]
    keys = ("f0_median_hz", "energy_db", "rate_phones_s")
    for label, signs in DIRECTIONS.items():
        m = grid[label]
        for key, sign in zip(keys, signs, strict=True):
            assert np.sign(m[key] - n[key]) == sign, (label, key, m[key], n[key])


def test_range_and_stability(grid: dict[str, dict[str, float]]) -> None:
    n = grid["neutral"]
    for label in ("happy", "surprised", "angry"):
        assert grid[label]["f0_range_st"] > n["f0_range_st"], label
    assert grid["sad"]["f0_range_st"] < n["f0_range_st"]
    assert grid["fearful"]["f0_instability_st"] > n["f0_instability_st"]
    assert grid["sad"]["pause_ratio"] > n["pause_ratio"]


def test_full_intensity_moves_further_than_0_4(grid: dict[str, dict[str, float]]) -> None:
    n = grid["neutral"]
    for label in DIRECTIONS:
        for key in ("f0_median_hz", "energy_db", "rate_phones_s"):
            strong = abs(grid[label][key] - n[key])
            weak = abs(grid[f"{label}@0.4"][key] - n[key])
            assert strong > weak, (label, key, strong, weak)


@pytest.mark.parametrize(
    "emotion",
    ["neutral", "happy", *(pytest.param(e, marks=pytest.mark.slow) for e in EMOTIONS[2:])],
)
def test_wer_us_accent(piper: PiperBackend, emotion: str) -> None:
    res = piper.run(
        VoiceRequest(text=" ".join(SENTENCES), emotion=emotion, check_intelligibility=True)
    )
    assert res.metadata["wer"] <= 0.15, res.metadata["transcript"]
    assert res.metadata["dnsmos"]["p808"] > 3.7, res.metadata["dnsmos"]  # the emotion check


# Each accent neutral, and with the emotion that measured worst for it in
# benchmarks/voice_quality.py. Caribbean, Indian and Scottish (whose rules issue 12 made
# lighter) on sentences the rules were not tuned on (29.0 % for Caribbean neutral and Indian
# contemptuous speech there, 26.7 % Scottish neutral, against a goal of 30 %); RP on the
# everyday sentences.
ACCENT_CASES = [
    ("rp", "neutral", SENTENCES),
    ("rp", "fearful", SENTENCES),
    ("scottish", "neutral", ACCENT_HELD_OUT_SENTENCES),
    ("scottish", "angry", ACCENT_HELD_OUT_SENTENCES),
    ("caribbean", "neutral", ACCENT_HELD_OUT_SENTENCES),
    ("caribbean", "sad", ACCENT_HELD_OUT_SENTENCES),
    ("indian", "neutral", ACCENT_HELD_OUT_SENTENCES),
    ("indian", "contemptuous", ACCENT_HELD_OUT_SENTENCES),
]


@pytest.mark.slow
@pytest.mark.parametrize(("accent", "emotion", "sentences"), ACCENT_CASES)
def test_wer_per_accent(
    piper: PiperBackend, accent: str, emotion: str, sentences: tuple[str, ...]
) -> None:
    text = " ".join(sentences)
    res = piper.run(VoiceRequest(text=text, accent=accent, emotion=emotion))
    heard = measure.transcribe(res.artifacts["audio"])
    assert measure.wer(text, heard) <= 0.30, heard


def test_code_switched_text_is_one_clip_with_hindi_phonemes(piper: PiperBackend) -> None:
    text = "Namaste, let's talk about आप कैसे हैं and then go home."
    res = piper.run(VoiceRequest(text=text, accent="indian", emotion="happy@0.6"))
    assert res.metadata["sentences"] == 1 and res.metadata["languages"] == ["en", "hi"]
    assert "kˈɛːseː" in res.metadata["hindi_phonemes"]
    words = res.alignment.words
    assert [w.label for w in words][4:7] == ["आप", "कैसे", "हैं"]
    gaps = [b.start - a.end for a, b in itertools.pairwise(words)]
    assert max(gaps) < 0.5  # no break between the languages


def test_word_timings_contain_voiced_frames(piper: PiperBackend) -> None:
    res = piper.run(VoiceRequest(text=SENTENCES[1] + " " + SENTENCES[6], emotion="sad"))
    clip = res.artifacts["audio"]
    assert isinstance(clip, AudioClip)
    words = res.alignment.words
    assert len(words) == len(SENTENCES[1].split()) + len(SENTENCES[6].split())
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(words))
    x, sr = clip.samples, clip.sample_rate
    pad = int(0.01 * sr)  # one analysis frame of tolerance
    for w in words:  # voiced = some 20 ms window in the span is periodic at 70-400 Hz
        assert _periodic(x[max(0, int(w.start * sr) - pad) : int(w.end * sr) + pad], sr), w
    assert len(res.alignment.phonemes) > 2 * len(words)
    assert words[-1].end <= clip.duration


def _periodic(seg: np.ndarray, sr: int, threshold: float = 0.5) -> bool:
    win = int(0.02 * sr)
    lo, hi = int(sr / 400), int(sr / 70)
    for start in range(0, max(1, len(seg) - win - hi), win // 2):
        a = seg[start : start + win + hi].astype(np.float64)
        if np.sqrt(np.mean(a**2)) < 1e-3:
            continue
        ref = a[:win]
        scores = [
            np.dot(ref, a[lag : lag + win])
            / (np.linalg.norm(ref) * np.linalg.norm(a[lag : lag + win]) + 1e-12)
            for lag in range(lo, hi)
        ]
        if max(scores) > threshold:
            return True
    return False


def test_long_text_progress_cancel_and_first_chunk(piper: PiperBackend) -> None:
    text = " ".join(SENTENCES[:6])
    seen: list[float] = []
    res = piper.run(VoiceRequest(text=text), progress=lambda f, _s: seen.append(f))
    assert seen == sorted(seen) and res.metadata["sentences"] == 6
    samples = res.artifacts["audio"].samples  # type: ignore[attr-defined]
    assert np.max(np.abs(np.diff(samples))) < 0.5  # no clicks at the joins
    token = CancelToken()
    calls: list[float] = []

    def cancel_after_two(f: float, _s: str) -> None:
        calls.append(f)
        if len(calls) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        piper.run(VoiceRequest(text=text), progress=cancel_after_two, cancel=token)
    assert len(calls) == 2
    first = next(piper.stream(VoiceRequest(text=text)))
    assert first.text == SENTENCES[0] and len(first.audio) > 0


def test_blend_sits_between_its_parts(piper: PiperBackend) -> None:
    f0 = {e: _measures(piper, e)["f0_median_hz"] for e in ("sad", "happy", "happy:0.5+sad:0.5")}
    assert f0["sad"] < f0["happy:0.5+sad:0.5"] < f0["happy"]
    assert EmotionSpec.parse("happy:0.5+sad:0.5").is_blend
