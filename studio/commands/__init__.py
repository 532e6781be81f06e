"""Task subcommands of the CLI (``voice``, ``music`` …), one module each.

A module here defines ``add_parser(sub, common)`` (argparse, no heavy imports) and
``run(args, services) -> int``; list it in ``TASK_COMMANDS``. ``run_task`` is the shared path:
it records the generation in a project (default "Scratch"), runs it through the generation
service exactly like the UI does, and copies artifacts to the paths the user asked for.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pipelines.base import PipelineError, Request
from projects_db import GenerationInfo
from studio.service import Job
from studio.settings import Services
from studio.ui import SCRATCH_PROJECT, project_named

TASK_COMMANDS: tuple[str, ...] = (
    "voice",
    "portrait",
    "music",
    "chat",
    "compose",
    "stimuli",
    "study",
    "music_train",
)
"""Modules under ``studio.commands`` that add a task subcommand, in --help order."""


PROGRESS_EVERY_S = 5.0
"""A running generation's stage is printed on stderr at most this often (first after this long)."""

AUDIO_FORMATS: dict[str, tuple[str, ...]] = {
    ".wav": (),
    ".mp3": ("-codec:a", "libmp3lame", "-q:a", "2"),
    ".flac": ("-codec:a", "flac"),
    ".ogg": ("-codec:a", "libvorbis", "-q:a", "5"),
}
"""Audio file types the CLI writes: WAV as made, the others encoded by the bundled ffmpeg."""

OUTPUT_TYPES: dict[str, tuple[str, ...]] = {
    "audio": tuple(AUDIO_FORMATS),
    "soundtrack": tuple(AUDIO_FORMATS),
    "video": (".mp4",),
    "midi": (".mid", ".midi"),
    "stills": (".png",),
}
"""The file name endings each kind of artifact can be written as (others are refused)."""


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"studio.commands.{name}") for name in TASK_COMMANDS]


def add_common_task_args(p: argparse.ArgumentParser) -> None:
    """Flags every task subcommand takes."""
    p.add_argument("--project", default=None, help=f"project to record in ({SCRATCH_PROJECT})")
    p.add_argument("--backend", default=None, help="backend name (the task's default)")
    p.add_argument("--seed", type=int, default=0, help="seed (same seed → same output)")
    p.add_argument("--json", action="store_true", help="print the generation as JSON")


def run_task(
    services: Services,
    args: argparse.Namespace,
    task: str,
    request: Request | Mapping[str, Any],
    outputs: Mapping[str, Path | None],
) -> int:
    """Run ``request`` as a recorded generation; copy artifact ``name`` → ``outputs[name]``."""
    for name, path in outputs.items():
        if path is not None:
            _check_type(name, path)
            _check_writable(path)
    pid = project_named(services, args.project)
    info = wait_with_progress(services.generations.submit(pid, task, request, backend=args.backend))
    if info.status != "done":
        return report_failure(info)
    for name, dest in outputs.items():
        if dest is not None and name in info.artifacts:
            write_output(services.store.artifact_path(info, name), dest)
    if args.json:
        from studio.cli import to_jsonable

        print(json.dumps(to_jsonable(info), indent=2, ensure_ascii=False))
    else:
        _summary(info, outputs)
    return 0


def wait_with_progress(job: Job, every: float | None = None) -> GenerationInfo:
    """Wait for ``job``; while it runs, print its stage on stderr every ``every`` seconds
    (``PROGRESS_EVERY_S``), so a long run is not silent. Short runs print nothing."""
    every = PROGRESS_EVERY_S if every is None else every
    started = time.monotonic()
    next_at, last = started + every, ""
    while True:
        try:
            return job.wait(timeout=min(0.5, max(0.05, every)))
        except TimeoutError:
            pass
        now = time.monotonic()
        if now < next_at:
            continue
        line = f"  … {job.stage} ({job.fraction:.0%}, {now - started:.0f} s)"
        if line != last:
            print(line, file=sys.stderr, flush=True)
            last = line
        next_at = now + every


def report_failure(info: GenerationInfo) -> int:
    """One ``error:`` line for a generation that did not finish. Exit status 2 for what the
    input caused (the pipeline's own message), 1 for an internal error or a cancel."""
    error = str(info.error or info.status).strip()
    print(f"error: {error} (generation #{info.id} is recorded as {info.status})", file=sys.stderr)
    internal = info.status != "failed" or error.startswith("Internal error")
    return 1 if internal else 2


def write_output(src: Path, dest: Path) -> None:
    """Copy an artifact to ``dest``; WAV audio asked for as MP3/FLAC/OGG is encoded by the
    bundled ffmpeg (imageio-ffmpeg)."""
    want = dest.suffix.lower()
    if src.suffix.lower() != ".wav" or want in ("", ".wav") or want not in AUDIO_FORMATS:
        shutil.copyfile(src, dest)
        return
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-i", str(src)]
    cmd += ["-vn", *AUDIO_FORMATS[want], "-f", want.lstrip("."), str(dest)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise PipelineError(f"Could not encode {dest}: {out.stderr.strip()[-300:]}")


def _check_type(name: str, path: Path) -> None:
    allowed = OUTPUT_TYPES.get(name)
    suffix = path.suffix.lower()
    if allowed and suffix and suffix not in allowed:
        raise PipelineError(
            f"Cannot write {path}: this output is written as {', '.join(allowed)} — "
            f"name the file with one of these endings."
        )


def _summary(info: GenerationInfo, outputs: Mapping[str, Path | None]) -> None:
    written = ", ".join(str(p) for n, p in outputs.items() if p is not None and n in info.artifacts)
    rtf = f" ({info.rtf:.3f}× real time)" if info.rtf is not None else ""
    print(f"Generation #{info.id} done in {info.compute_seconds or 0:.2f} s{rtf} → {written}")


def _check_writable(path: Path) -> None:
    parent = path.expanduser().absolute().parent
    if not parent.is_dir():
        raise PipelineError(f"Cannot write {path}: folder {parent} does not exist.")
    if path.is_dir():
        raise PipelineError(f"Cannot write {path}: it is a folder — give a file name.")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise PipelineError(f"Cannot write {path}: {exc.strerror}.") from None
    if not existed:
        path.unlink()  # only probing: leave nothing behind if the run fails
