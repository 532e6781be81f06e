"""``launch.py backends install NAME``: build a backend's isolated environment.

Some backends need a stack that clashes with the studio's own (Parler-TTS pins an older
transformers; the DICE-Talk port needs torch and diffusers), so each runs in a venv of its own,
described by a pinned, hashed spec (see :mod:`pipelines.envs`). This builds it once (a few
minutes, about 1.2 GB each, from the package index) and says where the weights go.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines import envs

INSTALLABLE = tuple(envs.SPECS)
"""Backends with an environment of their own."""


def _after_install_help(name: str) -> str:
    if name == "parler":
        from pipelines.voice.parler import CHECKPOINT_HELP

        return CHECKPOINT_HELP
    if name == "dice":
        return (
            "DICE-Talk weights are not bundled: download them yourself (their licence applies) "
            "into your --model-dir in DICE-Talk's layout."
        )
    if name == "music-train":
        return "Train with `python launch.py music-train --corpus bundled` or `--midi DIR`."
    return ""


def install_backend(
    name: str, print_fn: Callable[[str], None] = print, data_dir: Path | None = None
) -> int:
    """Build (or confirm) the env of ``name``; 0 on success, 1 on failure with the reason."""
    spec = envs.spec(name)
    root = envs.envs_root(data_dir)
    status = envs.env_status(spec, root)
    if status.ready:
        print_fn(f"{spec.label} environment already installed at {status.path}: {status.detail}.")
    else:
        print_fn(f"Building the {spec.label} environment at {status.path} (a few minutes) …")
        last = [""]

        def progress(fraction: float, stage: str) -> None:
            if stage != last[0]:
                last[0] = stage
                print_fn(f"  {fraction:4.0%}  {stage}")

        try:
            envs.ensure_env(spec, progress, root)
        except envs.EnvBuildError as exc:
            print_fn(f"error: {exc}")
            if exc.network:
                print_fn("The package index could not be reached: connect and run this again.")
            return 1
        print_fn(f"Done: {envs.env_status(spec, root).detail}.")
    print_fn(_after_install_help(name))
    return 0


def install_parler(print_fn: Callable[[str], None] = print, data_dir: Path | None = None) -> int:
    """``backends install parler`` (kept for callers of the first version)."""
    return install_backend("parler", print_fn, data_dir)
