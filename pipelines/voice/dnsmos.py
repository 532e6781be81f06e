"""DNSMOS: Microsoft's non-intrusive speech-quality predictor (SIG, BAK, OVRL and P.808 MOS).

The ONNX models ship in the ``speechmos`` package (``dnsmos_models/sig_bak_ovr.onnx`` and
``model_v8.onnx``, the DNS Challenge's own files). Its Python wrapper needs ``librosa`` only for
one mel spectrogram; :func:`_melspec_db` computes the same thing with numpy (librosa 0.11's
``melspectrogram`` defaults: centred zero-padded periodic-Hann STFT, power 2, Slaney mel
filters, ``power_to_db(ref=max, top_db=80)``), checked against librosa to 1e-4 in the tests'
development. Scoring follows the reference: 16 kHz, 9.01 s windows hopped by 1 s (a shorter
clip is repeated to fill one), the SIG/BAK/OVRL polynomial calibration, means over windows.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SR = 16000
INPUT_SECONDS = 9.01


@dataclass(frozen=True)
class Dnsmos:
    """Mean opinion scores (1-5) predicted for one clip."""

    sig: float
    """Speech signal quality (distortion)."""
    bak: float
    """Background (noise) quality."""
    ovrl: float
    """Overall quality (P.835)."""
    p808: float
    """Overall quality as an ITU-T P.808 listening test would rate it."""

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


def model_dir() -> Path | None:
    """Where the DNSMOS models lie, or None when ``speechmos`` is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "dnsmos_models"
    return folder if (folder / "model_v8.onnx").is_file() else None


def available() -> bool:
    return model_dir() is not None


@functools.lru_cache(maxsize=1)
def _sessions() -> tuple[Any, Any]:
    """(SIG/BAK/OVRL session, P.808 session), loaded once per process, single-threaded (the
    models are small; the voice's own work keeps the cores)."""
    import onnxruntime

    folder = model_dir()
    if folder is None:
        raise RuntimeError("DNSMOS needs the speechmos package (pip install speechmos).")
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    cpu = ["CPUExecutionProvider"]
    return (
        onnxruntime.InferenceSession(str(folder / "sig_bak_ovr.onnx"), opts, providers=cpu),
        onnxruntime.InferenceSession(str(folder / "model_v8.onnx"), opts, providers=cpu),
    )


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    mels = f / f_sp
    log = f >= min_log_hz
    mels[log] = min_log_hz / f_sp + np.log(f[log] / min_log_hz) / logstep
    return mels


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    f = f_sp * m
    log = m >= min_log_mel
    f[log] = min_log_hz * np.exp(logstep * (m[log] - min_log_mel))
    return f


@functools.lru_cache(maxsize=4)
def _mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(np.array([sr / 2.0]))[0]), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    weights.setflags(write=False)
    return weights


def _melspec_db(x: np.ndarray, n_mels: int = 120, n_fft: int = 321, hop: int = 160) -> np.ndarray:
    """(frames, n_mels) log-mel features as the P.808 model was trained on."""
    pad = n_fft // 2
    y = np.pad(x.astype(np.float64), (pad, pad))
    n = 1 + (len(y) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    power = np.abs(np.fft.rfft(y[idx] * window, axis=1)) ** 2
    mel = power @ _mel_filters(SR, n_fft, n_mels).T
    db = 10.0 * np.log10(np.maximum(mel, 1e-10)) - 10.0 * np.log10(max(float(mel.max()), 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return (db + 40.0) / 40.0


_P_SIG = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
_P_BAK = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
_P_OVR = np.poly1d([-0.06766283, 1.11546468, 0.04602535])


def score(samples: np.ndarray, sample_rate: int, max_windows: int | None = None) -> Dnsmos:
    """DNSMOS of a mono clip at any sample rate (resampled to 16 kHz, clipped to ±1).

    ``max_windows`` caps the cost on long clips (each 9 s window takes about 0.1 s on one
    core): that many windows spread evenly from the first to the last, instead of one per
    second (the reference)."""
    from pipelines.voice.measure import resample

    x = np.clip(resample(np.asarray(samples, np.float32), sample_rate, SR), -1.0, 1.0)
    if len(x) == 0 or not np.any(x):
        raise ValueError("DNSMOS needs a clip with sound in it.")
    need = int(INPUT_SECONDS * SR)
    while len(x) < need:
        x = np.concatenate([x, x])
    primary, p808_model = _sessions()
    hops = int(np.floor(len(x) / SR) - INPUT_SECONDS) + 1
    starts: list[int] = list(range(hops))
    if max_windows is not None and hops > max_windows:
        starts = sorted({round(float(v)) for v in np.linspace(0, hops - 1, max(1, max_windows))})
    rows = []
    for i in starts:
        seg = x[i * SR : i * SR + need]
        if len(seg) < need:
            continue
        raw = primary.run(None, {"input_1": seg[None, :].astype(np.float32)})[0][0]
        feats = _melspec_db(seg[:-160]).astype(np.float32)[None]
        p808 = float(p808_model.run(None, {"input_1": feats})[0][0][0])
        rows.append((_P_SIG(raw[0]), _P_BAK(raw[1]), _P_OVR(raw[2]), p808))
    sig, bak, ovr, p808 = (float(v) for v in np.mean(rows, axis=0))
    return Dnsmos(sig=sig, bak=bak, ovrl=ovr, p808=p808)
