"""EmoGen stage 1 on a labelled MIDI collection (e.g. EMOPIA): emotion → the attributes of the
real piece nearest the emotion's cluster centre ("supervised clustering", Kang et al. 2023).

Labels come from the folder layout: a subfolder or a file-name prefix naming an EMOPIA quadrant
(``Q1/…mid``, ``Q3_0vLPYiPN7qY_0.mid`` as EMOPIA names its clips) or one of the core emotion
labels (``happy/…``, mapped to its quadrant). Every piece's attributes are measured with
:mod:`pipelines.music.attributes`; features are z-scored over the collection, each quadrant's
centre is the mean of its pieces, and the piece nearest that centre gives the targets.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS, EmotionError, EmotionSpec, canonical_label, emopia_quadrant
from pipelines.music.attributes import Attributes, extract_file
from pipelines.music.mapping import AttributeTargets, targets_from_attributes

FEATURES = (
    "tempo", "note_density", "mean_pitch", "pitch_range", "velocity_mean", "velocity_std",
    "articulation", "polyphony", "major_minor_triad_ratio", "mean_melodic_interval",
)  # fmt: skip
"""Numeric attributes that span the clustering space (plus major = 1 / minor = 0)."""

MIDI_SUFFIXES = (".mid", ".midi")
_QUADRANT = re.compile(r"^(q[1-4])(?:[_\-\s.]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class QuadrantRow:
    """Stage 1's result for one quadrant."""

    quadrant: str
    pieces: int
    """How many labelled pieces the quadrant has."""
    nearest: Path
    """The real piece nearest the quadrant centre."""
    attributes: Attributes
    """That piece's attributes: the quadrant's targets."""


def label_of(path: Path, root: Path) -> str | None:
    """EMOPIA quadrant named by a subfolder or the file-name prefix, or None."""
    parts = [*path.relative_to(root).parts[:-1], path.stem]
    for part in parts:
        m = _QUADRANT.match(part)
        if m:
            return m.group(1).upper()
        word = re.split(r"[_\-\s.]", part, maxsplit=1)[0]
        try:
            label = canonical_label(word)
        except EmotionError:
            continue
        if label in EMOTIONS:
            return emopia_quadrant(EmotionSpec.of(label))
    return None


def vector(a: Attributes) -> np.ndarray:
    return np.array([*(float(getattr(a, f)) for f in FEATURES), float(a.mode == "major")])


def stage1(pieces: list[tuple[Path, str, Attributes]]) -> dict[str, QuadrantRow]:
    """Per quadrant: z-scored centre, nearest real piece."""
    x = np.stack([vector(a) for _, _, a in pieces])
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    rows: dict[str, QuadrantRow] = {}
    for q in sorted({q for _, q, _ in pieces}):
        idx = [i for i, (_, label, _) in enumerate(pieces) if label == q]
        centre = z[idx].mean(axis=0)
        best = idx[int(np.argmin(((z[idx] - centre) ** 2).sum(axis=1)))]
        rows[q] = QuadrantRow(q, len(idx), pieces[best][0], pieces[best][2])
    return rows


@functools.lru_cache(maxsize=8)
def _scan(folder: str, signature: tuple[tuple[str, int, int], ...]) -> tuple[dict, tuple]:
    root = Path(folder)
    pieces: list[tuple[Path, str, Attributes]] = []
    skipped: list[str] = []
    for name, _, _ in signature:
        path = root / name
        label = label_of(path, root)
        if label is None:
            continue
        try:
            pieces.append((path, label, extract_file(path)))
        except PipelineError as exc:
            skipped.append(f"{name}: {exc}")
    if not pieces:
        raise PipelineError(
            f"No labelled MIDI files in {folder}: put them in Q1..Q4 (or emotion-named) "
            "subfolders, or name them like EMOPIA's 'Q1_xxx.mid'."
        )
    return stage1(pieces), tuple(skipped)


def analyse(folder: Path) -> tuple[dict[str, QuadrantRow], list[str]]:
    """Stage 1 over a folder (cached while its files are unchanged); also the skipped files."""
    if not folder.is_dir():
        raise PipelineError(
            f"Corpus folder {folder} does not exist — choose a folder of MIDI files."
        )
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
    signature = tuple(
        (str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in files
    )
    rows, skipped = _scan(str(folder.resolve()), signature)
    return rows, list(skipped)


def corpus_targets(
    folder: Path, spec: EmotionSpec
) -> tuple[AttributeTargets, list[str], dict[str, object]]:
    """Targets for ``spec`` from the nearest real piece of its quadrant; notes; a summary."""
    rows, skipped = analyse(folder)
    quadrant = emopia_quadrant(spec)
    if quadrant not in rows:
        have = ", ".join(rows) or "none"
        raise PipelineError(
            f"The corpus {folder} has no pieces labelled {quadrant} (it has: {have}); "
            "add some or choose another emotion."
        )
    row = rows[quadrant]
    targets, notes = targets_from_attributes(row.attributes, spec, "corpus piece")
    info: dict[str, object] = {
        "quadrant": quadrant,
        "nearest_piece": str(row.nearest),
        "pieces": {q: r.pieces for q, r in rows.items()},
        "skipped": skipped[:20],
    }
    return targets, notes, info
