"""The performance layer of the learned backend: a generated monophonic line (16th grid) →
a three-track MIDI that meets the attribute targets the corpus cannot teach.

Deterministic (seeded) and like the rule backend's: tempo from the targets; the line is the
melody; under it, the rule composer's accompaniment figures and bass
(:data:`pipelines.music.compose.PATTERNS`, :data:`~pipelines.music.compose.BASS`) on a chord per
bar chosen to fit the line (diatonic triads weighted like the rule composer's pools, the
dominant before the last bar, the tonic chord in it). The number of accompaniment notes per bar
is mixed between the two nearest figures (or pads held over two bars, under a dense line) so the
whole piece meets the note-density target; the accompaniment's centre (kept under the line),
then the bass's, is set so the mean pitch meets the register target (the line moves by whole
octaves only when it is far from its planned centre). Every note sounds ``articulation`` of its
inter-onset interval; velocities follow the rule composer's accents scaled to the dynamics
targets; the last note of the line is moved to the nearest tonic when it is not one (reported),
and the final chord is held to the exact end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.base import rng
from pipelines.music.compose import BASS, BEATS, NUMERALS, PATTERNS, QUALITIES, SCALES, Chord
from pipelines.music.mapping import AttributeTargets

STEPS = 4
"""16ths per beat."""
CANDIDATES: dict[str, tuple[tuple[int, str, float], ...]] = {
    "major": ((0, "maj", 6), (2, "min", 3), (4, "min", 1), (5, "maj", 6), (7, "maj", 6),
              (9, "min", 3)),
    "minor": ((0, "min", 8), (2, "dim", 2), (3, "maj", 2), (5, "min", 6), (7, "maj", 6),
              (8, "maj", 3), (10, "maj", 2)),
}  # fmt: skip
"""(root above the tonic, quality, prior weight): the chords a bar may take."""
MELODY_SHARE = 0.45
"""The generated line's share of the notes per beat; the accompaniment and bass play the rest."""


@dataclass(frozen=True)
class Performed:
    """A performed piece and what the layer did."""

    pm: Any
    """``pretty_midi.PrettyMIDI``: melody, accompaniment, bass."""
    tonic_forced: bool
    """The line's last note was moved to the tonic."""
    octave_shift: int
    """Semitones the line was moved (a multiple of 12)."""
    chords: list[str]
    patterns: list[str]
    """The accompaniment figure of each bar but the last."""


def chord(root: int, quality: str) -> Chord:
    name = NUMERALS[root] if quality in ("maj", "dom7") else NUMERALS[root].lower()
    suffix = {"dim": "°", "dom7": "7"}.get(quality, "")
    return Chord(root, tuple((root + i) % 12 for i in QUALITIES[quality]), name + suffix)


def near(pc: int, center: float, lo: float = -6, hi: float = 6) -> int:
    """The pitch with pitch class ``pc`` in [center+lo, center+hi)."""
    base = math.floor(center + lo)
    return base + (pc - base) % 12


