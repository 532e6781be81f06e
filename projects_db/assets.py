"""Input files (assets) of :class:`projects_db.Store`, stored once by content hash."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from projects_db._base import StoreBase
from projects_db.artifacts import disk_full_error, fsync_dir
from projects_db.errors import NotFound, StoreError
from projects_db.info import AssetInfo
from projects_db.models import Asset, Generation, GenerationAsset, utcnow

_CHUNK = 1 << 20
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
_ROLE = re.compile(r"^[a-z0-9_-]{1,32}$")
_NAME_BYTES = 200
_ORPHAN_GRACE_SECONDS = 3600.0
"""An asset no generation uses yet may be an upload about to be submitted: ``gc`` leaves it
this long."""


def display_name(original_name: str, max_length: int = 255) -> str:
    """A file name fit for display: last path component, no control characters."""
    text = unicodedata.normalize("NFC", str(original_name))
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Zl", "Zp"))
    text = text.strip()[:max_length]
    return text if text.strip(".") else "file"


def asset_suffix(original_name: str) -> str:
    """The lower-case extension of ``original_name`` when it is a plain one, else ``""``."""
    suffix = os.path.splitext(display_name(original_name))[1].lower()
    return suffix if _SUFFIX.fullmatch(suffix) else ""


def stored_name(original_name: str) -> str:
    """The file name an asset is stored under: the user's own name (so messages about the file
    name what they chose), cut to fit a file system's 255-byte limit, suffix kept."""
    name = display_name(original_name, max_length=4096)
    stem, suffix = os.path.splitext(name)
    if not _SUFFIX.fullmatch(suffix.lower()):
        stem, suffix = name, ""
    budget = _NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").strip() or "file"
    return stem + suffix


class AssetsMixin(StoreBase):
    def add_asset(self, source: Path | bytes, original_name: str) -> AssetInfo:
        """Store an input file once by content; adding the same bytes again returns that row."""
        assets_dir = self.data_dir / "assets"
        temp = assets_dir / f".incoming-{secrets.token_hex(8)}"
        try:
            sha, size = _copy_hashed(source, temp)
            if size == 0:
                raise StoreError(
                    f"{display_name(original_name)} is empty (0 bytes) — choose the file again, "
                    "or export it again from the program that made it"
                )
            rel = f"assets/{sha[:2]}/{sha}/{stored_name(original_name)}"
            with self._reading() as session:
                row = session.scalar(select(Asset).where(Asset.sha256 == sha))
                if row is not None:
                    rel = row.rel_path
            target = self.data_dir / rel
            if target.is_file() and target.stat().st_size == size:
                temp.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
                fsync_dir(target.parent)
        except StoreError:
            temp.unlink(missing_ok=True)
            raise
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if error := disk_full_error(assets_dir, exc):
                raise error from exc
            if isinstance(source, Path) and not source.is_file():
                raise StoreError(f"Input file {source} does not exist or is not a file") from exc
            raise StoreError(f"Could not store input file {original_name!r}: {exc}") from exc
        if row is not None:
            return self._asset_info(row)
        row = Asset(
            sha256=sha,
            original_name=display_name(original_name),
            size=size,
            rel_path=rel,
            created_at=utcnow(),
        )
        try:
            with self._writing() as session:
                session.add(row)
        except IntegrityError:  # the same content was added concurrently
            with self._reading() as session:
                row = session.scalars(select(Asset).where(Asset.sha256 == sha)).one()
        return self._asset_info(row)

    def get_asset(self, asset_id: int) -> AssetInfo:
        """One asset; :class:`NotFound` when it does not exist."""
        with self._reading() as session:
            row = session.get(Asset, asset_id)
        if row is None:
            raise NotFound(f"Input file {asset_id} does not exist")
        return self._asset_info(row)

    def link_asset(self, generation_id: int, asset_id: int, role: str) -> None:
        """Record that a generation used an asset in ``role`` (replaces that role's asset)."""
        if not _ROLE.fullmatch(role):
            raise StoreError(f"Asset role {role!r} is invalid — use up to 32 of [a-z0-9_-]")
        with self._writing() as session:
            if session.get(Generation, generation_id) is None:
                raise NotFound(f"Generation {generation_id} does not exist")
            if session.get(Asset, asset_id) is None:
                raise NotFound(f"Input file {asset_id} does not exist")
            link = session.get(GenerationAsset, (generation_id, role))
            if link is None:
                session.add(
                    GenerationAsset(generation_id=generation_id, role=role, asset_id=asset_id)
                )
            else:
                link.asset_id = asset_id

    def generation_assets(self, generation_id: int) -> list[tuple[str, AssetInfo]]:
        """The assets a generation used, as ``(role, asset)`` sorted by role."""
        query = (
            select(GenerationAsset.role, Asset)
            .join(Asset, Asset.id == GenerationAsset.asset_id)
            .where(GenerationAsset.generation_id == generation_id)
            .order_by(GenerationAsset.role)
        )
        with self._reading() as session:
            rows = session.execute(query).all()
        return [(role, self._asset_info(asset)) for role, asset in rows]

    def _asset_info(self, row: Asset) -> AssetInfo:
        return AssetInfo(
            id=row.id,
            sha256=row.sha256,
            original_name=row.original_name,
            size=row.size,
            path=self.artifacts.resolve(row.rel_path),
            created_at=row.created_at,
        )


