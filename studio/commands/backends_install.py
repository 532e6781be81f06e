"""``launch.py backends install parler``: build the isolated Parler-TTS environment.

Parler-TTS pins an older transformers than the studio uses, so it runs in a venv of its own
(see :mod:`pipelines.voice.parler_env`); this builds it once (a few minutes, about 1.2 GB,
from the package index) and says where a checkpoint goes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.voice import parler_env
from pipelines.voice.parler import CHECKPOINT_HELP

INSTALLABLE = ("parler",)
"""Backends with an environment of their own."""


def install_parler(print_fn: Callable[[str], None] = print, data_dir: Path | None = None) -> int:
    """Build (or confirm) the Parler env; 0 on success, 1 on failure with the reason printed."""
    root = parler_env.envs_root(data_dir)
    status = parler_env.env_status(root)
    if status.ready:
        print_fn(f"Parler-TTS environment already installed at {status.path}: {status.detail}.")
    else:
        print_fn(f"Building the Parler-TTS environment at {status.path} (a few minutes) …")
        last = [""]

        def progress(fraction: float, stage: str) -> None:
            if stage != last[0]:
                last[0] = stage
                print_fn(f"  {fraction:4.0%}  {stage}")

        try:
            parler_env.ensure_env(progress, root)
        except parler_env.EnvBuildError as exc:
            print_fn(f"error: {exc}")
            if exc.network:
                print_fn("The package index could not be reached: connect and run this again.")
            return 1
        print_fn(f"Done: {parler_env.env_status(root).detail}.")
    print_fn(CHECKPOINT_HELP)
    return 0
