"""The understanding step's accuracy on the labelled sentences of the tests (nade + VADER +
cues, without nade, nade alone).

.venv/bin/python benchmarks/dialogue_format.py

(The bundled model no longer writes the Kardia structure itself: it left its scaffold in the
replies. It writes only the reply; see benchmarks/dialogue_replies.py.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.base import LoadSettings
from pipelines.dialogue.smollm import SmolLMBackend
from pipelines.dialogue.understand import EmotionReader
from tests.pipelines.dialogue.sentences import LABELLED


def understanding(reader: EmotionReader, name: str) -> None:
    hits = [reader.read(text).label == label for text, label in LABELLED]
    print(f"understanding ({name}): {sum(hits)}/{len(hits)} = {sum(hits) / len(hits):.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    backend = SmolLMBackend.load(LoadSettings())
    understanding(backend.reader, "nade + VADER + cues")
    understanding(EmotionReader.load(use_nade=False), "VADER + cues, no nade")
    import pipelines.dialogue.understand as u

    cues, vader = u.W_CUES, u.W_VADER
    u.W_CUES = u.W_VADER = 0.0
    understanding(backend.reader, "nade alone")
    u.W_CUES, u.W_VADER = cues, vader
    return 0


if __name__ == "__main__":
    sys.exit(main())
