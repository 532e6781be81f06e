"""Isolated Python environments for backends whose stack must stay out of the studio's own.

One mechanism for every such backend: an :class:`EnvSpec` lists pinned packages; the env is
built on demand (never at import) by ``python launch.py backends install NAME`` or by the first
use, in ``<envs root>/<name>/<hash of the spec>``, so a new pin list builds a new env beside the
old one. Envs root: ``$AFFECT_STUDIO_ENVS``, else ``<data dir>/envs`` when a data dir is given,
else ``~/.cache/affect-studio/envs``. A ready env holds :data:`READY_FILE` (build time, size).

torch is always pinned to ``torch==2.13.0`` in the same pip call as the rest: it is the CPU build
on the studio machines' disk, and the pin makes pip fail rather than fetch a multi-GB CUDA build
when some package asks for a torch that 2.13.0 does not satisfy.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.base import PipelineError, ProgressFn

TORCH = "torch==2.13.0"
"""The CPU build on the studio machines' disk; an unpinned torch pulls a multi-GB CUDA build."""
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
    """Building an environment failed; ``network`` is True when the package index was not
    reachable."""

    def __init__(self, message: str, *, network: bool = False) -> None:
        super().__init__(message)
        self.network = network


@dataclass(frozen=True)
class EnvSpec:
    """What goes into one backend's environment."""

    name: str
    """Folder name and the NAME of ``backends install NAME``."""
    label: str
    """For people: "Parler-TTS", "DICE-Talk"."""
    dependencies: tuple[str, ...]
    """Installed with their dependencies, in one pip call."""
    no_deps: tuple[str, ...] = ()
    """Installed afterwards without their declared dependencies."""
    recipe_version: int = 1
    """Bump when the build steps change without the pins changing."""
    check: str = "import torch; print(torch.__version__)"
    """Python run in the new env (offline) to prove that it works."""
    post_install: Callable[[Path], None] | None = field(default=None, compare=False)
    """Run on the env folder after pip (e.g. remove a broken compiled extension)."""

    @property
    def install_command(self) -> str:
        return f"python launch.py backends install {self.name}"

    def pins_hash(self) -> str:
        """Hash of the pins and recipe (the formula Parler's first env was built with)."""
        parts = [*self.dependencies, "--no-deps", *self.no_deps, f"recipe {self.recipe_version}"]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class EnvStatus:
    """Where an environment is and whether it is ready."""

    ready: bool
    path: Path
    python: Path
    detail: str
    """One line for people: "ready (1.2 GB, built in 74 s)" or what to run."""


def envs_root(data_dir: Path | None = None) -> Path:
    """Where isolated backend environments live (see the module docstring)."""
    if os.environ.get("AFFECT_STUDIO_ENVS"):
        return Path(os.environ["AFFECT_STUDIO_ENVS"]).expanduser()
    if data_dir is not None:
        return Path(data_dir) / "envs"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "affect-studio" / "envs"


def env_dir(spec: EnvSpec, root: Path | None = None) -> Path:
    return (root or envs_root()) / spec.name / spec.pins_hash()


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def env_status(spec: EnvSpec, root: Path | None = None) -> EnvStatus:
    """Whether the environment for the spec's current pins exists (cheap: reads one file)."""
    env = env_dir(spec, root)
    with contextlib.suppress(OSError, ValueError, KeyError):
        info = json.loads((env / READY_FILE).read_text(encoding="utf-8"))
        if not python_of(env).exists():
            raise OSError(python_of(env))
        detail = f"ready ({info['size_mb'] / 1024:.1f} GB, built in {info['build_s']:.0f} s)"
        return EnvStatus(True, env, python_of(env), detail)
    return EnvStatus(False, env, python_of(env), f"not installed — run `{spec.install_command}`")


def clean_env_vars() -> dict[str, str]:
    """The variables to run an env's python with: offline, no user site, no PYTHONPATH."""
    env_vars = {**os.environ, **OFFLINE_ENV, "PYTHONNOUSERSITE": "1"}
    env_vars.pop("PYTHONPATH", None)
    return env_vars


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another process building the same env: wait for it
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], log: Path, label: str, what: str) -> None:
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
            f"Building the {label} environment failed while {what} (exit {proc.returncode}). "
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
    spec: EnvSpec,
    progress: ProgressFn | None = None,
    root: Path | None = None,
    *,
    base_python: str = sys.executable,
) -> Path:
    """Build the spec's environment if needed and return its python."""

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(fraction, stage)

    env = env_dir(spec, root)
    with _lock(env.parent / f"{env.name}.lock"):
        if env_status(spec, root).ready:
            report(1.0, f"{spec.label} environment ready")
            return python_of(env)
        if env.exists():
            shutil.rmtree(env)  # a half-built env from an interrupted run
        env.mkdir(parents=True)
        log = env / "build.log"  # kept on failure; the next call starts over
        t0 = time.perf_counter()
        report(0.02, "creating the virtual environment")
        _run([base_python, "-m", "venv", str(env)], log, spec.label, "creating the venv")
        pip = [str(python_of(env)), "-m", "pip", "install", "--disable-pip-version-check"]
        report(0.1, f"installing {', '.join(d.split('=')[0] for d in spec.dependencies[:3])} …")
        _run([*pip, *spec.dependencies], log, spec.label, "installing the dependencies")
        if spec.no_deps:
            report(0.8, f"installing {', '.join(d.split('=')[0] for d in spec.no_deps)}")
            _run([*pip, "--no-deps", *spec.no_deps], log, spec.label, f"installing {spec.name}")
        if spec.post_install is not None:
            spec.post_install(env)
        report(0.9, "checking that it imports")
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n$ python -c {spec.check!r}\n")
            fh.flush()
            proc = subprocess.run(
                [str(python_of(env)), "-c", spec.check],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=clean_env_vars(),
                check=False,
            )
        if proc.returncode != 0:
            raise EnvBuildError(f"The new {spec.label} environment does not import: {log}")
        info = {
            "dependencies": list(spec.dependencies),
            "no_deps": list(spec.no_deps),
            "build_s": round(time.perf_counter() - t0, 1),
            "size_mb": round(_size_mb(env), 1),
            "python": sys.version.split()[0],
        }
        (env / READY_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        report(1.0, f"{spec.label} environment ready")
        return python_of(env)


def _dice_spec() -> EnvSpec:
    from pipelines.portrait.dice.env import SPEC

    return SPEC


def _parler_spec() -> EnvSpec:
    from pipelines.voice.parler_env import SPEC

    return SPEC


def _music_train_spec() -> EnvSpec:
    from pipelines.music.learned.train_env import SPEC

    return SPEC


SPECS: dict[str, Callable[[], EnvSpec]] = {
    "parler": _parler_spec,
    "dice": _dice_spec,
    "music-train": _music_train_spec,
}
"""Every backend with an environment of its own (the specs live beside their backends)."""


def spec(name: str) -> EnvSpec:
    if name not in SPECS:
        raise PipelineError(f"No isolated environment named {name!r}; known: {', '.join(SPECS)}")
    return SPECS[name]()
