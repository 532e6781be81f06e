"""Housekeeping of the data directory: per-job temp folders, and garbage collection of files
that nothing refers to any more (input files no generation uses, artifacts of deleted
generations, temp folders of studios that died)."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from projects_db.assets import AssetRefsMixin, remove_asset_file
from projects_db.models import Generation, Project
from projects_db.runners import is_runner_alive

STRAY_GRACE_SECONDS = 3600.0
"""Half-written files (uploads in progress, temp files) younger than this are left alone."""

_RUNNER_DIR = re.compile(r"^[0-9a-f]{32}$")
_GEN_DIR = re.compile(r"^g([0-9]+)$")
_PROJECT_DIR = re.compile(r"^p([0-9]+)$")


@dataclass
class GarbageReport:
    """What :meth:`MaintenanceMixin.collect_garbage` found (and removed unless a dry run)."""

    unused_assets: list[str] = field(default_factory=list)
    """Input files no generation uses (data-dir relative paths)."""
    stray_files: list[str] = field(default_factory=list)
    """Files and folders no database row refers to: artifacts of deleted generations or
    projects, asset files without a row, dead studios' temp folders, half-written uploads."""
    bytes: int = 0
    dry_run: bool = False

    @property
    def count(self) -> int:
        return len(self.unused_assets) + len(self.stray_files)


class MaintenanceMixin(AssetRefsMixin):
    @property
    def temp_root(self) -> Path:
        return self.data_dir / "tmp"

    def job_temp_dir(self, generation_id: int) -> Path:
        """The private temp folder of one of this runner's jobs (not created here)."""
        runner = self.runner_id
        if runner is None:
            raise RuntimeError("register_runner() must be called before jobs get temp folders")
        return self.temp_root / runner / f"g{int(generation_id)}"

    def remove_job_temp(self, generation_id: int) -> None:
        """Delete a job's temp folder and everything in it (nothing happens if there is none)."""
        folder = self.job_temp_dir(generation_id)
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # the runner's folder, once it holds no other job
            folder.parent.rmdir()

    def sweep_temp(self, *, dry_run: bool = False) -> list[Path]:
        """Remove the temp folders of runners that are gone (killed studios and CLI jobs) and
        stray temp files older than an hour; returns what was (or would be) removed."""
        found: list[Path] = []
        if not self.temp_root.is_dir():
            return found
        own = self.runner_id
        for entry in sorted(self.temp_root.iterdir()):
            if _RUNNER_DIR.fullmatch(entry.name) and entry.is_dir():
                if entry.name == own or is_runner_alive(self.runners_dir, entry.name):
                    continue
            elif not _older_than(entry, STRAY_GRACE_SECONDS):
                continue
            found.append(entry)
            if not dry_run:
                _remove(entry)
        return found

    def collect_garbage(
        self, *, dry_run: bool = False, min_age_seconds: float = STRAY_GRACE_SECONDS
    ) -> GarbageReport:
        """Find, and unless ``dry_run`` remove, everything in the data directory that nothing
        refers to. Safe while studios run: live runners' folders and anything younger than
        ``min_age_seconds`` (an upload about to be used) are kept."""
        report = GarbageReport(dry_run=dry_run)
        orphans = self.orphan_assets(grace_seconds=min_age_seconds)
        for asset in orphans:
            report.unused_assets.append(self._relative(asset.path))
            report.bytes += _size(asset.path)
        if not dry_run:
            self.release_assets(a.id for a in orphans)
        stray = [
            *self._stray_assets(min_age_seconds),
            *self._stray_artifacts(),
            *self.sweep_temp(dry_run=True),
        ]
        for path in stray:
            report.stray_files.append(self._relative(path))
            report.bytes += _size(path)
            if not dry_run:
                if path.is_relative_to(self.data_dir / "assets") and path.is_file():
                    remove_asset_file(self.data_dir, path)
                else:
                    _remove(path)
        return report

    def _stray_assets(self, min_age_seconds: float) -> list[Path]:
        root = self.data_dir / "assets"
        known = self.asset_paths()
        out = []
        for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
            rel = path.relative_to(self.data_dir).as_posix()
            if rel not in known and _older_than(path, min_age_seconds):
                out.append(path)
        return out

    def _stray_artifacts(self) -> list[Path]:
        root = self.artifacts.root
        if not root.is_dir():
            return []
        with self._reading() as session:
            projects = set(session.scalars(select(Project.id)).all())
            generations = set(session.scalars(select(Generation.id)).all())
        out = []
        for project_dir in sorted(root.iterdir()):
            match = _PROJECT_DIR.fullmatch(project_dir.name)
            if match is None or int(match[1]) not in projects or not project_dir.is_dir():
                out.append(project_dir)
                continue
            for gen_dir in sorted(project_dir.iterdir()):
                match = _GEN_DIR.fullmatch(gen_dir.name)
                if match is None or int(match[1]) not in generations:
                    out.append(gen_dir)
        return out

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.data_dir).as_posix()


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return path.lstat().st_mtime < time.time() - seconds
    except OSError:
        return False


def _size(path: Path) -> int:
    try:
        if path.is_dir() and not path.is_symlink():
            return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())
        return path.lstat().st_size
    except OSError:
        return 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
