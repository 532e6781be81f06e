"""Attributes → music: a seeded rule composer that follows :class:`AttributeTargets`.

The piece is in 4/4 and lasts exactly ``n_beats`` beats; the last bar (2-5 beats) holds
the tonic chord, preceded by the dominant (an authentic cadence). Harmony walks by function
(tonic → subdominant → dominant → tonic) with a chord per bar; 4-bar phrases open on the tonic
and close on a half or full cadence. The melody repeats a seeded motif (rhythm + contour) within
each phrase, with chord tones on strong beats. Accompaniment and bass figures are chosen by
arousal (sustained pads … driving arpeggios) and sized so the note count meets the density
target; velocities are scaled to the dynamics targets; every note is cut to the articulation
ratio. Register is met by moving the voices' centres and recomposing (at most three passes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.base import rng
from pipelines.music.mapping import AttributeTargets

BEATS = 4
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
QUALITIES = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "dom7": (0, 4, 10)}
# function → [(root above tonic, quality, weight)]; major triads favoured in major, minor in minor
POOLS: dict[str, dict[str, tuple[tuple[int, str, int], ...]]] = {
    "major": {
        "T": ((0, "maj", 6), (9, "min", 3), (4, "min", 1)),
        "S": ((5, "maj", 6), (2, "min", 4)),
    },
    "minor": {"T": ((0, "min", 8), (8, "maj", 2)), "S": ((5, "min", 7), (2, "dim", 3))},
}
NEXT = {"T": (("T", 2), ("S", 5), ("D", 3)), "S": (("S", 2), ("D", 6), ("T", 2)), "D": (("T", 1),)}
# accompaniment: name → (onsets in beats, all voices at once?, arousal family 0 low/1 mid/2 high)
PATTERNS: dict[str, tuple[tuple[float, ...], bool, tuple[int, ...]]] = {
    "pad": ((0.0,), True, (0,)),
    "half": ((0.0, 2.0), True, (0, 1)),
    "broken": ((0.0, 1.0, 2.0, 3.0), False, (0, 1)),
    "arp8": (tuple(i / 2 for i in range(8)), False, (1, 2)),
    "block": ((0.0, 1.0, 2.0, 3.0), True, (1, 2)),
    "arp16": (tuple(i / 4 for i in range(16)), False, (2,)),
    "drive8": (tuple(i / 2 for i in range(8)), True, (2,)),
}
BASS = {0: (0.0,), 1: (0.0, 2.0), 2: (0.0, 1.0, 2.0, 3.0), 3: tuple(i / 2 for i in range(8))}
NUMERALS = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")


@dataclass(frozen=True)
class Chord:
    root: int
    """Semitones above the tonic."""
    tones: tuple[int, ...]
    """Semitones above the tonic, root first (3 voices)."""
    label: str


def _chord(root: int, quality: str) -> Chord:
    name = NUMERALS[root] if quality in ("maj", "dom7") else NUMERALS[root].lower()
    suffix = {"dim": "°", "dom7": "7"}.get(quality, "")
    return Chord(root, tuple((root + i) % 12 for i in QUALITIES[quality]), name + suffix)


def progression(bars: int, mode: str, targets: AttributeTargets, seed: int) -> list[Chord]:
    """One chord per bar by harmonic function; phrases of 4; ends V → I."""
    gen = rng(seed, "harmony")
    tonic_q = "maj" if mode == "major" else "min"
    dom = _chord(7, "dom7" if targets.arousal > 0.2 or targets.tension > 0 else "maj")

    def forced(i: int) -> str | None:
        if i == bars - 1:
            return "T"
        if i == bars - 2:
            return "D"
        if (i % 4 == 0 and i < bars - 2) or (i % 4 == 3 and (i // 4) % 2):
            return "T"
        return "D" if i % 4 == 3 else None

    chords: list[Chord] = []
    func = "T"
    for i in range(bars):
        fixed = forced(i)
        if fixed is not None:
            func = fixed
        elif forced(i + 1) == "D" and func != "S":
            func = "S"  # a pre-dominant before every cadence
        else:
            names, weights = zip(*NEXT[func], strict=True)
            func = str(gen.choice(names, p=np.array(weights) / sum(weights)))
        if func == "T" and fixed is not None:
            chord = _chord(0, tonic_q)
        elif func == "D":
            chord = dom
        elif func == "S" and gen.random() < targets.tension * 0.25:
            chord = _chord(1, "maj")  # Neapolitan colour for tense music
        else:
            pool = POOLS[mode][func]
            w = np.array([x[2] for x in pool], dtype=float)
            k = int(gen.choice(len(pool), p=w / w.sum()))
            chord = _chord(pool[k][0], pool[k][1])
        chords.append(chord)
    return chords


def _family(arousal: float) -> int:
    return 0 if arousal < -0.2 else 1 if arousal < 0.35 else 2


def _bass_family(arousal: float) -> int:
    return 0 if arousal < -0.2 else 1 if arousal < 0.35 else 2 if arousal < 0.75 else 3


def choose_pattern(needed_per_bar: float, arousal: float) -> str:
    """The accompaniment pattern whose notes per bar best fill ``needed_per_bar``."""
    fam = _family(arousal)

    def cost(name: str) -> float:
        onsets, block, fams = PATTERNS[name]
        count = len(onsets) * (3 if block else 1)
        return abs(count - needed_per_bar) + (0.0 if fam in fams else 3.0)

    return min(PATTERNS, key=cost)


def _near(pc: int, center: float, lo: float = -6, hi: float = 6) -> int:
    """The pitch with pitch class ``pc`` in [center+lo, center+hi)."""
    base = math.floor(center + lo)
    return base + (pc - base) % 12


def compose(targets: AttributeTargets, *, seed: int, n_beats: int) -> tuple[Any, dict[str, Any]]:
    """A ``pretty_midi.PrettyMIDI`` following ``targets`` and a plan dict; seeded, exact length."""
    tonic = targets.tonic if targets.tonic is not None else int(rng(seed, "key").integers(12))
    bars = max(1, math.ceil((n_beats - 1) / BEATS))  # the final tonic holds 2-5 beats
    chords = progression(bars, targets.mode, targets, seed)
    spb = 60.0 / targets.tempo
    total = targets.note_density * n_beats * spb
    pattern = "pad"
    bass_fam = _bass_family(targets.arousal)
    body = bars - 1
    if body:
        mel_guess = max(0.5, min(1.5, 0.75 + 0.75 * targets.arousal)) * BEATS
        per_bar = (total - 5) / body  # the final bar holds 5 notes
        pattern = choose_pattern(per_bar - len(BASS[bass_fam]) - mel_guess, targets.arousal)
    onsets, block, _ = PATTERNS[pattern]
    acc_per_bar = len(onsets) * (3 if block else 1)
    mel_total = round(total - 5 - body * (acc_per_bar + len(BASS[bass_fam])))
    mel_total = max(body, min(16 * body, mel_total))
    counts = [
        mel_total * (i + 1) // max(body, 1) - mel_total * i // max(body, 1) for i in range(body)
    ]
    n_mel, n_acc, n_bass = mel_total + 1, body * acc_per_bar + 3, body * len(BASS[bass_fam]) + 1
    n_all = n_mel + n_acc + n_bass
    bass_c = max(34.0, min(50.0, targets.register - 22))
    mel_c = (targets.register * n_all - n_bass * bass_c + 11 * n_acc) / (n_mel + n_acc)
    plan = {
        "key_tonic": tonic,
        "mode": targets.mode,
        "bars": bars,
        "beats": n_beats,
        "chords": [c.label for c in chords],
        "accompaniment": pattern,
        "bass_notes_per_bar": len(BASS[bass_fam]),
    }
    best: tuple[float, Any] = (math.inf, None)
    for _ in range(4):
        mel_c = max(52.0, min(90.0, mel_c))
        pm = _render(
            targets, seed, tonic, chords, counts, pattern, bass_fam, mel_c, bass_c, n_beats
        )
        pitches = [n.pitch for inst in pm.instruments for n in inst.notes]
        error = targets.register - float(np.mean(pitches))
        if abs(error) < best[0]:
            best = (abs(error), pm)
        if abs(error) < 0.3:
            break
        mel_c += error * n_all / (n_mel + n_acc)
    pm = best[1]
    return pm, plan


def _render(
    t: AttributeTargets,
    seed: int,
    tonic: int,
    chords: list[Chord],
    counts: list[int],
    pattern: str,
    bass_fam: int,
    mel_c: float,
    bass_c: float,
    n_beats: int,
) -> Any:
    import pretty_midi

    gen = rng(seed, "melody")
    spb = 60.0 / t.tempo
    end_beat = float(n_beats)
    notes: dict[str, list[tuple[float, float, int, float]]] = {"mel": [], "acc": [], "bass": []}
    acc_c = mel_c - 11
    scale = SCALES[t.mode]
    leap = 1 + int(t.arousal > 0.3) + int(abs(t.tension) > 0.5)
    pitch = _near(tonic, mel_c)
    motif_steps: np.ndarray = np.zeros(16, dtype=int)
    motif_slots: dict[int, list[int]] = {}
    for bar, chord in enumerate(chords[:-1]):
        b0 = bar * BEATS
        phrase_pos = bar % 4
        if phrase_pos == 0:
            motif_steps = gen.choice(np.arange(-leap - 1, leap + 2), size=16)
            motif_slots = {}
        k = counts[bar]
        grid = next(g for g in (1.0, 0.5, 0.25) if BEATS / g >= k) if k > 2 else 2.0
        n_slots = int(BEATS / grid)
        if phrase_pos == 3:
            slots = [0, *range(n_slots - k + 1, n_slots)]
        else:
            if k not in motif_slots:
                w = np.array([3.0 if (s * grid) % 1 == 0 else 1.5 for s in range(1, n_slots)])
                rest = gen.choice(np.arange(1, n_slots), size=k - 1, replace=False, p=w / w.sum())
                motif_slots[k] = sorted([0, *rest.tolist()])
            slots = motif_slots[k]
        steps = -motif_steps if phrase_pos == 1 else motif_steps
        pcs_scale = [
            (tonic + s + (1 if t.mode == "minor" and s == 10 and chord.root == 7 else 0)) % 12
            for s in scale
        ]
        chord_pcs = [(tonic + c) % 12 for c in chord.tones]
        for j, slot in enumerate(slots):
            on = slot * grid
            nxt = slots[j + 1] * grid if j + 1 < len(slots) else BEATS
            target = pitch + int(steps[j % 16]) * 2
            if target > mel_c + 8 or target < mel_c - 8:
                target = pitch - int(steps[j % 16]) * 2
            strong = on % 2 == 0 or (phrase_pos == 3 and j == 0)
            pool = chord_pcs if strong else pcs_scale
            if j == 0 and chord.root == 0:
                pool = chord_pcs[1:2]  # the tonic chord's third: states the mode
            pitch = min((p for p in range(int(mel_c) - 10, int(mel_c) + 11) if p % 12 in pool),
                        key=lambda p: (abs(p - target), p))  # fmt: skip
            notes["mel"].append((b0 + on, nxt - on, pitch, 6.0 + (4 if on == 0 else 0)))
        voicing = sorted(_near((tonic + c) % 12, acc_c) for c in chord.tones)
        if t.tension > 0 and gen.random() < t.tension * 0.5:
            fifth = next(
                i for i, p in enumerate(voicing) if p % 12 == (tonic + chord.tones[2]) % 12
            )
            voicing[fifth] = _near((tonic + chord.root + 1) % 12, acc_c)  # flat-ninth clash
            voicing.sort()
        onsets, block, _ = PATTERNS[pattern]
        cycle = [0, 1, 2, 1] if len(onsets) == 4 else [0, 1, 2, 3, 2, 1]
        for i, on in enumerate(onsets):
            nxt = onsets[i + 1] if i + 1 < len(onsets) else BEATS
            acc = -4.0 + (3 if on % 2 == 0 else 0)
            if block:
                for p in voicing:
                    notes["acc"].append((b0 + on, nxt - on, p, acc))
            else:
                v = cycle[i % len(cycle)]
                p = voicing[v] if v < 3 else voicing[0] + 12
                notes["acc"].append((b0 + on, nxt - on, p, acc))
        bass_on = BASS[bass_fam]
        for i, on in enumerate(bass_on):
            nxt = bass_on[i + 1] if i + 1 < len(bass_on) else BEATS
            pc = chord.tones[0] if (i % 4) != 2 else (chord.tones[0] + 7) % 12
            notes["bass"].append((b0 + on, nxt - on, _near((tonic + pc) % 12, bass_c), 2.0))
    last = float((len(chords) - 1) * BEATS)
    hold = end_beat - last
    final = chords[-1]
    notes["mel"].append((last, hold, _near(tonic, mel_c, -8, 4), 10.0))
    for c in final.tones:
        notes["acc"].append((last, hold, _near((tonic + c) % 12, acc_c), 0.0))
    notes["bass"].append((last, hold, _near(tonic, bass_c), 4.0))

    raw = np.array([n[3] for part in notes.values() for n in part], dtype=float)
    raw += gen.normal(0.0, 2.0, size=raw.size)
    std = raw.std()
    vel = t.velocity + (raw - raw.mean()) * (t.velocity_std / std if std > 0 else 0.0)
    vel = np.clip(np.round(vel), 1, 127).astype(int)

    pm = pretty_midi.PrettyMIDI(initial_tempo=t.tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(BEATS, 4, 0.0))
    pm.key_signature_changes.append(
        pretty_midi.KeySignature(tonic + (12 if t.mode == "minor" else 0), 0.0)
    )
    k = 0
    for (role, part), program in zip(notes.items(), t.instruments, strict=True):
        inst = pretty_midi.Instrument(
            program=program, name={"mel": "Melody", "acc": "Accompaniment", "bass": "Bass"}[role]
        )
        for start, length, p, _ in part:
            is_final = start >= last
            dur = length if is_final else length * t.articulation
            s = start * spb
            e = min(end_beat, start + dur) * spb
            inst.notes.append(pretty_midi.Note(int(vel[k]), int(p), s, max(e, s + 0.03)))
            k += 1
        pm.instruments.append(inst)
    return pm
