"""Speech in: read any common audio file (libsndfile, then ffmpeg), and guess an emotion from its
prosody when none is given."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from pipelines.portrait.request import MAX_AUDIO_SECONDS

FORMATS = "WAV, FLAC, OGG/Opus, MP3, M4A/AAC or the audio track of a video"
ANALYSIS_RATE = 16000
MIN_AUDIO_SECONDS = 0.3
"""Shorter clips cannot carry a word, and the motion planner needs a few frames."""


def load_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate; ``PipelineError`` for missing, unreadable, empty or
    over-long (> 10 min) audio."""
    import soundfile

    if not path.is_file():
        raise PipelineError(f"Audio file {path.name} does not exist — choose a speech recording.")
    try:
        info = soundfile.info(str(path))
        if info.duration > MAX_AUDIO_SECONDS:
            raise PipelineError(_too_long(path, info.duration))
        data, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError):
        data, sr = _ffmpeg_decode(path)
    samples = data.mean(axis=1) if data.ndim == 2 else data
    if len(samples) < sr * 0.05:
        raise PipelineError(f"{path.name} holds no audio (it is empty). Choose a speech recording.")
    if _truncated_wav(path):
        raise PipelineError(
            f"{path.name} is cut short (the file ends before its audio does): it was not "
            "copied or exported completely. Export or copy it again."
        )
    if len(samples) < sr * MIN_AUDIO_SECONDS:
        raise PipelineError(
            f"{path.name} is only {len(samples) / sr:.2f} s long; a talking portrait needs at "
            f"least {MIN_AUDIO_SECONDS:g} s of speech."
        )
    if len(samples) / sr > MAX_AUDIO_SECONDS:
        raise PipelineError(_too_long(path, len(samples) / sr))
    if not np.all(np.isfinite(samples)):
        raise PipelineError(f"{path.name} contains invalid samples (NaN/inf). Export it again.")
    return np.clip(samples, -1.0, 1.0).astype(np.float32), int(sr)


def _truncated_wav(path: Path) -> bool:
    """True for a RIFF/WAVE file whose header promises more bytes than the file holds."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
            size = path.stat().st_size
    except OSError:
        return False
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return False
    declared = int.from_bytes(head[4:8], "little") + 8
    return declared != 0xFFFFFFFF + 8 and size < declared


def _too_long(path: Path, seconds: float) -> str:
    return (
        f"{path.name} is {seconds / 60:.1f} minutes long; a portrait takes at most "
        f"{MAX_AUDIO_SECONDS / 60:.0f} minutes of speech. Split it into shorter clips."
    )


def _ffmpeg_decode(path: Path) -> tuple[np.ndarray, int]:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path)]
    cmd += ["-t", str(MAX_AUDIO_SECONDS + 1), "-vn", "-ac", "1", "-ar", str(ANALYSIS_RATE)]
    cmd += ["-f", "f32le", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PipelineError(f"Could not decode {path.name}: {exc}.") from exc
    data = np.frombuffer(out.stdout, dtype="<f4")
    if out.returncode != 0 or data.size == 0:
        raise PipelineError(
            f"{path.name} is not audio this studio can read (damaged or an unsupported format). "
            f"Use {FORMATS}."
        )
    return data.reshape(-1, 1).copy(), ANALYSIS_RATE


def is_silent(samples: np.ndarray) -> bool:
    """True when the loudest 50 ms window is below -55 dBFS."""
    win = 800
    n = len(samples) // win
    if n == 0:
        return True
    rms = np.sqrt(np.mean(samples[: n * win].reshape(n, win) ** 2, axis=1))
    return bool(20 * np.log10(float(rms.max()) + 1e-12) < -55.0)


def _f0_track(samples: np.ndarray, sr: int) -> np.ndarray:
    """Rough F0 (Hz) of voiced 40 ms frames by normalised autocorrelation; 0 when unvoiced."""
    step = max(1, sr // ANALYSIS_RATE)
    x = samples[::step]
    rate = sr / step
    win, hop = int(0.04 * rate), int(0.02 * rate)
    lo, hi = int(rate / 400), int(rate / 70)
    out = []
    for start in range(0, max(0, len(x) - win), hop):
        seg = x[start : start + win] - x[start : start + win].mean()
        energy = float(seg @ seg)
        if energy < 1e-4 * win * 0.01:
            out.append(0.0)
            continue
        ac = np.correlate(seg, seg, "full")[win - 1 :] / energy
        lag = lo + int(np.argmax(ac[lo:hi]))
        out.append(rate / lag if ac[lag] > 0.45 else 0.0)
    return np.array(out, np.float32)


def estimate_emotion(samples: np.ndarray, sr: int) -> tuple[EmotionSpec, dict[str, float]]:
    """A mild emotion guessed from prosody (speech research: aroused speech is louder, higher,
    wider in pitch and faster; low, narrow, slow speech reads as sad). Crude by design."""
    seconds = min(len(samples), 60 * sr)
    clip = samples[:seconds]
    f0 = _f0_track(clip, sr)
    voiced = f0[f0 > 0]
    if len(voiced) < 10:
        return EmotionSpec(), {"voiced_share": float(len(voiced) / max(len(f0), 1))}
    semis = 12 * np.log2(voiced / np.median(voiced))
    pitch_range = float(np.percentile(semis, 90) - np.percentile(semis, 10))
    hop = int(0.02 * sr)
    n = len(clip) // hop
    env = np.sqrt(np.mean(clip[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(env)
    active = db > db.max() - 30
    loud = float(np.mean(db[active]))
    peaks = np.count_nonzero((db[1:-1] > db[:-2]) & (db[1:-1] >= db[2:]) & active[1:-1])
    rate = peaks / (np.count_nonzero(active) * 0.02 + 1e-6)
    arousal = np.clip(
        0.35 * (pitch_range - 6) / 4 + 0.35 * (loud + 22) / 8 + 0.3 * (rate - 4) / 2, -1, 1
    )
    valence = np.clip(
        0.5 * (pitch_range - 6) / 5 + 0.5 * (float(np.median(voiced)) - 160) / 120, -1, 1
    )
    spec = EmotionSpec.from_vad(float(valence), float(arousal), 0.0, intensity=0.6)
    facts = {
        "pitch_median_hz": round(float(np.median(voiced)), 1),
        "pitch_range_semitones": round(pitch_range, 2),
        "loudness_dbfs": round(loud, 1),
        "syllable_rate": round(float(rate), 2),
    }
    return EmotionSpec.of(spec.label, 0.6), facts
