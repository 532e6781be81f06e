"""Voice naturalness: DNSMOS per emotion vs plain Piper, with prosody and intelligibility.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/voice_naturalness.py \
        [--set tune|tune2|heldout|all] [--emotions happy,sad] [--method psola|world] [--voice joe]

For each emotion (and "piper": the bare network, neutral, no post-processing) and each sentence
set, prints DNSMOS SIG/BAK/OVRL/P.808 (mean over sentences, each sentence scored alone), the
P.808 gap to plain Piper, F0 median (Hz), energy (dBFS), rate (phonemes/s) and the pocketsphinx
WER of all the set's sentences. Tuning sentences are the ones the pitch method was chosen on;
"tune2" was meant as held out but was seen before the last change; held-out sentences were
written after it and never tuned on (issue 12's target: per-emotion P.808 ≥ plain Piper − 0.15
on them).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from pipelines.base import LoadSettings
from pipelines.emotion import EMOTIONS
from pipelines.media import AudioClip
from pipelines.voice import dnsmos, measure
from pipelines.voice.accents import accent
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest, plan

TUNE = (
    "I can't believe we finally finished the whole project today, after all this time.",
    "Could you please send me the report before lunch tomorrow?",
    "The weather is nice today so we can walk to the park.",
    "She likes to read a good book before going to sleep.",
    "Do you want a cup of coffee or a glass of water?",
    "They opened a new shop next to the old bank.",
)
SETS = {
    "tune": TUNE,
    "tune2": measure.SECOND_TUNING_SENTENCES,
    "heldout": measure.HELD_OUT_SENTENCES,
}


def plain_piper(backend: PiperBackend, sentence: str, seed: int) -> AudioClip:
    """The network's own audio for one sentence: neutral, default settings, nothing after."""
    req = VoiceRequest(text=sentence, seed=seed)
    raw = backend._network(sentence, 0, accent("us"), plan(req), seed)
    return AudioClip(raw.audio, backend.sample_rate)


def row(backend: PiperBackend, sentences: tuple[str, ...], emotion: str, voice: str) -> dict:
    scores, f0, energy, rate, refs, heard = [], [], [], [], [], []
    for i, s in enumerate(sentences):
        if emotion == "piper":
            clip = plain_piper(backend, s, i)
            m = measure.measure(clip)
        else:
            res = backend.run(VoiceRequest(text=s, emotion=emotion, voice=voice, seed=i))
            clip = res.artifacts["audio"]  # type: ignore[assignment]
            m = measure.VoiceMeasures(**res.metadata["measures"])
        scores.append(dnsmos.score(clip.samples, clip.sample_rate))
        f0.append(m.f0_median_hz)
        energy.append(m.energy_db)
        rate.append(m.rate_phones_s)
        refs.append(s)
        heard.append(measure.transcribe(clip))
    errors = sum(
        measure.wer(r, h) * len(measure.normalise_words(r))
        for r, h in zip(refs, heard, strict=True)
    )
    words = sum(len(measure.normalise_words(r)) for r in refs)
    return {
        "sig": statistics.mean(d.sig for d in scores),
        "bak": statistics.mean(d.bak for d in scores),
        "ovrl": statistics.mean(d.ovrl for d in scores),
        "p808": statistics.mean(d.p808 for d in scores),
        "p808_min": min(d.p808 for d in scores),
        "f0": float(np.median(f0)),
        "energy": statistics.mean(energy),
        "rate": statistics.mean(rate),
        "wer": errors / words,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="all", choices=[*SETS, "all"])
    ap.add_argument("--emotions", default=",".join(EMOTIONS))
    ap.add_argument("--method", default="", help="pitch method (default: the backend's)")
    ap.add_argument("--voice", default="joe")
    args = ap.parse_args()
    backend = PiperBackend.load(LoadSettings())
    if args.method:
        backend.pitch_method = args.method
    print(f"pitch method: {getattr(backend, 'pitch_method', 'world')} · voice: {args.voice}")
    for name in list(SETS) if args.set == "all" else [args.set]:
        sentences = SETS[name]
        print(f"\n{name} set ({len(sentences)} sentences)")
        head = f"{'emotion':<13} {'SIG':>5} {'BAK':>5} {'OVRL':>5} {'P808':>5} {'min':>5} {'Δ':>6}"
        print(head + f" {'F0 Hz':>6} {'dBFS':>6} {'ph/s':>5} {'WER':>6}")
        base = row(backend, sentences, "piper", args.voice)
        for emotion in ["piper", *args.emotions.split(",")]:
            r = base if emotion == "piper" else row(backend, sentences, emotion, args.voice)
            print(
                f"{emotion:<13} {r['sig']:>5.2f} {r['bak']:>5.2f} {r['ovrl']:>5.2f} "
                f"{r['p808']:>5.2f} {r['p808_min']:>5.2f} {r['p808'] - base['p808']:>+6.2f} "
                f"{r['f0']:>6.1f} {r['energy']:>6.1f} {r['rate']:>5.1f} {r['wer']:>6.1%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
