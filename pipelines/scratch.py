"""Where a running job keeps its temporary files.

The caller of ``Backend.run`` (the studio's generation service) gives each job a private folder
inside its data directory with :func:`job_work_dir` and removes it when the job ends, however it
ends; a studio that was killed sweeps the folders of dead jobs on its next start. Pipelines ask
:func:`work_dir` for that folder and create uniquely named files in it (``tempfile.mkstemp`` /
``mkdtemp``), so they never share a fixed-name folder with other users or jobs.

The folder lives in a :class:`contextvars.ContextVar`: it belongs to the thread (context) that
runs the job, not to the module, so concurrent jobs never see each other's folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_WORK_DIR: ContextVar[Path | None] = ContextVar("affect_studio_work_dir", default=None)


@contextmanager
def job_work_dir(path: Path) -> Iterator[Path]:
    """Make ``path`` the work folder of the code run inside this block (it is created here;
    removing it afterwards is the caller's job)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = _WORK_DIR.set(path)
    try:
        yield path
    finally:
        _WORK_DIR.reset(token)


def work_dir() -> Path:
    """The running job's private temp folder; outside a job, the system temp folder (make files
    there only with ``mkstemp``/``mkdtemp``, which are unique and private to this user)."""
    current = _WORK_DIR.get()
    if current is None:
        return Path(tempfile.gettempdir())
    current.mkdir(parents=True, exist_ok=True, mode=0o700)
    return current
