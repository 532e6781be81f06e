"""What every voice backend does after synthesis: pauses, joins, level, timings, files, checks.

A backend yields one :class:`Chunk` per sentence (audio + the phonemes and their sample counts);
``finish`` joins them with emotion-scaled pauses and short fades (no clicks), sets the level
with a soft limiter, adds the description's room, builds phoneme and word timings, subtitles,
the F0 plot and the emotion-check numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.base import CancelToken, ProgressFn, check, rng
from pipelines.media import Artifact, AudioClip, FileArtifact, TimedUnit, Timings
from pipelines.voice import dnsmos, measure, timings
from pipelines.voice.codeswitch import PUNCTUATION, PhonemizedSentence
from pipelines.voice.prosody import room
from pipelines.voice.request import Plan, VoiceRequest, VoiceResult
from pipelines.voice.text import normalise

SENTENCE_GAP = 0.28
"""Seconds of silence between sentences at pause factor 1 (the model adds its own tail)."""
FADE_S = 0.005
DNSMOS_WINDOWS = 8
"""The check's DNSMOS rates at most this many 9 s windows (spread over a long clip)."""


@dataclass(frozen=True)
class Chunk:
    """One synthesised sentence."""

    text: str
    audio: np.ndarray
    phonemized: PhonemizedSentence
    per_char: list[int]
    """Samples of each phoneme character of ``phonemized.phonemes``."""
    lead: int
    """Samples before the first phoneme."""
    touched: bool = True
    """False when ``audio`` is the network's own output, untouched (no fades are added)."""


def retime_pauses(
    audio: np.ndarray, per_char: list[int], lead: int, phonemes: list[str], factor: float
) -> tuple[np.ndarray, list[int]]:
    """Lengthen or shorten the pauses at clause punctuation by ``factor``."""
    if abs(factor - 1.0) < 0.01:
        return audio, per_char
    per_char = list(per_char)
    starts = np.concatenate([[0], np.cumsum(per_char)]) + lead
    for i in reversed(range(len(phonemes))):
        d = per_char[i]
        if phonemes[i] not in PUNCTUATION or d <= 0:
            continue
        new = round(d * factor)
        mid = int(starts[i] + d // 2)
        if new > d:
            audio = np.concatenate([audio[:mid], np.zeros(new - d, np.float32), audio[mid:]])
        elif new < d:
            cut = d - new
            a, b = mid - cut // 2, mid - cut // 2 + cut
            audio = np.concatenate([audio[:a], audio[b:]])
        per_char[i] = new
    return audio, per_char


def _fade(audio: np.ndarray, sr: int) -> np.ndarray:
    n = min(len(audio) // 2, int(FADE_S * sr))
    if n < 2:
        return audio
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
    out = audio.copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def soft_limit(x: np.ndarray, knee: float = 0.8) -> np.ndarray:
    """Identity below ``knee``; smooth tanh compression of peaks above it (never > 1)."""
    mag = np.abs(x)
    over = mag > knee
    y = x.copy()
    y[over] = np.sign(x[over]) * (knee + (1 - knee) * np.tanh((mag[over] - knee) / (1 - knee)))
    return y


def finish(
    req: VoiceRequest,
    p: Plan,
    chunks: list[Chunk],
    sr: int,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> VoiceResult:
    """Join the sentences and build the result (see the module docstring)."""
    check(cancel, progress, 0.86, "joining sentences")
    pieces: list[np.ndarray] = []
    phonemes: list[TimedUnit] = []
    words: list[TimedUnit] = []
    ends: list[float] = []
    pos = 0
    for i, c in enumerate(chunks):
        audio = _fade(c.audio.astype(np.float32), sr) if c.touched else c.audio
        ph, wd = timings.sentence_units(c.phonemized, c.per_char, c.lead, sr, pos / sr)
        phonemes.extend(ph)
        words.extend(wd)
        pieces.append(audio)
        pos += len(audio)
        ends.append(pos / sr)
        if i < len(chunks) - 1:
            full_stop = c.text.rstrip("\"')]").endswith((".", "!", "?", "\u0964"))
            gap = int(sr * SENTENCE_GAP * p.prosody.pause * (1.0 if full_stop else 0.4))
            pieces.append(np.zeros(gap, np.float32))
            pos += gap
    audio = np.concatenate(pieces) if pieces else np.zeros(1, np.float32)
    if abs(p.prosody.gain_db) > 1e-3:
        audio = soft_limit(audio * np.float32(10 ** (p.prosody.gain_db / 20)))
    else:  # the voice's own level, clipped as Piper clips it
        audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    audio = room(audio, sr, p.controls.reverb, p.controls.noise, rng(req.seed, "room"))
    clip = AudioClip(audio, sr)
    tm = Timings(phonemes=tuple(phonemes), words=tuple(words))
    check(cancel, progress, 0.9, "measuring")
    clean, issue = normalise(req.text)
    meta = p.metadata()
    track = measure.f0_track(clip)
    meta.update(
        measures=measure.measure(clip, tm, track).to_dict(),
        sentences=len(chunks),
        languages=sorted({lang for c in chunks for lang in c.phonemized.languages}),
        hindi_phonemes=" ".join(
            c.phonemized.hindi_phonemes for c in chunks if c.phonemized.hindi_phonemes
        ),
        dropped_characters="".join(issue.dropped),
    )
    if issue.dropped:
        meta["notes"].append(f"Left out characters the voice can't say: {''.join(issue.dropped)}")
    if req.check_intelligibility:
        check(cancel, progress, 0.93, "transcribing")
        heard = measure.transcribe(clip)
        meta.update(transcript=heard, wer=round(measure.wer(clean, heard), 4))
        if dnsmos.available():
            check(cancel, progress, 0.95, "rating naturalness")
            quality = dnsmos.score(audio, sr, max_windows=DNSMOS_WINDOWS)
            meta.update(dnsmos=quality.to_dict())
    check(cancel, progress, 0.96, "plotting")
    title = f"F0 contour · {p.emotion} · {p.accent}"
    cue_list = timings.cues(words, ends)
    artifacts: dict[str, Artifact] = {
        "audio": clip,
        "timings": FileArtifact(timings.to_json(tm), ".json"),
        "subtitles": FileArtifact(timings.to_srt(cue_list).encode("utf-8"), ".srt"),
        "subtitles_vtt": FileArtifact(timings.to_vtt(cue_list).encode("utf-8"), ".vtt"),
        "f0_plot": FileArtifact(measure.f0_plot_png(clip, title, track), ".png"),
    }
    check(cancel, progress, 1.0, "done")
    return VoiceResult(artifacts, meta, clip.duration, {}, alignment=tm)
