"""The isolated Python environment that runs Parler-TTS (built on demand, never at import).

``parler-tts`` pins ``transformers==4.46.1``, which clashes with the studio's own stack, so it
lives in a venv of its own under ``<envs root>/parler/<hash of the pins>`` (the shared mechanism:
:mod:`pipelines.envs`); the studio talks to it through :mod:`pipelines.voice.parler_worker`.

The install is trimmed: ``parler-tts``, the DAC codec and ``audiotools`` go in without their
declared dependencies (which drag in librosa, numba, scikit-learn, matplotlib and IPython for
training-only code); what they import at load time is listed in :data:`DEPENDENCIES`. PyPI's
``torchaudio`` is a CUDA build that cannot load beside the CPU ``torch``: its compiled extension
is removed after the install, and torchaudio runs as pure Python (DAC decoding uses none of it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines import envs
from pipelines.base import ProgressFn
from pipelines.envs import (  # noqa: F401  (re-exported: the Parler modules' names)
    OFFLINE_ENV,
    READY_FILE,
    TORCH,
    EnvBuildError,
    EnvStatus,
    envs_root,
)

DEPENDENCIES: tuple[str, ...] = (
    TORCH,
    "transformers==4.46.1",
    "sentencepiece",
    "protobuf>=4,<5",
    "numpy>=1.26,<3",
    "argbind>=0.3.7",
    "einops",
    "julius",
    "soundfile",
    "scipy",
    "flatten-dict",
    "ffmpy",
    "importlib-resources",
    "rich",
    "tensorboard",
    "randomname",
    "tqdm",
)
"""Installed with their dependencies."""
NO_DEPS: tuple[str, ...] = (
    "parler-tts==0.2.3",
    "descript-audio-codec-unofficial==1.0.0",
    "descript-audiotools-unofficial==0.7.4",
    "torchaudio==2.11.0",
)
"""Installed without their declared dependencies (see the module docstring)."""
RECIPE_VERSION = 1
"""Bump when the build steps change without the pins changing."""


def _strip_torchaudio_extension(env: Path) -> None:
    """Remove torchaudio's compiled extension (see the module docstring)."""
    for lib in env.glob("lib/python*/site-packages/torchaudio/lib/*.so"):
        lib.unlink()


SPEC = envs.EnvSpec(
    name="parler",
    label="Parler-TTS",
    dependencies=DEPENDENCIES,
    no_deps=NO_DEPS,
    recipe_version=RECIPE_VERSION,
    check="import parler_tts, torch, transformers; print(torch.__version__)",
    post_install=_strip_torchaudio_extension,
)
INSTALL_COMMAND = SPEC.install_command


def pins_hash() -> str:
    """Hash of the pin list and recipe: a new pin list builds a new env beside the old one."""
    return SPEC.pins_hash()


def env_dir(root: Path | None = None) -> Path:
    return envs.env_dir(SPEC, root)


def env_status(root: Path | None = None) -> EnvStatus:
    """Whether the environment for the current pins exists (cheap: reads one file)."""
    return envs.env_status(SPEC, root)


def ensure_env(
    progress: ProgressFn | None = None,
    root: Path | None = None,
    *,
    base_python: str = sys.executable,
) -> Path:
    """Build the environment if needed (about 1-2 minutes and 1.2 GB here) and return its python."""
    return envs.ensure_env(SPEC, progress, root, base_python=base_python)
