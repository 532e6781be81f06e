"""The isolated environment that trains the learned music generator (``music-train``).

torch (the CPU build, pinned like every env's) and music21 (to read its bundled corpus) stay out
of the studio's own venv; the studio runs :mod:`pipelines.music.learned.train_worker` in it as a
subprocess. Nothing else heavy goes in.
"""

from __future__ import annotations

from pipelines.envs import TORCH, EnvSpec

DEPENDENCIES: tuple[str, ...] = (TORCH, "music21==10.5.1", "numpy>=1.26,<3")

SPEC = EnvSpec(
    name="music-train",
    label="music training (torch + music21)",
    dependencies=DEPENDENCIES,
    check="import music21, numpy, torch; print(torch.__version__, music21.VERSION_STR)",
)
