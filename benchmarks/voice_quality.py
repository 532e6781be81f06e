"""Voice intelligibility grid: pocketsphinx WER of ten everyday sentences per accent × emotion.

    .venv/bin/python benchmarks/voice_quality.py [--accents us,rp] [--emotions neutral,sad] \
        [--sentences everyday|heldout]

Goal (issue 3): ≤ 15 % for every emotion with the US accent, ≤ 30 % for every accent. The
accent rules were tuned on the everyday sentences; ``--sentences heldout`` uses twelve others
(``measure.HELD_OUT_SENTENCES``, issue 12).
"""

from __future__ import annotations

import argparse

from pipelines.base import LoadSettings
from pipelines.emotion import EMOTIONS
from pipelines.voice import measure
from pipelines.voice.accents import ACCENTS
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accents", default=",".join(ACCENTS))
    ap.add_argument("--emotions", default=",".join(EMOTIONS))
    ap.add_argument("--sentences", default="everyday", choices=["everyday", "heldout"])
    args = ap.parse_args()
    backend = PiperBackend.load(LoadSettings())
    held = args.sentences == "heldout"
    text = " ".join(measure.HELD_OUT_SENTENCES if held else measure.EVERYDAY_SENTENCES)
    emotions = args.emotions.split(",")
    print(f"{'accent':<10} " + " ".join(f"{e[:8]:>8}" for e in emotions))
    for accent in args.accents.split(","):
        row = []
        for emotion in emotions:
            clip = backend.run(VoiceRequest(text=text, accent=accent, emotion=emotion))
            heard = measure.transcribe(clip.artifacts["audio"])  # type: ignore[arg-type]
            row.append(f"{measure.wer(text, heard):>8.1%}")
        print(f"{accent:<10} " + " ".join(row), flush=True)


if __name__ == "__main__":
    main()
