"""Input files (assets) of :class:`projects_db.Store`, stored once by content hash."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from projects_db._base import StoreBase
from projects_db.artifacts import disk_full_error, fsync_dir
from projects_db.errors import NotFound, StoreError
from projects_db.info import AssetInfo
from projects_db.models import Asset, Generation, GenerationAsset, utcnow

_CHUNK = 1 << 20
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
_ROLE = re.compile(r"^[a-z0-9_-]{1,32}$")


def display_name(original_name: str) -> str:
    """A file name fit for display: last path component, no control characters."""
    text = unicodedata.normalize("NFC", str(original_name))
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Zl", "Zp"))
    text = text.strip()[:255]
    return text if text.strip(".") else "file"


def asset_suffix(original_name: str) -> str:
    """The lower-case extension of ``original_name`` when it is a plain one, else ``""``."""
    suffix = os.path.splitext(display_name(original_name))[1].lower()
    return suffix if _SUFFIX.fullmatch(suffix) else ""


class AssetsMixin(StoreBase):
    def add_asset(self, source: Path | bytes, original_name: str) -> AssetInfo:
        """Store an input file once by content; adding the same bytes again returns that row."""
        assets_dir = self.data_dir / "assets"
        temp = assets_dir / f".incoming-{secrets.token_hex(8)}"
        try:
            sha, size = _copy_hashed(source, temp)
            rel = f"assets/{sha[:2]}/{sha}{asset_suffix(original_name)}"
            with self._reading() as session:
                row = session.scalar(select(Asset).where(Asset.sha256 == sha))
                if row is not None:
                    rel = row.rel_path
            target = self.data_dir / rel
            if target.is_file() and target.stat().st_size == size:
                temp.unlink()
            else:
                target.parent.mkdir(exist_ok=True)
                os.replace(temp, target)
                fsync_dir(target.parent)
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
