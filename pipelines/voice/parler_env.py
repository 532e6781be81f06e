"""The isolated Python environment that runs Parler-TTS (built on demand, never at import).

``parler-tts`` pins ``transformers==4.46.1``, which clashes with the studio's own stack, so it
lives in a venv of its own under ``<envs root>/parler/<hash of the pins>``; the studio talks to
it through :mod:`pipelines.voice.parler_worker`. Envs root: ``$AFFECT_STUDIO_ENVS``, else
``<data dir>/envs`` when a data dir is given, else ``~/.cache/affect-studio/envs``.

The install is trimmed: ``parler-tts``, the DAC codec and ``audiotools`` go in without their
declared dependencies (which drag in librosa, numba, scikit-learn, matplotlib and IPython for
training-only code); what they import at load time is listed in :data:`DEPENDENCIES`. PyPI's
``torchaudio`` is a CUDA build that cannot load beside the CPU ``torch``: its compiled extension
is removed after the install, and torchaudio runs as pure Python (DAC decoding uses none of it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.base import PipelineError, ProgressFn

INSTALL_COMMAND = "python launch.py backends install parler"
TORCH = "torch==2.13.0"
"""The CPU build on the studio machines' disk; an unpinned torch pulls a multi-GB CUDA build."""
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
READY_FILE = "affect-studio-env.json"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
NETWORK_HINTS = (
    "NewConnectionError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
)


class EnvBuildError(PipelineError):
    """Building the environment failed; ``network`` is True when the package index was not
    reachable."""

    def __init__(self, message: str, *, network: bool = False) -> None:
        super().__init__(message)
        self.network = network


@dataclass(frozen=True)
class EnvStatus:
    """Where the Parler environment is and whether it is ready."""

    ready: bool
    path: Path
    python: Path
    detail: str
    """One line for people: "ready (1.2 GB, built in 74 s)" or what to run."""


def pins_hash() -> str:
    """Hash of the pin list and recipe: a new pin list builds a new env beside the old one."""
    text = "\n".join([*DEPENDENCIES, "--no-deps", *NO_DEPS, f"recipe {RECIPE_VERSION}"])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def envs_root(data_dir: Path | None = None) -> Path:
    """Where isolated backend environments live (see the module docstring)."""
    if os.environ.get("AFFECT_STUDIO_ENVS"):
        return Path(os.environ["AFFECT_STUDIO_ENVS"]).expanduser()
    if data_dir is not None:
        return Path(data_dir) / "envs"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "affect-studio" / "envs"


def env_dir(root: Path | None = None) -> Path:
    return (root or envs_root()) / "parler" / pins_hash()


def _python(env: Path) -> Path:
    return env / "bin" / "python"


def env_status(root: Path | None = None) -> EnvStatus:
    """Whether the environment for the current pins exists (cheap: reads one file)."""
    env = env_dir(root)
    marker = env / READY_FILE
    with contextlib.suppress(OSError, ValueError, KeyError):
        info = json.loads(marker.read_text(encoding="utf-8"))
        if not _python(env).exists():
            raise OSError(_python(env))
        detail = f"ready ({info['size_mb'] / 1024:.1f} GB, built in {info['build_s']:.0f} s)"
        return EnvStatus(True, env, _python(env), detail)
    return EnvStatus(False, env, _python(env), f"not installed — run `{INSTALL_COMMAND}`")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another process building the same env: wait for it
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], log: Path, what: str) -> None:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        text = log.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(
            line for line in text.splitlines()[-40:] if "is ignored: it is neither" not in line
        )[-3000:]
        network = any(h in text for h in NETWORK_HINTS)
        raise EnvBuildError(
            f"Building the Parler-TTS environment failed while {what} (exit {proc.returncode}). "
            f"Full log: {log}.\n{tail}",
            network=network,
        )


def _size_mb(path: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / name).lstat().st_size
    return total / 2**20


def ensure_env(
    progress: ProgressFn | None = None,
    root: Path | None = None,
    *,
    base_python: str = sys.executable,
) -> Path:
    """Build the environment if needed (about 1-2 minutes and 1.2 GB here) and return its python."""

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)

    env = env_dir(root)
    with _lock(env.parent / f"{env.name}.lock"):
        if env_status(root).ready:
            report(1.0, "Parler-TTS environment ready")
            return _python(env)
        if env.exists():
            shutil.rmtree(env)  # a half-built env from an interrupted run
        env.mkdir(parents=True)
        log = env / "build.log"  # kept on failure; the next call starts over
        t0 = time.perf_counter()
        report(0.02, "creating the virtual environment")
        _run([base_python, "-m", "venv", str(env)], log, "creating the venv")
        pip = [str(_python(env)), "-m", "pip", "install", "--disable-pip-version-check"]
        report(0.1, "installing torch, transformers and the codec's dependencies")
        _run([*pip, *DEPENDENCIES], log, "installing the dependencies")
        report(0.8, "installing parler-tts and the DAC codec")
        _run([*pip, "--no-deps", *NO_DEPS], log, "installing parler-tts")
        _strip_torchaudio_extension(env)
        report(0.9, "checking that parler_tts imports")
        check = "import parler_tts, torch, transformers; print(torch.__version__)"
        env_vars = {**os.environ, **OFFLINE_ENV, "PYTHONNOUSERSITE": "1"}
        env_vars.pop("PYTHONPATH", None)
        with log.open("a", encoding="utf-8") as fh:
            proc = subprocess.run(
                [str(_python(env)), "-c", check],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=env_vars,
                check=False,
            )
        if proc.returncode != 0:
            raise EnvBuildError(f"parler_tts does not import in the new environment: {log}")
        info = {
            "dependencies": list(DEPENDENCIES),
            "no_deps": list(NO_DEPS),
            "build_s": round(time.perf_counter() - t0, 1),
            "size_mb": round(_size_mb(env), 1),
            "python": sys.version.split()[0],
        }
        (env / READY_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        report(1.0, "Parler-TTS environment ready")
        return _python(env)


def _strip_torchaudio_extension(env: Path) -> None:
    """Remove torchaudio's compiled extension (see the module docstring)."""
    for lib in env.glob("lib/python*/site-packages/torchaudio/lib/*.so"):
        lib.unlink()
