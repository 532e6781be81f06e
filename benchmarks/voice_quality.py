"""Voice intelligibility grid: pocketsphinx WER per accent × emotion, and each accent's strength.

    .venv/bin/python benchmarks/voice_quality.py [--accents us,rp] [--emotions neutral,sad] \
        [--sentences everyday|tune2|heldout|accent-heldout] [--strength]

Goal (issues 3 and 12): ≤ 15 % for every emotion with the US accent, ≤ 30 % for every accent.
The accent rules were tuned on the everyday and ``tune2`` sentences (``measure.
SECOND_TUNING_SENTENCES``); ``heldout`` (``measure.HELD_OUT_SENTENCES``) had been looked at
before the rules were last changed; ``accent-heldout`` (``accent_sets.ACCENT_HELD_OUT_SENTENCES``)
was written before that change and never tuned on.

``--strength`` prints, instead of WER, how far each accent's phonemes (what the voice is given)
are from the American ones on the chosen sentences: the share of words spoken differently, the
share of phonemes changed, and counts of the accent features (th stopped, r dropped after a
vowel, r tapped, retroflex t, ʋ for v, monophthong eː/oː, -in for -ing, trap vowel changed).
"""

from __future__ import annotations

import argparse
import difflib
import re

from pipelines.base import LoadSettings
from pipelines.emotion import EMOTIONS
from pipelines.voice import measure
from pipelines.voice.accent_sets import ACCENT_HELD_OUT_SENTENCES
from pipelines.voice.accents import ACCENTS
from pipelines.voice.codeswitch import phonemize_sentence

SETS = {
    "everyday": measure.EVERYDAY_SENTENCES,
    "tune2": measure.SECOND_TUNING_SENTENCES,
    "heldout": measure.HELD_OUT_SENTENCES,
    "accent-heldout": ACCENT_HELD_OUT_SENTENCES,
}

FEATURES: dict[str, tuple[re.Pattern[str], int]] = {
    # feature: (pattern, +1 where the accent has more of it than American English, -1 fewer)
    "th stopped": (re.compile("[θð]"), -1),
    "r dropped": (re.compile("[ɚɝɹɾr]"), -1),
    "r tapped": (re.compile("ɾ"), +1),
    "retroflex t": (re.compile("ʈ"), +1),
    "ʋ for v": (re.compile("ʋ"), +1),
    "eː/oː": (re.compile("eː|oː"), +1),
    "-in for -ing": (re.compile("ɪŋ"), -1),
    "trap vowel": (re.compile("æ"), -1),
}


def _words(sentence: str, name: str) -> list[str]:
    ph = phonemize_sentence(sentence, ACCENTS[name])
    out = []
    for _, a, b in ph.words:
        w = "".join(ph.phonemes[a:b]).replace("ˈ", "").replace("ˌ", "")
        out.append(re.sub(r"[^\w\u0250-\u02af\u02d0æçðøŋœθ]", "", w))
    return out


def strength(name: str, sentences: tuple[str, ...]) -> dict[str, float]:
    """How different ``name``'s phonemes are from American English on ``sentences``."""
    words = differ = phones = changed = 0
    counts = dict.fromkeys(FEATURES, 0)
    for s in sentences:
        us, acc = _words(s, "us"), _words(s, name)
        if len(us) != len(acc):
            continue
        for u, a in zip(us, acc, strict=True):
            words += 1
            differ += u != a
            phones += len(u)
            m = difflib.SequenceMatcher(a=u, b=a, autojunk=False)
            changed += len(u) - sum(block.size for block in m.get_matching_blocks())
            for feat, (pattern, sign) in FEATURES.items():
                more = len(pattern.findall(a)) - len(pattern.findall(u))
                counts[feat] += more * sign > 0
    return {"words": differ / max(words, 1), "phonemes": changed / max(phones, 1), **counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accents", default=",".join(ACCENTS))
    ap.add_argument("--emotions", default=",".join(EMOTIONS))
    ap.add_argument("--sentences", default="everyday", choices=list(SETS))
    ap.add_argument("--strength", action="store_true", help="accent strength, not WER")
    args = ap.parse_args()
    sentences = SETS[args.sentences]
    if args.strength:
        print(f"{'accent':<10} {'words':>6} {'phon':>6} " + " ".join(f"{f:>12}" for f in FEATURES))
        for name in args.accents.split(","):
            r = strength(name, sentences)
            print(
                f"{name:<10} {r['words']:>6.1%} {r['phonemes']:>6.1%} "
                + " ".join(f"{r[f]:>12.0f}" for f in FEATURES)
            )
        return
    from pipelines.voice.piper import PiperBackend
    from pipelines.voice.request import VoiceRequest

    backend = PiperBackend.load(LoadSettings())
    text = " ".join(sentences)
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
