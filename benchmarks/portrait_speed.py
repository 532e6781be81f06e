"""Portrait speed: compute seconds ÷ video seconds (render + encode + mux) and peak memory.

    .venv/bin/python benchmarks/portrait_speed.py            # 10 s clip at 512 px
    .venv/bin/python benchmarks/portrait_speed.py --seconds 60 --size 512
    .venv/bin/python benchmarks/portrait_speed.py --photo-1080p --framing full

Speech is the bundled sample sentence repeated with pauses. The emotion check (a second, neutral
render plus landmark tracking) is off, as it is an optional analysis; ``--check`` times it too.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.base import LoadSettings
from pipelines.portrait.landmark_warp import WarpBackend
from pipelines.portrait.request import DEFAULT_IMAGE, SAMPLE_SPEECH, PortraitRequest


def speech(seconds: float, folder: Path) -> Path:
    data, sr = soundfile.read(str(SAMPLE_SPEECH), dtype="float32")
    pause = np.zeros(int(0.4 * sr), np.float32)
    reps = int(np.ceil(seconds * sr / (len(data) + len(pause))))
    audio = np.concatenate([np.concatenate([data, pause])] * reps)[: int(seconds * sr)]
    path = folder / "speech.wav"
    soundfile.write(str(path), audio, sr, "PCM_16")
    return path


def photo_1080p(folder: Path) -> Path:
    """The bundled portrait upscaled to 1080 px high, reflected out to 1920 px wide."""
    import cv2

    rgb = cv2.imread(str(DEFAULT_IMAGE))
    tall = cv2.resize(rgb, (1080, 1080), interpolation=cv2.INTER_CUBIC)
    wide = cv2.copyMakeBorder(tall, 0, 0, 420, 420, cv2.BORDER_REFLECT)
    path = folder / "photo-1080p.jpg"
    cv2.imwrite(str(path), wide)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--emotion", default="happy")
    p.add_argument("--check", action="store_true", help="include the emotion check")
    p.add_argument("--framing", default="auto", choices=("auto", "full", "face"))
    p.add_argument(
        "--photo-1080p", action="store_true",
        help="animate a 1920x1080 photo (the bundled portrait in a wider, upscaled scene)",
    )  # fmt: skip
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wav = speech(args.seconds, Path(tmp))
        t0 = time.perf_counter()
        backend = WarpBackend.load(LoadSettings())
        load_s = time.perf_counter() - t0
        rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        image = photo_1080p(Path(tmp)) if args.photo_1080p else None
        req = PortraitRequest(
            image=image, audio=wav, emotion=args.emotion, size=args.size,
            emotion_check=args.check, framing=args.framing,
        )  # fmt: skip
        t1 = time.perf_counter()
        res = backend.run(req)
        compute = time.perf_counter() - t1
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ffmpeg_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        media = res.media_seconds
        print(
            f"clip {media:.2f} s at {res.video.width}x{res.video.height}, 25 fps, "
            f"framing {res.metadata['framing']}"
        )
        print(f"load {load_s:.2f} s (once); stages {res.timings}")
        print(f"compute {compute:.2f} s → {compute / media:.3f} × real time")
        print(
            f"peak RSS: {peak:.0f} MiB (after load {rss_loaded:.0f} MiB, "
            f"+{peak - rss_loaded:.0f} MiB for the clip); ffmpeg {ffmpeg_peak:.0f} MiB"
        )
        res.video.path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
