"""Generated files on disk: unique per-generation directories and atomic writes."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from projects_db.errors import StoreError

_NAME_JUNK = re.compile(r"[^a-z0-9_-]+")
_SUFFIX = re.compile(r"^(\.[a-z0-9]{1,16}){0,3}$")


def safe_name(name: str) -> str:
    """``name`` reduced to ``[a-z0-9_-]``; :class:`StoreError` when nothing is left."""
    cleaned = _NAME_JUNK.sub("_", name.strip().lower()).strip("_-")
    if not cleaned:
        raise StoreError(
            f"Artifact name {name!r} has no usable characters — use letters, digits, '_' or '-'"
        )
    return cleaned[:64]


def safe_suffix(suffix: str) -> str:
    """A file suffix such as ``.wav`` or ``.tar.gz`` (lower-cased), or ``StoreError``."""
    lowered = suffix.lower()
    if not _SUFFIX.fullmatch(lowered):
        raise StoreError(f"File suffix {suffix!r} is not allowed — use e.g. '.wav' or '.mp4'")
    return lowered


def fsync_dir(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def disk_full_error(target: Path, exc: OSError) -> StoreError | None:
    if exc.errno == errno.ENOSPC:
        return StoreError(f"Disk full while writing {target} — free space and re-run")
    return None


OWNER_FILE = ".generation"
"""The file in a generation folder that names the database row the folder belongs to."""


@dataclass(frozen=True)
class FolderOwner:
    """What the database says about the generation a folder is written for."""

    token: str
    """Names the row for good (its id, project and creation time): written to ``OWNER_FILE``."""
    artifacts: frozenset[str]
    """The row's recorded artifact paths (relative to the data directory)."""


class ArtifactStore:
    """Files produced by generations, under ``data_dir/artifacts/p<project>/g<generation>``.

    With ``owner`` (the store passes a look-up of the generation's row), the first write into a
    generation folder marks it with the row's token, and a folder already marked for, or filled
    by, another row is refused instead of mixing two generations' files.
    """

    def __init__(
        self, data_dir: Path, owner: Callable[[int, int], FolderOwner | None] | None = None
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.root = self.data_dir / "artifacts"
        self._owner = owner

    def generation_dir(self, project_id: int, generation_id: int) -> Path:
        """The directory that holds one generation's files (unique per generation)."""
        return self.project_dir(project_id) / f"g{_check_id(generation_id, 'generation')}"

    def project_dir(self, project_id: int) -> Path:
        return self.root / f"p{_check_id(project_id, 'project')}"

    def write(
        self,
        project_id: int,
        generation_id: int,
        name: str,
        suffix: str,
        write_fn: Callable[[Path], None],
    ) -> str:
        """Write ``<name><suffix>`` atomically through ``write_fn(temp_path)``.

        ``write_fn`` writes a complete file at the path it is given (a temp file in the final
        directory that already has ``suffix``, so writers that pick a format from the extension
        work).  The file is fsynced and renamed into place; on any error the temp file is
        removed and the error re-raised.  Returns the path relative to the data directory.
        """
        directory = self.generation_dir(project_id, generation_id)
        stem, ext = safe_name(name), safe_suffix(suffix)
        final = directory / f"{stem}{ext}"
        temp = directory / f".{stem}.tmp-{secrets.token_hex(6)}{ext}"
        self._claim(project_id, generation_id, directory)
        try:
            write_fn(temp)
            if not temp.is_file():
                raise StoreError(f"Writing {final.name} produced no file — this is a bug")
            with temp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and (error := disk_full_error(final, exc)):
                raise error from exc
            raise
        fsync_dir(directory)
        return final.relative_to(self.data_dir).as_posix()

    def _claim(self, project_id: int, generation_id: int, directory: Path) -> None:
        """Create the generation's folder, or refuse one that belongs to another row."""
        owner = None if self._owner is None else self._owner(project_id, generation_id)
        where = directory.relative_to(self.data_dir).as_posix()
        if self._owner is not None and owner is None:
            raise StoreError(
                f"Generation {generation_id} of project {project_id} does not exist (it may "
                f"have been deleted) — nothing was written to {where}"
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if error := disk_full_error(directory, exc):
                raise error from exc
            raise
        if owner is None:
            return
        marker = directory / OWNER_FILE
        try:
            found = marker.read_text(encoding="utf-8")
        except FileNotFoundError:
            found = None
        if found is not None:
            if found != owner.token:
                raise StoreError(
                    f"Folder {where} belongs to another generation ({found.strip()}), not to "
                    f"{owner.token} — refusing to mix their files; move the folder away and retry"
                )
            return
        ours = {PurePosixPath(rel).name for rel in owner.artifacts}
        foreign = sorted(
            p.name
            for p in directory.iterdir()
            if not p.name.startswith(".") and p.name not in ours and p.name != "thumb.jpg"
        )
        if foreign:
            names = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise StoreError(
                f"Folder {where} already holds files of another generation ({names}) — "
                f"refusing to mix them with {owner.token}; move the folder away and retry"
            )
        temp = directory / f"{OWNER_FILE}.tmp-{secrets.token_hex(6)}"
        try:
            temp.write_text(owner.token, encoding="utf-8")
            os.replace(temp, marker)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def write_bytes(
        self, project_id: int, generation_id: int, name: str, suffix: str, data: bytes
    ) -> str:
        """Atomically write ``data`` as ``<name><suffix>``; see :meth:`write`."""

        def write_fn(path: Path) -> None:
            path.write_bytes(data)

        return self.write(project_id, generation_id, name, suffix, write_fn)

    def remove_generation(self, project_id: int, generation_id: int) -> None:
        """Delete one generation's files (nothing happens if there are none)."""
        _remove_tree(self.generation_dir(project_id, generation_id))

    def remove_project(self, project_id: int) -> None:
        """Delete every file of a project's generations."""
        _remove_tree(self.project_dir(project_id))

    def resolve(self, relative: str) -> Path:
        """Absolute path of a stored relative path; ``StoreError`` if it leaves the data dir."""
        text = str(relative)
        if (
            not text
            or "\x00" in text
            or PurePosixPath(text).is_absolute()
            or PureWindowsPath(text).is_absolute()
            or PureWindowsPath(text).drive
        ):
            raise StoreError(f"Path {relative!r} is not a relative path inside the data directory")
        candidate = (self.data_dir / text).resolve()
        if candidate == self.data_dir or not candidate.is_relative_to(self.data_dir):
            raise StoreError(f"Path {relative!r} points outside the data directory — refused")
        return candidate


def _check_id(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StoreError(f"Invalid {what} id {value!r}")
    return value


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)
