"""Voice speed: real-time factor (compute ÷ audio seconds) per emotion, and first-audio latency.

    .venv/bin/python benchmarks/voice_speed.py [--emotions happy,sad] [--words 300] [--threads N]

Prints, per emotion, the RTF of one sentence (median of ``--repeats`` runs) and of a ~300-word
text, each for synthesis with prosody (``PiperBackend.stream``: Piper + PSOLA + tilt + pauses) and
for the whole ``run`` (also the emotion-check measurements, F0 plot and subtitles), then the time to
the first audio chunk of the long text. Goal (issue 3): RTF ≤ 0.1 with prosody on 2 cores,
first audio < 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from pipelines.base import LoadSettings
from pipelines.emotion import EMOTIONS
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest

SENTENCE = "I can't believe we finally finished the whole project today, after all this time."
PARAGRAPH = (
    "The morning was quiet when we left the house and walked down to the harbour. "
    "Small boats moved slowly across the water, and the fishermen were already sorting "
    "their nets. My sister wanted to buy fresh bread, so we stopped at the bakery on the "
    "corner, where the owner greeted us like old friends. "
)


def long_text(words: int) -> str:
    out: list[str] = []
    while len(out) < words:
        out.extend(PARAGRAPH.split())
    text = " ".join(out[:words])
    return text if text.endswith(".") else text + "."


def rtf(backend: PiperBackend, req: VoiceRequest, repeats: int) -> tuple[float, float, float]:
    """(stream RTF, full-run RTF, audio seconds), each RTF the median of ``repeats`` runs."""
    sr = backend.sample_rate
    streams, fulls = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        samples = sum(len(c.audio) for c in backend.stream(req))
        t1 = time.perf_counter()
        result = backend.run(req)
        t2 = time.perf_counter()
        streams.append((t1 - t0) / (samples / sr))
        fulls.append((t2 - t1) / result.media_seconds)
    return statistics.median(streams), statistics.median(fulls), samples / sr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emotions", default=",".join(EMOTIONS))
    ap.add_argument("--words", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (median shown)")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = default)")
    args = ap.parse_args()
    t = time.perf_counter()
    backend = PiperBackend.load(LoadSettings(threads=args.threads))
    print(f"load {time.perf_counter() - t:.2f} s · {os.cpu_count()} CPUs · load avg", end=" ")
    print(" ".join(f"{x:.2f}" for x in os.getloadavg()))
    backend.run(VoiceRequest(text="Warm up."))
    text = long_text(args.words)
    print(f"{'emotion':<13} {'sentence':>20} {f'{args.words} words':>22}")
    print(f"{'':<13} {'prosody':>9} {'full':>9}   {'prosody':>9} {'full':>9} {'audio s':>8}")
    for emotion in args.emotions.split(","):
        s_pro, s_full, _ = rtf(backend, VoiceRequest(text=SENTENCE, emotion=emotion), args.repeats)
        l_pro, l_full, secs = rtf(backend, VoiceRequest(text=text, emotion=emotion), 1)
        row = f"{s_pro:>9.3f} {s_full:>9.3f}   {l_pro:>9.3f} {l_full:>9.3f} {secs:>8.1f}"
        print(f"{emotion:<13} {row}", flush=True)
    t = time.perf_counter()
    next(iter(backend.stream(VoiceRequest(text=text, emotion="happy"))))
    print(f"first audio chunk of the {args.words}-word text: {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