def _copy_hashed(source: Path | bytes, temp: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with temp.open("xb") as out:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            digest.update(data)
            out.write(data)
            size = len(data)
        else:
            with Path(source).open("rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


class AssetRefsMixin(AssetsMixin):
    """Which generations use which assets, and removing the assets nobody uses any more."""

    def assets_at(self, paths: Iterable[object]) -> list[AssetInfo]:
        """The stored assets whose files are at any of ``paths`` (other values are ignored)."""
        root = self.data_dir / "assets"
        rels = set()
        for value in paths:
            if not isinstance(value, str | Path) or not str(value) or "\x00" in str(value):
                continue
            try:
                path = Path(value).resolve()
            except (OSError, RuntimeError, ValueError):
                continue
            if path.is_relative_to(root):
                rels.add(path.relative_to(self.data_dir).as_posix())
        if not rels:
            return []
        with self._reading() as session:
            rows = session.scalars(select(Asset).where(Asset.rel_path.in_(sorted(rels)))).all()
        return [self._asset_info(row) for row in rows]

    def assets_of_generations(self, generation_ids: Iterable[int]) -> set[int]:
        """Ids of the assets used by any of ``generation_ids``."""
        ids = sorted(set(generation_ids))
        if not ids:
            return set()
        query = select(GenerationAsset.asset_id).where(GenerationAsset.generation_id.in_(ids))
        with self._reading() as session:
            return set(session.scalars(query).all())

    def release_assets(self, asset_ids: Iterable[int]) -> list[AssetInfo]:
        """Delete (row and file) those of ``asset_ids`` that no generation uses any more."""
        removed = []
        for asset_id in sorted(set(asset_ids)):
            with self._writing() as session:
                row = session.get(Asset, asset_id)
                if row is None or _use_count(session, asset_id):
                    continue
                info = self._asset_info(row)
                session.delete(row)
            remove_asset_file(self.data_dir, info.path)
            removed.append(info)
        return removed

    def orphan_assets(self, *, grace_seconds: float = _ORPHAN_GRACE_SECONDS) -> list[AssetInfo]:
        """Assets that no generation uses, older than ``grace_seconds`` (fresh uploads may be
        about to be used)."""
        cutoff = utcnow() - timedelta(seconds=grace_seconds)
        used = select(GenerationAsset.asset_id)
        query = select(Asset).where(Asset.id.not_in(used), Asset.created_at <= cutoff)
        with self._reading() as session:
            return [self._asset_info(row) for row in session.scalars(query).all()]

    def asset_paths(self) -> set[str]:
        """The data-dir relative paths of every stored asset."""
        with self._reading() as session:
            return set(session.scalars(select(Asset.rel_path)).all())


def _use_count(session: Session, asset_id: int) -> int:
    query = select(func.count()).select_from(GenerationAsset)
    return int(session.scalar(query.where(GenerationAsset.asset_id == asset_id)) or 0)


def remove_asset_file(data_dir: Path, path: Path) -> None:
    """Remove an asset's file and the folders it leaves empty (up to ``data_dir/assets``)."""
    path.unlink(missing_ok=True)
    root = data_dir / "assets"
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent
