"""Training corpora for the learned music generator: pieces as notes on the 16th grid + a meter.

A piece is ``{"notes": int array (N, 3) of (start_16th, pitch, dur_16th), "ts": "4/4",
"n_bars": int, "source": collection, "name": str}``. Two sources:

* music21's bundled corpus (:func:`convert_bundled`, run inside the ``music-train`` env where
  music21 lives): abc books are split into tunes and parsed one at a time; pieces whose meter
  changes or is not one of the model's (4/4, 3/4, 2/4, 6/8) are dropped, failures are counted.
  A pickup bar is shifted so that bar lines fall on the grid.
* a folder of ``.mid`` files (:func:`convert_midi_folder`, in the studio's env via pretty_midi).

Corpora are cached as ``.npz`` (see :func:`save_corpus`), keyed by a hash of what was converted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError
from pipelines.music.learned.vocab import BAR_16THS, PITCH_MAX, PITCH_MIN

CONVERTER_VERSION = 1
SHIPPED_COLLECTIONS: tuple[str, ...] = (
    "oneills1850",
    "ryansMammoth",
    "airdsAirs",
    "bach",
    "palestrina",
    "monteverdi",
)
"""music21 corpus folders the shipped checkpoint is trained on (no Essen: non-commercial)."""
ESSEN = "essenFolksong"
SHIPPED_LICENCE = (
    "Weights trained on music21's bundled corpus without the Essen folk-song collection "
    "(non-commercial licence): O'Neill's 1850, Ryan's Mammoth Collection and Aird's Airs folk "
    "tunes, J. S. Bach, Palestrina and Monteverdi — public-domain music in encodings the "
    "music21 authors distribute with permission (see music21/corpus/license.txt)."
)
ABC_SUFFIXES = (".abc",)
SCORE_SUFFIXES = (".krn", ".mxl", ".xml", ".musicxml")

Piece = dict[str, Any]


def corpus_items(root: Path, collections: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(collection, path, abc text or "")`` for every tune/score of the collections."""
    items: list[tuple[str, str, str]] = []
    for coll in collections:
        for path in sorted((root / coll).rglob("*")):
            suffix = path.suffix.lower()
            if suffix in ABC_SUFFIXES:
                text = path.read_text(encoding="utf-8", errors="replace")
                for chunk in re.split(r"(?m)^(?=X:)", text):
                    if chunk.startswith("X:"):
                        items.append((coll, str(path), chunk))
            elif suffix in SCORE_SUFFIXES:
                items.append((coll, str(path), ""))
    return items


METER_MAP: dict[str, tuple[str, float]] = {
    **{ts: (ts, 1.0) for ts in BAR_16THS},
    "2/2": ("4/4", 1.0),
    "4/2": ("4/4", 0.5),
    "3/2": ("3/4", 0.5),
    "6/4": ("6/8", 0.5),
}
"""Notated meter → (model meter, time scale): half-note meters (Palestrina's 4/2) are read with
halved values; cut time keeps its values in a 4/4 bar."""


def _meter(score: Any) -> tuple[str, float] | None:
    meters = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if len(meters) != 1:
        return None
    (ts,) = meters
    return METER_MAP.get(ts)


