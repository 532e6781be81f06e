"""Learned music (music/emogen, issue 17) beside the rule backend: attribute control, the model's
own control-following vs shuffled controls, a 4-bar copy check against the training corpus, and
speed (compute ÷ music time).

* Attribute accuracy: emotions × seeds × 30 s, best-of-4, per attribute (measure.py's checks, plus
  "tonic ending": the melody's last note is the planned tonic). Two sets: the 8 core emotions,
  seeds 0-4 (the set the controls mapping was tuned on) and 8 mood words, seeds 100-104
  (held out).
* Model alone vs shuffled: one candidate (n=1), the line's own controls measured with
  :mod:`pipelines.music.learned.controls`, hit = the bucket the emotion asks for; "shuffled"
  decodes with the controls of another emotion and seed and scores against the same request.
* Copy check: every 4-bar window (≥ 4 notes) of each chosen line, transposed to start on 0,
  looked up among the training pieces' windows (the corpus .npz whose hash the checkpoint names).
* Speed: a 30 s piece, best-of-4 with audio, warm, per core emotion.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/music_learned.py [--checkpoint X.npz]
        [--corpus C.npz] [--seeds 5] [--rolls DIR]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from pipelines.base import LoadSettings, rng
from pipelines.emotion import EMOTIONS, EmotionSpec
from pipelines.music.learned import controls as C
from pipelines.music.learned import vocab as V
from pipelines.music.learned.backend import OPTION, EmoGenBackend, controls_for, plan_for
from pipelines.music.learned.decode import generate
from pipelines.music.mapping import targets_for
from pipelines.music.request import MusicRequest
from pipelines.music.rules import RulesBackend, length_in_beats, resolve_targets

MOODS = ("calm", "tender", "tense", "excited", "nostalgic", "triumphant", "relaxed", "gloomy")
COLUMNS = ("tempo", "dynamics", "articulation", "duration", "tonic_end", "key", "mode",
           "register", "note_density", "overall")  # fmt: skip
BUCKETED = ("KEY", "MODE", "DENS", "REG", "TRIAD", "INTV")
CORPUS_DIR = Path.home() / ".cache/affect-studio/envs/music-train/corpus"


def row(result: Any) -> dict[str, float]:
    m = result.metadata
    hits = {c["attribute"]: float(c["hit"]) for c in m["attribute_checks"]}
    pm = pretty_midi.PrettyMIDI(io.BytesIO(result.artifacts["midi"].data))
    melody = max(pm.instruments[0].notes, key=lambda n: (n.start, n.pitch))
    hits["tonic_end"] = float(melody.pitch % 12 == m["plan"]["key_tonic"])
    hits["overall"] = m["attribute_accuracy"]
    return hits


def grid(backend: Any, labels: tuple[str, ...], seeds: list[int]) -> tuple[dict, list[Any]]:
    """Mean hits per column, and the results."""
    results = [
        backend.run(MusicRequest(emotion=e, seconds=30, seed=s, render=False))
        for e in labels
        for s in seeds
    ]
    rows = [row(r) for r in results]
    return {c: float(np.mean([r[c] for r in rows])) for c in COLUMNS}, results


def print_table(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'backend':<10}" + "".join(f"{c[:9]:>10}" for c in COLUMNS))
    for name, r in results.items():
        print(f"{name:<10}" + "".join(f"{r[c]:>10.2f}" for c in COLUMNS))


def model_alone(emo: EmoGenBackend, title: str, labels: tuple[str, ...], seeds: list[int]) -> None:
    hits: dict[str, dict[str, list[float]]] = {"requested": defaultdict(list),
                                              "shuffled": defaultdict(list)}  # fmt: skip
    for i, label in enumerate(labels):
        for s in seeds:
            other = labels[(i + 1 + s % (len(labels) - 1)) % len(labels)]  # never itself
            req = MusicRequest(emotion=label, seconds=30, seed=s, render=False)
            targets, _, _ = resolve_targets(req)
            tonic = int(rng(s, "key").integers(12))  # as the backend picks it
            wanted = controls_for(targets, tonic, emo.edges)
            shuffled_t = targets_for(EmotionSpec.parse(other))
            shuffled = controls_for(shuffled_t, (tonic + 1 + s % 11) % 12, emo.edges)
            plan = plan_for(length_in_beats(req, targets.tempo))
            for kind, ctrl in (("requested", wanted), ("shuffled", shuffled)):
                (cand,) = generate(emo.model, ctrl, plan, n=1, seed=s)
                got = C.to_tokens(C.measure(cand.notes, plan.meter, plan.bars), "4/4", emo.edges)
                for name in BUCKETED:
                    if wanted[name] is None:
                        continue  # asked as "any"
                    hits[kind][name].append(float(got[name] == wanted[name]))
                    if name in ("DENS", "REG", "INTV"):
                        near = abs(got[name] - wanted[name]) <= 1
                        hits[kind][name + "±1"].append(float(near))
    names = list(hits["requested"])
    print(f"\nModel alone, {title} (n=1, the line's own controls; hit = the requested bucket)")
    print(f"{'controls':<11}" + "".join(f"{n:>8}" for n in names))
    for kind in ("requested", "shuffled"):
        print(f"{kind:<11}" + "".join(f"{np.mean(hits[kind][n]):>8.2f}" for n in names))


def windows(notes: np.ndarray, n_bars: int, bar: int = 16) -> set[int]:
    """4-bar windows with ≥ 4 notes, as hashes of (start within the window, pitch - first
    pitch) sequences."""
    out: set[int] = set()
    if len(notes) == 0:
        return out
    order = np.lexsort((notes[:, 1], notes[:, 0]))
    notes = notes[order]
    for b in range(max(0, n_bars - 3)):
        sel = notes[(notes[:, 0] >= b * bar) & (notes[:, 0] < (b + 4) * bar)]
        if len(sel) >= 4:
            rel = np.stack([sel[:, 0] - b * bar, sel[:, 1] - sel[0, 1]], axis=1)
            out.add(hash(rel.astype(np.int64).tobytes()))
    return out


def copy_check(emo: EmoGenBackend, corpus: Path | None, results: list[Any]) -> None:
    from pipelines.music.learned.corpus import load_corpus

    want = emo.model.config.get("corpus_sha256")
    if corpus is None and CORPUS_DIR.is_dir():
        for path in sorted(CORPUS_DIR.glob("*.npz")):
            if load_corpus(path)[1].get("sha256") == want:
                corpus = path
    if corpus is None:
        print(f"\n4-bar copy check: no corpus with the checkpoint's hash {want} found; skipped.")
        return
    pieces, info = load_corpus(corpus)
    seen: set[int] = set()
    for p in pieces:
        if p["ts"] == "4/4":
            seen |= windows(np.asarray(p["notes"]), int(p["n_bars"]))
    probe = next(p for p in pieces if p["ts"] == "4/4" and int(p["n_bars"]) >= 8)
    as_generated = [tuple(int(x) for x in n) for n in probe["notes"]]  # python ints, like V.decode
    found = windows(np.asarray(as_generated), int(probe["n_bars"]))
    assert found and found <= seen, "the copy check must find a training piece's own windows"
    copies = total = 0
    for r in results:
        notes, _ = V.decode([V.TOKEN_ID[t] for t in _tokens(r)])
        mine = windows(np.asarray(notes), r.metadata["plan"]["bars"])
        total += len(mine)
        copies += len(mine & seen)
    print(f"\n4-bar copy check vs {corpus.name} ({len(pieces)} pieces, {len(seen)} 4/4 windows, "
          f"hash match {info.get('sha256') == want}): {copies} of {total} generated windows "
          "occur in the corpus (transposition-invariant)")  # fmt: skip


def _tokens(result: Any) -> list[str]:
    import json

    return list(json.loads(result.artifacts["tokens"].data)["emogen_tokens"])


def speed(emo: EmoGenBackend) -> None:
    emo.run(MusicRequest(emotion="happy", seconds=30, seed=99))
    print("\nSpeed: 30 s piece, best-of-4, with audio (warm)")
    ratios = []
    for label in EMOTIONS:
        t0 = time.perf_counter()
        r = emo.run(MusicRequest(emotion=label, seconds=30, seed=1))
        total = time.perf_counter() - t0
        ratios.append(total / r.media_seconds)
        t = r.timings
        print(f"  {label:<13} {total:6.2f} s  ratio {ratios[-1]:.3f}  compose+best-of-4 "
              f"{t['compose']:.2f} s  render {t.get('render', 0):.2f} s")  # fmt: skip
    print(f"  compute ÷ music time: median {statistics.median(ratios):.3f}, worst "
          f"{max(ratios):.3f} (goal: 30 s piece ≤ 5 s, ratio ≤ 0.167)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rolls", type=Path, default=None, help="save 4 piano-roll PNGs here")
    args = parser.parse_args()
    opts = {OPTION: str(args.checkpoint)} if args.checkpoint else {}
    emo = EmoGenBackend.load(LoadSettings(options=opts))
    rules = RulesBackend.load(LoadSettings())
    cfg = emo.model.config
    print(f"checkpoint {emo.checkpoint} ({cfg['n_layer']} layers, d {cfg['d_model']}, "
          f"{cfg.get('tokens_seen')} tokens seen, {cfg.get('pieces')} pieces)")  # fmt: skip
    tuned, held = list(range(args.seeds)), [100 + s for s in range(args.seeds)]
    chosen: list[Any] = []
    for title, labels, seeds in (
        (f"Tuned set: 8 core emotions × seeds 0-{args.seeds - 1} × 30 s", EMOTIONS, tuned),
        (f"Held-out set: 8 mood words × seeds 100-{99 + args.seeds} × 30 s", MOODS, held),
    ):
        t0 = time.perf_counter()
        mine, runs = grid(emo, labels, seeds)
        chosen += runs
        results = {"emogen": mine, "rules": grid(rules, labels, seeds)[0]}
        print_table(f"{title}  ({time.perf_counter() - t0:.0f} s)", results)
        forced = np.mean([r.metadata["tonic_forced"] for r in runs])
        print(f"emogen: last note moved to the tonic in {forced:.0%} of the pieces")
    model_alone(emo, "tuned set", EMOTIONS, tuned)
    model_alone(emo, "held-out set", MOODS, held)
    copy_check(emo, args.corpus, chosen)
    speed(emo)
    if args.rolls:
        args.rolls.mkdir(parents=True, exist_ok=True)
        for label in ("happy", "sad", "angry", "calm"):
            r = emo.run(MusicRequest(emotion=label, seconds=30, seed=0, render=False))
            (args.rolls / f"emogen_{label}.png").write_bytes(r.artifacts["pianoroll"].data)
            m = r.metadata
            print(f"  roll {label}: {m['key']}, controls {' '.join(m['controls'][1:])}, "
                  f"line {m['line_controls']}, accuracy {m['attribute_accuracy']:.2f}, "
                  f"tonic forced {m['tonic_forced']}")  # fmt: skip


if __name__ == "__main__":
    main()
