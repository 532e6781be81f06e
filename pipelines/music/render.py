"""MIDI → audio with a General MIDI soundfont (tinysoundfont), and MIDI → piano-roll PNG.

The soundfont is the first that exists of: an explicit path, ``$AFFECT_STUDIO_SOUNDFONT``,
FluidR3_GM in the usual Debian/Fedora/macOS places, then pretty_midi's bundled TimGM6mb.sf2
(6 MB, GPL-2; always present with pretty_midi). Nothing is ever downloaded.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import CancelToken, PipelineError
from pipelines.media import AudioClip

SOUNDFONT_ENV = "AFFECT_STUDIO_SOUNDFONT"
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM2-2.sf2",
    "/usr/local/share/soundfonts/FluidR3_GM.sf2",
    "/opt/homebrew/share/soundfonts/FluidR3_GM.sf2",
)
TRACK_COLOURS = ((124, 58, 237), (16, 185, 129), (245, 158, 11), (239, 68, 68), (59, 130, 246))


def bundled_soundfont() -> Path:
    """pretty_midi's TimGM6mb.sf2."""
    import pretty_midi

    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


def find_soundfont(explicit: Path | str | None = None) -> Path:
    """The best available soundfont (see the module docstring); PipelineError if none."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise PipelineError(f"Soundfont {path} does not exist — give an existing .sf2 file.")
        return path
    candidates = [os.environ.get(SOUNDFONT_ENV, ""), *SYSTEM_SOUNDFONTS, str(bundled_soundfont())]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise PipelineError("No General MIDI soundfont found; reinstall pretty_midi (ships one).")


def render_audio(
    pm: Any,
    soundfont: Path,
    *,
    sample_rate: int = 44100,
    duration: float | None = None,
    cancel: CancelToken | None = None,
) -> AudioClip:
    """Stereo float audio of ``pm`` lasting exactly ``duration`` s (default: the MIDI's end)."""
    try:
        import tinysoundfont
    except ImportError as exc:
        raise PipelineError(
            "Audio rendering needs the 'tinysoundfont' package — install it, or untick "
            "'render audio' to get MIDI only."
        ) from exc
    end = float(pm.get_end_time()) if duration is None else float(duration)
    total = max(1, round(end * sample_rate))
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    try:
        sfid = synth.sfload(str(soundfont))
    except Exception as exc:
        raise PipelineError(f"Soundfont {soundfont} could not be loaded ({exc}).") from None
    events: list[tuple[int, int, int, int, int]] = []  # (sample, order, channel, pitch, vel)
    free = [c for c in range(16) if c != 9]
    for k, inst in enumerate(pm.instruments):
        chan = 9 if inst.is_drum else free[k % len(free)]
        try:
            synth.program_select(chan, sfid, 128 if inst.is_drum else 0, inst.program, inst.is_drum)
        except Exception:
            synth.program_select(chan, sfid, 0, 0)  # a soundfont without this preset
        for n in inst.notes:
            events.append((round(n.start * sample_rate), 1, chan, n.pitch, n.velocity))
            events.append((round(n.end * sample_rate), 0, chan, n.pitch, 0))
    events.sort()
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for i, (at, kind, chan, pitch, vel) in enumerate(events):
        at = min(at, total)
        if at > pos:
            buf = synth.generate_simple(at - pos)
            out[pos:at] = np.frombuffer(buf, dtype=np.float32).reshape(-1, 2)
            pos = at
            if cancel is not None and i % 256 == 0:
                cancel.raise_if_cancelled()
        if kind:
            synth.noteon(chan, pitch, vel)
        else:
            synth.noteoff(chan, pitch)
    if pos < total:
        out[pos:] = np.frombuffer(synth.generate_simple(total - pos), dtype=np.float32).reshape(
            -1, 2
        )
    fade = min(total, int(0.03 * sample_rate))
    out[total - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(out).max())
    if peak > 0.99:
        out *= 0.99 / peak
    return AudioClip(out, sample_rate)


def piano_roll_png(pm: Any, *, width: int = 1200, row: int | None = None) -> bytes:
    """A piano roll (time →, pitch ↑, one colour per track, octave lines at each C) as PNG;
    ``row`` px per semitone, by default what makes the roll about 360 px tall (4–12 px)."""
    notes = [(k, n) for k, inst in enumerate(pm.instruments) for n in inst.notes]
    end = max(float(pm.get_end_time()), 1e-3)
    lo = min((n.pitch for _, n in notes), default=60) - 2
    hi = max((n.pitch for _, n in notes), default=72) + 2
    row = row or max(4, min(12, 360 // (hi - lo + 1)))
    height = (hi - lo + 1) * row
    img = np.full((height, width, 3), 250, dtype=np.uint8)
    for p in range(lo, hi + 1):
        y = (hi - p) * row
        if p % 12 in (1, 3, 6, 8, 10):
            img[y : y + row] = 240
        if p % 12 == 0:
            img[y + row - 1] = 200
    for bt in pm.get_downbeats():
        img[:, min(width - 1, int(bt / end * width))] = 215
    for k, n in notes:
        x0 = int(n.start / end * (width - 1))
        x1 = max(x0 + 1, int(n.end / end * (width - 1)))
        y = (hi - n.pitch) * row
        shade = 0.45 + 0.55 * n.velocity / 127
        colour = np.array(TRACK_COLOURS[k % len(TRACK_COLOURS)]) * shade + 255 * (1 - shade)
        img[y + 1 : y + row, x0:x1] = colour.astype(np.uint8)
    return encode_png(img)


def encode_png(rgb: np.ndarray) -> bytes:
    """Minimal PNG encoder for an (h, w, 3) uint8 array (no imaging library needed)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
