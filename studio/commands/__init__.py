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
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pipelines.base import PipelineError, Request
from projects_db import GenerationInfo
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
    for path in outputs.values():
        if path is not None:
            _check_writable(path)
    pid = project_named(services, args.project)
    info = services.generations.run(pid, task, request, backend=args.backend)
    if info.status != "done":
        print(f"error: generation #{info.id} {info.status}: {info.error}", file=sys.stderr)
        return 1
    for name, dest in outputs.items():
        if dest is not None and name in info.artifacts:
            shutil.copyfile(services.store.artifact_path(info, name), dest)
    if args.json:
        from studio.cli import to_jsonable

        print(json.dumps(to_jsonable(info), indent=2, ensure_ascii=False))
    else:
        _summary(info, outputs)
    return 0


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