def score_to_piece(score: Any, source: str, name: str) -> Piece | str:
    """Notes + meter of a music21 score, or the reason it is dropped."""
    meter = _meter(score)
    if meter is None:
        return "meter"
    ts, scale = meter
    bar_len = BAR_16THS[ts]
    parts = list(score.parts) if score.hasPartLikeStreams() else [score]
    shift = 0
    measures = parts[0].getElementsByClass("Measure")
    if len(measures) > 1:
        first = Fraction(measures[0].duration.quarterLength) * 4 * Fraction(scale)
        if 0 < first < bar_len:
            shift = round(bar_len - first)
    notes: set[tuple[int, int, int]] = set()
    for part in parts:
        for el in part.stripTies().flatten().notes:
            ql = float(el.duration.quarterLength)
            if ql <= 0:
                continue  # grace notes
            start = round(float(el.offset) * 4 * scale) + shift
            dur = max(1, round(ql * 4 * scale))
            for p in el.pitches:
                if PITCH_MIN <= p.midi <= PITCH_MAX:
                    notes.add((start, int(p.midi), dur))
    if len(notes) < 8:
        return "too few notes"
    arr = np.asarray(sorted(notes), dtype=np.int32)
    arr[:, 0] -= (arr[:, 0].min() // bar_len) * bar_len
    n_bars = int(arr[:, 0].max()) // bar_len + 1
    return {"notes": arr, "ts": ts, "n_bars": n_bars, "source": source, "name": name}


def convert_item(item: tuple[str, str, str]) -> Piece | str:
    """Parse one corpus item (music21 needed); a piece or the reason it was skipped."""
    import music21

    coll, path, text = item
    try:
        if text:
            score = music21.converter.parse(text, format="abc")
            title = re.search(r"(?m)^T:\s*(.*)$", text)
            name = f"{Path(path).name}:{text.split(chr(10), 1)[0][2:].strip()}"
            if title:
                name += f" {title.group(1).strip()}"
        else:
            score = music21.converter.parse(path)
            name = Path(path).name
        return score_to_piece(score, coll, name)
    except Exception as exc:  # music21 raises many types on malformed tunes
        return f"parse error ({type(exc).__name__})"


def convert_bundled(
    collections: Iterable[str],
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> tuple[list[Piece], Counter[str]]:
    """Convert music21's bundled corpus (in the music-train env): pieces and skip counts.
    ``limit`` takes an evenly spaced subset of the items (for quick runs)."""
    import multiprocessing

    import music21

    root = Path(music21.__file__).parent / "corpus"
    items = corpus_items(root, collections)
    if limit is not None and limit < len(items):
        idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
        items = [items[i] for i in idx]
    pieces: list[Piece] = []
    skipped: Counter[str] = Counter()
    results: Iterable[Piece | str]
    pool = multiprocessing.Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(convert_item, items, chunksize=4) if pool else map(convert_item, items)
        for k, res in enumerate(results, 1):
            if isinstance(res, str):
                skipped[res] += 1
            else:
                pieces.append(res)
            if progress is not None and (k % 200 == 0 or k == len(items)):
                progress(k, len(items))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return pieces, skipped


def convert_midi_folder(folder: Path) -> tuple[list[Piece], Counter[str]]:
    """Pieces from every ``.mid``/``.midi`` under ``folder`` (studio env, pretty_midi): the
    first time signature gives the meter (none: 4/4), note times go to the nearest 16th."""
    import pretty_midi

    from pipelines.music.attributes import load_midi

    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise PipelineError(f"No .mid files under {folder} — give a folder of MIDI files.")
    pieces: list[Piece] = []
    skipped: Counter[str] = Counter()
    for path in files:
        try:
            pm: pretty_midi.PrettyMIDI = load_midi(path)
        except PipelineError:
            skipped["unreadable"] += 1
            continue
        sigs = pm.time_signature_changes
        meter = METER_MAP.get(f"{sigs[0].numerator}/{sigs[0].denominator}" if sigs else "4/4")
        if meter is None or len({(s.numerator, s.denominator) for s in sigs}) > 1:
            skipped["meter"] += 1
            continue
        ts, scale = meter
        res = pm.resolution / scale

        def step(t: float, pm: pretty_midi.PrettyMIDI = pm, res: float = res) -> int:
            return round(pm.time_to_tick(t) * 4 / res)

        notes = {
            (step(n.start), n.pitch, max(1, step(n.end) - step(n.start)))
            for inst in pm.instruments
            if not inst.is_drum
            for n in inst.notes
            if PITCH_MIN <= n.pitch <= PITCH_MAX
        }
        if len(notes) < 8:
            skipped["too few notes"] += 1
            continue
        arr = dedupe(np.asarray(sorted(notes), dtype=np.int32))
        bar_len = BAR_16THS[ts]
        arr[:, 0] -= (arr[:, 0].min() // bar_len) * bar_len
        n_bars = int(arr[:, 0].max()) // bar_len + 1
        pieces.append(
            {"notes": arr, "ts": ts, "n_bars": n_bars, "source": "midi", "name": path.name}
        )
    return pieces, skipped


def split_pieces(n: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """(train, held-out) piece indices of a corpus: 5 % held out, at least 3."""
    order = np.random.default_rng(seed).permutation(n).tolist()
    k = max(3, round(0.05 * n))
    return sorted(order[k:]), sorted(order[:k])


def cache_path(root: Path, collections: Iterable[str], limit: int | None, version: str) -> Path:
    """Where a converted bundled corpus is cached (hash of what would be converted)."""
    key = json.dumps([CONVERTER_VERSION, sorted(collections), limit, version])
    return root / f"bundled-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def dedupe(notes: np.ndarray) -> np.ndarray:
    """Notes sorted by (start, pitch), one per (start, pitch): the longest (unisons of two voices
    are one sounding note, as in the token stream)."""
    order = np.lexsort((-notes[:, 2], notes[:, 1], notes[:, 0]))
    notes = notes[order]
    keep = np.ones(len(notes), dtype=bool)
    keep[1:] = (np.diff(notes[:, 0]) != 0) | (np.diff(notes[:, 1]) != 0)
    return notes[keep]


def save_corpus(path: Path, pieces: list[Piece], info: dict[str, Any]) -> str:
    """Write pieces to one ``.npz``; returns the corpus hash (sha256 of notes and meta)."""
    pieces = [{**p, "notes": dedupe(p["notes"])} for p in pieces]
    notes = np.concatenate([p["notes"] for p in pieces]).astype(np.int16)
    offsets = np.cumsum([0] + [len(p["notes"]) for p in pieces]).astype(np.int64)
    meta = [{k: p[k] for k in ("ts", "n_bars", "source", "name")} for p in pieces]
    meta_json = json.dumps(meta)
    digest = hashlib.sha256(notes.tobytes() + meta_json.encode()).hexdigest()
    doc = json.dumps({**info, "sha256": digest})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, notes=notes, offsets=offsets, meta=np.array(meta_json), info=np.array(doc))
    tmp.replace(path)
    return digest


def load_corpus(path: Path) -> tuple[list[Piece], dict[str, Any]]:
    """Pieces and info (with ``sha256``) of a corpus written by :func:`save_corpus`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            notes, offsets = data["notes"].astype(np.int32), data["offsets"]
            meta, info = json.loads(str(data["meta"])), json.loads(str(data["info"]))
    except (OSError, KeyError, ValueError) as exc:
        raise PipelineError(
            f"Corpus {path} cannot be read ({exc}); delete it to rebuild."
        ) from None
    pieces = [{**m, "notes": notes[offsets[i] : offsets[i + 1]]} for i, m in enumerate(meta)]
    return pieces, info
