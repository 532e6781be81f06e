"""Frames out: a streamed, bit-exact H.264 + AAC MP4 (imageio-ffmpeg) and a PNG stills grid."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError
from pipelines.scratch import work_dir


class VideoWriter:
    """Frames go straight to an ffmpeg process, so memory stays flat however long the clip.

    Encoding is deterministic: single-threaded x264 and ffmpeg's bitexact flags (no encoder
    version strings or timestamps in the file), so the same frames give the same bytes.
    """

    def __init__(
        self, path: Path, width: int, height: int, fps: int, audio: np.ndarray, sr: int
    ) -> None:
        import imageio_ffmpeg
        import soundfile

        self.path = path
        self._wav = path.with_suffix(".wav")
        soundfile.write(str(self._wav), np.clip(audio, -1, 1), sr, "PCM_16")
        params = [
            "-threads", "1", "-preset", "veryfast", "-crf", "20", "-tune", "film",
            "-x264-params", "threads=1:lookahead-threads=1",
            "-b:a", "128k", "-ar", "48000", "-ac", "1",
            "-movflags", "+faststart", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        ]  # fmt: skip
        self._gen: Generator[Any, Any, None] = imageio_ffmpeg.write_frames(
            str(path),
            (width, height),
            fps=fps,
            codec="libx264",
            quality=None,
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            audio_path=str(self._wav),
            audio_codec="aac",
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=params,
        )
        self._gen.send(None)
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        try:
            self._gen.close()
        except (RuntimeError, OSError) as exc:
            raise PipelineError(f"The video encoder failed: {exc}") from exc
        finally:
            self._wav.unlink(missing_ok=True)

    def abort(self) -> None:
        """Stop encoding and remove the partial file (after a cancel or an error)."""
        with contextlib.suppress(Exception):  # the encoder may already be gone
            self._gen.close()
        self._wav.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


def temp_video_path(prefix: str = "portrait-") -> Path:
    """A fresh, unique .mp4 path in the job's private work folder (the caller stores a copy;
    the studio removes the folder when the job ends)."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".mp4", dir=work_dir())
    os.close(fd)
    return Path(name)


def read_frames(path: Path) -> Generator[np.ndarray, None, None]:
    """Decode an MP4's frames as RGB arrays, one at a time."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    for raw in reader:
        yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def stills_grid(frames: Sequence[np.ndarray], columns: int = 3, height: int = 220) -> bytes:
    """Frames side by side (rows of ``columns``) as PNG bytes."""
    import cv2

    if not frames:
        raise PipelineError("No frames to make a stills grid from.")
    h, w = frames[0].shape[:2]
    scale = min(1.0, height / h)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    tiles = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.concatenate(tiles[i : i + columns], axis=1) for i in range(0, len(tiles), columns)]
    grid = np.concatenate(rows, axis=0)
    ok, png = cv2.imencode(".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if not ok:
        raise PipelineError("Could not encode the stills grid.")
    return bytes(png.tobytes())
