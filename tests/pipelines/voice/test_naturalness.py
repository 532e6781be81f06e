"""Issue 12: neutral is Piper's own audio; emotions cost little naturalness (DNSMOS P.808)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.base import rng
from pipelines.emotion import EMOTIONS
from pipelines.media import AudioClip
from pipelines.voice import dnsmos, measure, pitch
from pipelines.voice.accents import accent
from pipelines.voice.piper import PiperBackend, _voice_files
from pipelines.voice.prosody import Prosody
from pipelines.voice.request import VoiceRequest, plan

TEXT = "Nobody told me that the meeting had been moved. We drove for hours without a car."


def test_patched_network_is_stock_piper(piper: PiperBackend) -> None:
    """With the noise scales at 0 (the only randomness), the backend's network stage and an
    unpatched piper-tts ``PiperVoice`` give the same samples for the same phoneme ids."""
    from piper import PiperVoice, SynthesisConfig

    model, config = _voice_files()
    stock = PiperVoice.load(model, config)
    sentence = "Nobody told me that the meeting had been moved."
    p = plan(VoiceRequest(text=sentence))
    quiet = type(p)(**{**p.__dict__, "prosody": Prosody(noise_scale=0.0, noise_w=0.0)})
    ours = piper._network(sentence, 0, accent("us"), quiet, seed=1)
    ids = stock.phonemes_to_ids(stock.phonemize(sentence)[0])
    theirs = stock.phoneme_ids_to_audio(
        ids, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    )
    assert isinstance(theirs, np.ndarray)
    assert len(ours.audio) == len(theirs)
    np.testing.assert_allclose(ours.audio, theirs.astype(np.float32), rtol=0, atol=1e-6)


def test_neutral_is_the_voices_own_audio_bit_for_bit(piper: PiperBackend) -> None:
    req = VoiceRequest(text=TEXT, seed=11)
    p = plan(req)
    assert p.prosody.is_neutral()
    res = piper.run(req)
    got = res.artifacts["audio"].samples  # type: ignore[attr-defined]
    raws = [
        piper._network(s, i, accent("us"), p, seed=11)
        for i, s in enumerate(["Nobody told me that the meeting had been moved.", TEXT[48:]])
    ]
    first, second = raws[0].audio, raws[1].audio
    gap = len(got) - len(first) - len(second)
    assert gap > 0
    np.testing.assert_array_equal(got[: len(first)], np.clip(first, -1, 1))
    np.testing.assert_array_equal(got[len(first) + gap :], np.clip(second, -1, 1))
    assert not np.any(got[len(first) : len(first) + gap])  # the sentence pause: silence
    # An emotion does change the samples (the test above could not pass by accident).
    sad = piper.run(VoiceRequest(text=TEXT, seed=11, emotion="sad@0.3"))
    assert not np.array_equal(sad.artifacts["audio"].samples[: len(first)], got[: len(first)])  # type: ignore[attr-defined]


def test_psola_moves_f0_by_the_asked_semitones(piper: PiperBackend) -> None:
    sentence = measure.SECOND_TUNING_SENTENCES[2]
    raw = piper._network(sentence, 0, accent("us"), plan(VoiceRequest(text=sentence)), seed=2)
    sr = piper.sample_rate
    base = measure.f0_track(AudioClip(raw.audio, sr))[1]
    for shift in (-2.0, 3.0):
        y = pitch.psola(raw.audio, sr, Prosody(pitch_shift=shift), rng(0, "f0", 0))
        assert len(y) == len(raw.audio)
        f0 = measure.f0_track(AudioClip(y, sr))[1]
        moved = 12 * np.log2(np.median(f0[f0 > 0]) / np.median(base[base > 0]))
        assert abs(moved - shift) < 0.5, (shift, moved)


def test_tilt_filter_changes_highs_not_lows() -> None:
    sr = 22050
    t = np.arange(sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 100 * t) + 0.3 * np.sin(2 * np.pi * 4000 * t)).astype(np.float32)
    y = pitch.tilt(x, sr, 6.0)
    spec_x, spec_y = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(y))
    assert 20 * np.log10(spec_y[4000] / spec_x[4000]) == pytest.approx(6.0, abs=0.1)
    assert 20 * np.log10(spec_y[100] / spec_x[100]) == pytest.approx(0.0, abs=0.5)


@pytest.mark.slow
def test_every_emotion_keeps_the_voices_naturalness_on_held_out_sentences(
    piper: PiperBackend,
) -> None:
    """DNSMOS P.808 of ten sentences never tuned on, per emotion, within 0.15 of plain Piper
    (the neutral run, which is Piper's own audio: see the test above)."""
    text = " ".join(measure.HELD_OUT_SENTENCES[:10])
    scores = {}
    for emotion in EMOTIONS:
        clip = piper.run(VoiceRequest(text=text, emotion=emotion, seed=4)).artifacts["audio"]
        assert isinstance(clip, AudioClip)
        scores[emotion] = dnsmos.score(clip.samples, clip.sample_rate, max_windows=4).p808
    assert scores["neutral"] > 3.7, scores  # the voice itself rates well
    for emotion in EMOTIONS[1:]:
        assert scores[emotion] >= scores["neutral"] - 0.15, (emotion, scores)
    print({k: round(v, 3) for k, v in scores.items()})


def test_dnsmos_ranks_a_damaged_clip_below_the_clean_one(piper: PiperBackend) -> None:
    clip = piper.run(VoiceRequest(text=measure.SECOND_TUNING_SENTENCES[0], seed=1)).artifacts[
        "audio"
    ]
    assert isinstance(clip, AudioClip)
    clean = dnsmos.score(clip.samples, clip.sample_rate)
    noisy = clip.samples + 0.05 * rng(1, "noise").standard_normal(len(clip.samples))
    bad = dnsmos.score(noisy.astype(np.float32), clip.sample_rate)
    assert 1.0 <= bad.p808 < clean.p808 - 0.5 and bad.bak < clean.bak - 1.0
    assert 3.5 < clean.p808 <= 5.0
