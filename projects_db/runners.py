"""Runner liveness through lock files, for crash recovery.

Each studio process that runs generations registers a runner: it holds an exclusive ``flock`` on
``data_dir/runners/<runner_id>.lock`` while its store is open.  The kernel drops the lock when the
process dies, however it dies, so "the lock can be taken" means "that runner is gone".
"""

from __future__ import annotations

import fcntl
import os
import re
import time
import uuid
from pathlib import Path

INTERRUPTED_MESSAGE = (
    "Interrupted: the studio stopped (crash or kill) while this was running; partial files were "
    "removed. Re-run it to try again."
)

_RUNNER_ID = re.compile(r"^[0-9a-f]{32}$")
_SUFFIX = ".lock"
_PENDING = ".pending"
_PENDING_GRACE_SECONDS = 60.0


class RunnerLock:
    """This process's runner: an id and the held lock on its lock file."""

    def __init__(self, runners_dir: Path) -> None:
        runner_id = uuid.uuid4().hex
        final = runners_dir / f"{runner_id}{_SUFFIX}"
        # Lock under a temporary name and then rename, so no other process can ever see the
        # final name unlocked and sweep it away as a dead runner's.
        pending = runners_dir / f".{runner_id}{_SUFFIX}{_PENDING}"
        fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(pending, final)
        except BaseException:
            os.close(fd)
            pending.unlink(missing_ok=True)
            raise
        self.runner_id = runner_id
        self.path = final
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the runner up: remove its lock file, then drop the lock."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def runner_lock_path(runners_dir: Path, runner_id: str) -> Path | None:
    """The lock file of ``runner_id``, or ``None`` when the id is malformed."""
    if not _RUNNER_ID.fullmatch(runner_id):
        return None
    return runners_dir / f"{runner_id}{_SUFFIX}"


def is_runner_alive(runners_dir: Path, runner_id: str) -> bool:
    """Whether another live process holds ``runner_id``'s lock."""
    path = runner_lock_path(runners_dir, runner_id)
    if path is None:
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep_dead_lock_files(runners_dir: Path, own: str | None) -> None:
    """Delete lock files whose runner is gone (a held lock means the runner still lives)."""
    for path in runners_dir.iterdir():
        if not (path.name.endswith(_SUFFIX) or path.name.endswith(_PENDING)):
            continue
        if own is not None and path.name.startswith((own, f".{own}")):
            continue
        if path.name.endswith(_PENDING) and not _older_than(path, _PENDING_GRACE_SECONDS):
            continue  # a runner registering right now locks it in a moment
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        else:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False
