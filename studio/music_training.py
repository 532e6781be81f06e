"""Training the learned music model from the Music tab, on a creator's own MIDI: the files (a
folder on this computer, or uploaded) → a checkpoint ``<data dir>/models/music/NAME.npz``, with
progress lines, cancel and resume (the trainer saves its state every few minutes and at the
end). torch runs in the isolated ``music-train`` environment, built on first use.

One :class:`Training` per run, kept in the tab's per-session state: nothing here is shared
between users.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.base import Cancelled, CancelToken, PipelineError

MIDI_SUFFIXES = (".mid", ".midi")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")
BUNDLED_LABEL = "bundled (trained here on folk tunes and chorales)"


def models_dir(data_dir: Path) -> Path:
    """Where the studio keeps the music models its users trained."""
    path = Path(data_dir) / "models" / "music"
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path(data_dir: Path, name: str) -> Path:
    """The checkpoint path for a model name (letters, digits, space, ``_ . -``; ≤ 40)."""
    clean = (name or "").strip()
    if not _NAME.match(clean) or ".." in clean:
        raise PipelineError(
            f"Model name {name!r} is not usable: use up to 40 letters, digits, spaces, "
            "'_', '.' or '-', starting with a letter or digit."
        )
    return models_dir(data_dir) / f"{clean}.npz"


def model_choices(data_dir: Path) -> list[tuple[str, str]]:
    """(label, value) pairs for the Model dropdown: the bundled model ("") and the user's."""
    own = sorted(models_dir(data_dir).glob("*.npz"))
    return [(BUNDLED_LABEL, ""), *((p.stem, str(p)) for p in own)]


def midi_folder(data_dir: Path, name: str, folder: str | None, uploads: list[Any] | None) -> Path:
    """The folder to train on: the one typed (it must hold MIDI files), else the uploaded
    files copied into ``models/music/NAME-midi/``."""
    if folder and folder.strip():
        path = Path(folder.strip()).expanduser()
        if not path.is_dir():
            raise PipelineError(f"{path} is not a folder on this computer.")
        if not any(p.suffix.lower() in MIDI_SUFFIXES for p in path.rglob("*")):
            raise PipelineError(f"{path} holds no .mid or .midi files.")
        return path
    files = [Path(str(getattr(u, "name", u))) for u in uploads or []]
    midi = [f for f in files if f.suffix.lower() in MIDI_SUFFIXES]
    if not midi:
        raise PipelineError("Give a folder of MIDI files, or upload some .mid files.")
    dest = model_path(data_dir, name).with_suffix("")
    dest = dest.with_name(dest.name + "-midi")
    dest.mkdir(exist_ok=True)
    for i, f in enumerate(midi):
        shutil.copyfile(f, dest / f"{i:04d}-{f.name}")
    return dest


@dataclass
class Training:
    """One training run in a background thread: its progress lines, result or error."""

    out: Path
    token: CancelToken = field(default_factory=CancelToken)
    lines: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)

    def start(self, folder: Path, minutes: float, resume: bool, init: Path | None = None) -> None:
        """Train in a background thread; the torch env and the converted-corpus cache live in
        the shared envs folder (``backends install music-train``), like every backend env."""
        from pipelines.music.learned.train import train_model

        def work() -> None:
            try:
                self.result = train_model(
                    self.out,
                    midi=folder,
                    minutes=minutes,
                    resume=resume,
                    say=self.lines.append,
                    cancel=self.token,
                    init=init,
                )
            except Cancelled as exc:
                self.error = str(exc)
            except PipelineError as exc:
                self.error = str(exc)
            except Exception as exc:  # a bug: say so rather than leave the tab waiting
                self.error = f"Training failed ({type(exc).__name__}: {exc})."
            finally:
                self.done.set()

        threading.Thread(target=work, name="music-train", daemon=True).start()

    def summary(self) -> str:
        """One line for the tab once the run has ended."""
        if self.error:
            return f"⚠️ {self.error}"
        r = self.result or {}
        return (
            f"Saved {self.out.stem}: {r.get('tokens_seen', 0):,} tokens seen, held-out loss "
            f"{r.get('heldout_loss')} (untrained {r.get('initial_heldout_loss')}). Pick it as "
            "the Model with the emogen backend."
        )
