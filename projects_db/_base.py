"""State shared by the parts of :class:`projects_db.Store`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from projects_db.artifacts import ArtifactStore, FolderOwner
from projects_db.engine import WRITE_OPTION
from projects_db.errors import StoreError
from projects_db.models import Generation
from projects_db.runners import RunnerLock


class StoreBase:
    """Engine, sessions and paths; the repository mixins build on this."""

    data_dir: Path
    artifacts: ArtifactStore
    url: str

    def __init__(self, data_dir: Path, url: str, engine: Engine) -> None:
        self.data_dir = data_dir
        self.url = url
        self.artifacts = ArtifactStore(data_dir, owner=self._folder_owner)
        self._engine: Engine | None = engine
        self._read_sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self._runner: RunnerLock | None = None
        self._runner_guard = threading.Lock()

    @property
    def runners_dir(self) -> Path:
        return self.data_dir / "runners"

    @property
    def runner_id(self) -> str | None:
        """This store's runner id, once :meth:`register_runner` was called."""
        return self._runner.runner_id if self._runner is not None else None

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        self._check_open()
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A transaction that commits on success (SQLite: holds the write lock throughout)."""
        self._check_open()
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
                raise StoreError(
                    "The database became read-only — make the data directory and its "
                    "studio.db writable again, then retry"
                ) from exc
            raise

    def _folder_owner(self, project_id: int, generation_id: int) -> FolderOwner | None:
        """The generation row an artifact folder is written for, or ``None`` if it is gone."""
        query = select(
            Generation.project_id, Generation.created_at, Generation.artifacts_json
        ).where(Generation.id == generation_id)
        with self._reading() as session:
            row = session.execute(query).first()
        if row is None or row.project_id != project_id:
            return None
        made = f"{row.created_at:%Y-%m-%dT%H:%M:%S.%fZ}"
        token = f"generation #{generation_id} of project {project_id}, made {made}"
        artifacts = json.loads(row.artifacts_json)
        return FolderOwner(token, frozenset(str(v) for v in artifacts.values()))

    def _check_open(self) -> None:
        if self._engine is None:
            raise StoreError("The project store is closed — open it again")
