"""Format compliance of the bundled small model with the Kardia four-part structure, and the
understanding step's accuracy on the labelled sentences of the tests.

.venv/bin/python benchmarks/dialogue_format.py [--per-label 2]

Modes: "free" — the model is asked for the structure and writes all of it (only
``<understanding>The user feels`` is pre-filled); "scaffold" — the default backend writes the
tags and the model fills each span. Reported per mode: well-formed (all four spans closed, in
order, valid ED emotion, real response), valid emotion, a usable response without a retry,
and the mean rubric total.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.base import LoadSettings
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend
from pipelines.dialogue.understand import EmotionReader
from tests.pipelines.dialogue.sentences import LABELLED


def understanding(reader: EmotionReader, name: str) -> None:
    hits = [reader.read(text).label == label for text, label in LABELLED]
    print(f"understanding ({name}): {sum(hits)}/{len(hits)} = {sum(hits) / len(hits):.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-label", type=int, default=2)
    args = ap.parse_args()
    backend = SmolLMBackend.load(LoadSettings())
    understanding(backend.reader, "nade + VADER + cues")
    understanding(EmotionReader.load(use_nade=False), "VADER + cues, no nade")
    import pipelines.dialogue.understand as u

    cues, vader = u.W_CUES, u.W_VADER
    u.W_CUES = u.W_VADER = 0.0
    understanding(backend.reader, "nade alone")
    u.W_CUES, u.W_VADER = cues, vader

    seen: dict[str, int] = {}
    messages = []
    for text, label in LABELLED:
        if seen.get(label, 0) < args.per_label:
            seen[label] = seen.get(label, 0) + 1
            messages.append(text)
    for mode in ("free", "scaffold"):
        backend.scaffold = mode == "scaffold"
        ok = emotion = usable = 0
        totals, t0 = [], time.perf_counter()
        for i, text in enumerate(messages):
            turn = backend.run(DialogueRequest(message=text, seed=i)).turn
            s = turn["structure"]
            ok += bool(s["format_ok"])
            emotion += not any("emotion" in f for f in s["fallbacks"])
            usable += not any("asked again" in f for f in s["fallbacks"])
            totals.append(turn["rubric"]["total"])
        n = len(messages)
        print(
            f"{mode:8s}: well-formed {ok}/{n} ({ok / n:.0%}), valid emotion {emotion / n:.0%}, "
            f"response without retry {usable / n:.0%}, rubric mean {statistics.mean(totals):.2f}, "
            f"{(time.perf_counter() - t0) / n:.1f} s/turn"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
