"""Train the learned music generator from the studio process: build the ``music-train`` env if
needed, convert the corpus once (cached by hash), then run the trainer in the env as a
subprocess, relaying its progress; cancel stops it (its state is saved every few minutes and at
the end, so ``resume=True`` continues).

Corpora: ``"bundled"`` = music21's corpus without Essen (what the shipped checkpoint uses;
``with_essen=True`` adds the non-commercial Essen collection), or a folder of ``.mid`` files.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines import envs
from pipelines.base import Cancelled, CancelToken, PipelineError
from pipelines.music.learned import corpus
from pipelines.music.learned.train_env import SPEC

ROOT = Path(__file__).resolve().parents[3]
"""The checkout: the env's python imports ``pipelines`` from here (PYTHONPATH)."""
Say = Callable[[str], None]


def _worker(
    python: Path,
    args: list[str],
    say: Say,
    threads: int,
    cancel: CancelToken | None,
) -> dict[str, Any]:
    env = {**envs.clean_env_vars(), "PYTHONPATH": str(ROOT)}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [str(python), "-m", "pipelines.music.learned.train_worker", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    result: dict[str, Any] | None = None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for line in proc.stdout:
            if cancel is not None and cancel.cancelled:
                proc.terminate()
                proc.wait(timeout=30)
                raise Cancelled("Training cancelled; its last saved state can be resumed.")
            kind, _, payload = line.strip().partition(" ")
            if kind == "PROGRESS":
                say(_describe(json.loads(payload)))
            elif kind == "RESULT":
                result = json.loads(payload)
        err = proc.stderr.read()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or result is None or not result.get("ok"):
        reason = (result or {}).get("error") or err.strip()[-2000:]
        raise PipelineError(f"music training step '{args[0]}' failed: {reason}")
    return result


def _describe(p: dict[str, Any]) -> str:
    if p.get("stage") == "convert":
        return f"converting the corpus: {p['done']}/{p['total']}"
    if p.get("stage") == "start":
        return (
            f"training {p['params'] / 1e6:.2f} M parameters on {p['pieces']} pieces "
            f"({p['heldout']} held out; untrained held-out loss {p['initial_heldout_loss']})"
            + (f", resuming at {p['tokens_seen']} tokens" if p.get("tokens_seen") else "")
        )
    return (
        f"step {p['step']}: {p['tokens_seen']:,} tokens, loss {p['loss']}, "
        f"{p['tok_s']} tok/s, {p['minutes']} min"
    )


def corpus_dir(data_dir: Path | None = None) -> Path:
    return envs.envs_root(data_dir) / SPEC.name / "corpus"


def bundled_corpus(
    python: Path,
    say: Say,
    *,
    with_essen: bool = False,
    limit: int | None = None,
    workers: int = 1,
    data_dir: Path | None = None,
) -> Path:
    """The converted bundled corpus (converting it once; cached by a hash of the recipe)."""
    collections = list(corpus.SHIPPED_COLLECTIONS) + ([corpus.ESSEN] if with_essen else [])
    path = corpus.cache_path(corpus_dir(data_dir), collections, limit, SPEC.pins_hash())
    if path.is_file():
        say(f"corpus: cached at {path}")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["convert", "--out", str(path), "--collections", ",".join(collections)]
    args += ["--workers", str(workers)] + (["--limit", str(limit)] if limit else [])
    res = _worker(python, args, say, 1, None)
    say(f"corpus: {res['pieces']} pieces converted, skipped {res['skipped']} → {path}")
    return path


def midi_corpus(folder: Path, say: Say, data_dir: Path | None = None) -> Path:
    """A folder of MIDI files converted in this process (cached by names, sizes and times)."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    key = json.dumps(
        [corpus.CONVERTER_VERSION] + [(str(p), p.stat().st_size, p.stat().st_mtime) for p in files]
    )
    path = corpus_dir(data_dir) / f"midi-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        say(f"corpus: cached at {path}")
        return path
    pieces, skipped = corpus.convert_midi_folder(Path(folder))
    if len(pieces) < 4:
        raise PipelineError(
            f"Only {len(pieces)} usable MIDI files in {folder} (skipped {dict(skipped)}); "
            "training needs at least 4 in 4/4, 3/4, 2/4 or 6/8."
        )
    corpus.save_corpus(path, pieces, {"folder": str(folder), "skipped": dict(skipped)})
    say(f"corpus: {len(pieces)} MIDI pieces, skipped {dict(skipped)} → {path}")
    return path


def train_model(
    out: Path,
    *,
    midi: Path | None = None,
    minutes: float | None = None,
    tokens: int | None = None,
    resume: bool = False,
    size: str = "small",
    with_essen: bool = False,
    limit: int | None = None,
    threads: int = 1,
    say: Say = print,
    cancel: CancelToken | None = None,
    data_dir: Path | None = None,
    init: Path | None = None,
) -> dict[str, Any]:
    """Train (or resume) and write the ``.npz`` checkpoint at ``out``; the trainer's summary.
    ``init``: fine-tune that checkpoint (its size and control buckets) instead of starting from
    random weights; ignored when resuming."""
    if minutes is None and tokens is None:
        raise PipelineError("Give a training budget: minutes or tokens.")
    out = Path(out)
    if not out.parent.is_dir():
        raise PipelineError(f"Cannot write {out}: folder {out.parent} does not exist.")
    python = envs.ensure_env(SPEC, lambda f, s: say(f"env: {s}"), envs.envs_root(data_dir))
    if midi is not None:
        data = midi_corpus(midi, say, data_dir)
        licence = f"Trained on the user's MIDI files in {midi}; their licences apply."
    else:
        workers = max(1, min(2, os.cpu_count() or 1))
        data = bundled_corpus(
            python, say, with_essen=with_essen, limit=limit, workers=workers, data_dir=data_dir
        )
        licence = corpus.SHIPPED_LICENCE
        if with_essen:
            licence += " Includes the Essen folk-song collection: non-commercial use only."
    if init is not None and not resume:
        from pipelines.music.learned.checkpoint import load_checkpoint

        base_licence = str(load_checkpoint(Path(init))[0].get("licence", ""))
        licence = f"Fine-tuned from {Path(init).name} ({base_licence}). {licence}"
    state = out.with_name(out.name + ".state.pt")
    if resume and not state.is_file():
        raise PipelineError(f"Nothing to resume: {state} does not exist.")
    args = ["train", "--corpus", str(data), "--out", str(out), "--state", str(state)]
    args += ["--size", size, "--threads", str(threads), "--licence", licence]
    args += ["--minutes", str(minutes)] if minutes is not None else []
    args += ["--tokens", str(tokens)] if tokens is not None else []
    args += ["--resume"] if resume else []
    args += ["--init", str(init)] if init is not None and not resume else []
    return _worker(python, args, say, threads, cancel)