def harmonise(
    line: list[tuple[int, int, int]], bars: int, tonic: int, mode: str, arousal: float
) -> list[Chord]:
    """One chord per bar: the candidate whose tones cover most of the bar's melody time, with
    the candidates' prior weights; the dominant before the last bar, the tonic chord in it."""
    scale = {(tonic + s) % 12 for s in SCALES[mode]}
    weight = np.zeros((bars, 12))
    for start, pitch, length in line:
        bar = min(start // (BEATS * STEPS), bars - 1)
        weight[bar, pitch % 12] += length + (2.0 if start % STEPS == 0 else 0.0)
    out: list[Chord] = []
    for b in range(bars):
        if b == bars - 1:
            out.append(chord(0, "maj" if mode == "major" else "min"))
            continue
        best, best_score = chord(0, "maj"), -math.inf
        total = weight[b].sum() or 1.0
        for root, quality, prior in CANDIDATES[mode]:
            if b == bars - 2 and root != 7:
                continue
            if root == 7 and arousal > 0.2:
                quality = "dom7"
            c = chord(root, quality)
            tones = {(tonic + t) % 12 for t in c.tones}
            cover = sum(weight[b, pc] for pc in tones) / total
            clash = sum(weight[b, pc] for pc in range(12) if pc not in tones | scale) / total
            score = (
                cover - clash + 0.15 * math.log(prior) + (0.3 if b % 4 == 0 and root == 0 else 0)
            )
            if score > best_score:
                best, best_score = c, score
        out.append(best)
    return out


def _figures(per_bar: float, arousal: float) -> list[tuple[str, int]]:
    """(pattern, notes per bar) candidates, the arousal family's first, by note count."""
    fam = 0 if arousal < -0.2 else 1 if arousal < 0.35 else 2
    own = [(n, len(o) * (3 if blk else 1)) for n, (o, blk, f) in PATTERNS.items() if fam in f]
    if min(c for _, c in own) <= per_bar <= max(c for _, c in own):
        return sorted(own, key=lambda x: x[1])
    every = [(n, len(o) * (3 if blk else 1)) for n, (o, blk, _) in PATTERNS.items()]
    return sorted(every, key=lambda x: (x[1], x[0]))


def bass_family(arousal: float) -> int:
    """The rule composer's bass figure (a key of :data:`BASS`) for an arousal."""
    return 0 if arousal < -0.2 else 1 if arousal < 0.35 else 2 if arousal < 0.75 else 3


def melody_plan(targets: AttributeTargets) -> tuple[float, float]:
    """(melody notes per beat, melody centre pitch) that leave the rest to the accompaniment
    and bass and give the register target overall."""
    per_beat = targets.note_density * 60.0 / targets.tempo
    melody = max(0.25, min(MELODY_SHARE * per_beat, per_beat - 1.0))
    bass = len(BASS[bass_family(targets.arousal)]) / BEATS
    bass = min(bass, max(per_beat - melody - 0.75, 0.25))
    acc = max(per_beat - melody - bass, 0.75)
    bass_c = max(34.0, min(50.0, targets.register - 22))
    centre = (targets.register * (melody + acc + bass) - bass * bass_c + 11 * acc) / (melody + acc)
    return melody, float(np.clip(centre, 55.0, 84.0))


def plan_accompaniment(needed: float, body: int, arousal: float) -> tuple[list[str], int]:
    """Figures for ``body`` bars whose notes (plus the bass's) add up to ``needed``; the bass
    family (notes per bar key of :data:`BASS`). A "tie" bar adds nothing: the pad and bass of
    the bar before it hold on (and so does its chord)."""
    bass_fam = bass_family(arousal)
    per_bar = needed / max(body, 1)
    while bass_fam and per_bar - len(BASS[bass_fam]) < 3:
        bass_fam -= 1  # a dense line leaves room for fewer bass notes
    want = per_bar - len(BASS[bass_fam])
    if want < 3:  # sparser than a pad and a bass note per bar: some pads hold over two bars
        slots = list(range(1, body - 1, 2))
        ties = min(len(slots), max(0, round(body - needed / 4)))
        tied = {slots[(2 * k + 1) * len(slots) // (2 * ties)] for k in range(ties)}
        return ["tie" if i in tied else "pad" for i in range(body)], 0
    figs = _figures(want, arousal)
    lo = max((f for f in figs if f[1] <= want), key=lambda f: f[1], default=figs[0])
    hi = min((f for f in figs if f[1] >= want), key=lambda f: f[1], default=figs[-1])
    n_hi = 0 if hi[1] == lo[1] else round((want - lo[1]) / (hi[1] - lo[1]) * body)
    chosen = [hi[0] if (i + 1) * n_hi // body > i * n_hi // body else lo[0] for i in range(body)]
    return chosen, bass_fam


def perform(
    line: list[tuple[int, int, int]],
    targets: AttributeTargets,
    *,
    tonic: int,
    n_beats: int,
    seed: int,
    melody_centre: float,
) -> Performed:
    """The MIDI of a generated monophonic ``line`` ((start 16th, pitch, dur), 4/4, sorted)
    performed to ``targets`` and lasting exactly ``n_beats`` beats."""
    import pretty_midi

    t = targets
    bar16 = BEATS * STEPS
    bars = max(1, math.ceil((n_beats - 1) / BEATS))
    end16 = n_beats * STEPS
    starts = [s for s, _, _ in line]
    pitches = np.array([p for _, p, _ in line], dtype=float)
    shift = 12 * round((melody_centre - float(pitches.mean())) / 12)
    if abs(melody_centre - float(pitches.mean())) <= 6:
        shift = 0
    mel_pitch = [int(np.clip(p + shift, 21, 108)) for p in pitches]
    forced = mel_pitch[-1] % 12 != tonic
    if forced:
        mel_pitch[-1] = near(tonic, mel_pitch[-1])
    iois = [b - a for a, b in zip(starts, [*starts[1:], end16], strict=True)]
    chords = harmonise(
        list(zip(starts, mel_pitch, iois, strict=True)), bars, tonic, t.mode, t.arousal
    )
    body = bars - 1
    total = t.note_density * n_beats * 60.0 / t.tempo
    figures, bass_fam = plan_accompaniment(total - len(line) - 4, body, t.arousal)
    for b, fig in enumerate(figures):
        if fig == "tie":
            chords[b] = chords[b - 1]

    # notes as (start 16th, length 16ths, pitch, accent, role); the final bar is held
    spb16 = 60.0 / t.tempo / STEPS
    notes: dict[str, list[tuple[int, int, int, float]]] = {"mel": [], "acc": [], "bass": []}
    for s, p, ioi in zip(starts, mel_pitch, iois, strict=True):
        notes["mel"].append((s, ioi, p, 6.0 + (4.0 if s % bar16 == 0 else 0.0)))
    notes["mel"][-1] = (*notes["mel"][-1][:3], 10.0)
    bass_c = max(34.0, min(50.0, t.register - 22))

    def accompany(acc_c: float, bass_c: float) -> None:
        notes["acc"], notes["bass"] = [], []
        for b, c in enumerate(chords):
            b0 = b * bar16
            voicing = sorted(near((tonic + x) % 12, acc_c) for x in c.tones)
            if b == bars - 1:
                notes["acc"] += [(b0, end16 - b0, p, 0.0) for p in voicing]
                notes["bass"].append((b0, end16 - b0, near(tonic, bass_c), 4.0))
                continue
            if figures[b] == "tie":
                continue
            hold = 2 if b + 1 < len(figures) and figures[b + 1] == "tie" else 1
            onsets, block, _ = PATTERNS[figures[b]]
            cycle = [0, 1, 2, 1] if len(onsets) == 4 else [0, 1, 2, 3, 2, 1]
            for i, on in enumerate(onsets):
                nxt = onsets[i + 1] if i + 1 < len(onsets) else BEATS * hold
                s, length = b0 + round(on * STEPS), round((nxt - on) * STEPS)
                accent = -4.0 + (3.0 if on % 2 == 0 else 0.0)
                if block:
                    notes["acc"] += [(s, length, p, accent) for p in voicing]
                else:
                    v = cycle[i % len(cycle)]
                    notes["acc"].append(
                        (s, length, voicing[v] if v < 3 else voicing[0] + 12, accent)
                    )
            bass_on = BASS[bass_fam]
            for i, on in enumerate(bass_on):
                nxt = bass_on[i + 1] if i + 1 < len(bass_on) else BEATS * hold
                pc = c.tones[0] if i % 4 != 2 else (c.tones[0] + 7) % 12
                s, length = b0 + round(on * STEPS), round((nxt - on) * STEPS)
                notes["bass"].append((s, length, near((tonic + pc) % 12, bass_c), 2.0))

    mel_sum, mel_mean = float(sum(mel_pitch)), float(np.mean(mel_pitch))
    acc_c, acc_top = mel_mean - 11, mel_mean - 8  # the chords stay under the line
    best: tuple[float, float, float] = (math.inf, acc_c, bass_c)
    for _ in range(4):  # the accompaniment's (then the bass's) centre sets the mean pitch
        accompany(acc_c, bass_c)
        n_acc, n_bass = len(notes["acc"]), len(notes["bass"])
        n_all = len(line) + n_acc + n_bass
        mean = (mel_sum + sum(n[2] for part in ("acc", "bass") for n in notes[part])) / n_all
        error = t.register - mean
        if abs(error) < best[0]:
            best = (abs(error), acc_c, bass_c)
        if abs(error) < 0.3:
            break
        wanted = acc_c + error * n_all / n_acc
        acc_c = float(np.clip(wanted, 40, acc_top))
        missing = (wanted - acc_c) * n_acc
        bass_c = float(np.clip(bass_c + missing / n_bass, 28, min(60.0, acc_c - 8)))
    if (best[1], best[2]) != (acc_c, bass_c):
        accompany(best[1], best[2])

    raw = np.array([n[3] for part in notes.values() for n in part], dtype=float)
    raw += rng(seed, "emogen-velocity").normal(0.0, 2.0, size=raw.size)
    std = raw.std()
    vel = t.velocity + (raw - raw.mean()) * (t.velocity_std / std if std > 0 else 0.0)
    vel = np.clip(np.round(vel), 1, 127).astype(int)

    pm = pretty_midi.PrettyMIDI(initial_tempo=t.tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(BEATS, 4, 0.0))
    pm.key_signature_changes.append(
        pretty_midi.KeySignature(tonic + (12 if t.mode == "minor" else 0), 0.0)
    )
    last16 = body * bar16
    k = 0
    for (role, part), program in zip(notes.items(), t.instruments, strict=True):
        inst = pretty_midi.Instrument(
            program=program, name={"mel": "Melody", "acc": "Accompaniment", "bass": "Bass"}[role]
        )
        final_onset = max(n[0] for n in part)
        for start, length, p, _ in part:
            held = start >= last16 and (role != "mel" or start == final_onset)
            sounding = float(end16 - start) if held else length * t.articulation
            on, off = start * spb16, min(end16, start + sounding) * spb16
            inst.notes.append(pretty_midi.Note(int(vel[k]), int(p), on, max(off, on + 0.03)))
            k += 1
        pm.instruments.append(inst)
    return Performed(pm, forced, int(shift), [c.label for c in chords], figures)
