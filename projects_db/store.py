"""The :class:`Store`: everything the studio persists, behind one object."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from projects_db.conversations import ConversationsMixin
from projects_db.engine import (
    check_sqlite_file,
    file_lock,
    make_engine,
    migrate,
    prepare_data_dir,
    sqlite_file,
)
from projects_db.errors import StoreError
from projects_db.generations import GenerationsMixin
from projects_db.info import ACTIVE_STATUSES
from projects_db.library import LibraryMixin
from projects_db.maintenance import MaintenanceMixin
from projects_db.models import Generation, utcnow
from projects_db.projects import ProjectsMixin
from projects_db.runners import (
    INTERRUPTED_MESSAGE,
    RunnerLock,
    is_runner_alive,
    sweep_dead_lock_files,
)
from projects_db.stimuli import StimuliMixin
from projects_db.studies import StudiesMixin

_SUBDIRS = ("assets", "artifacts", "runners", "tmp")
_OPEN_LOCK = ".studio-open.lock"


class Store(
    ProjectsMixin,
    GenerationsMixin,
    LibraryMixin,
    ConversationsMixin,
    StimuliMixin,
    StudiesMixin,
    MaintenanceMixin,
):
    """Projects, input assets, generations and their files in one data directory.

    Open it with :meth:`Store.open`; it is safe to share between threads, and several
    processes may open the same data directory at once.
    """

    @classmethod
    def open(cls, data_dir: str | Path, db_url: str | None = None) -> Store:
        """Open (creating and migrating when needed) the store in ``data_dir``.

        ``db_url`` defaults to ``sqlite:///<data_dir>/studio.db``; any SQLAlchemy URL works
        (e.g. ``postgresql+psycopg://...``).  Raises :class:`StoreError` when the directory
        cannot be used or the database file is corrupt (which is then left untouched).
        """
        root = prepare_data_dir(Path(data_dir), _SUBDIRS)
        url = db_url or f"sqlite:///{root / 'studio.db'}"
        try:
            make_url(url)
        except (SQLAlchemyError, ValueError, TypeError):
            raise StoreError(
                f"Database URL {url if '@' not in url else '(hidden)'!r} is not a database "
                "URL — use e.g. "
                "sqlite:////home/me/studio.db or postgresql+psycopg://user:pass@host/dbname, "
                "or leave it out to use the data directory's own SQLite file"
            ) from None
        where = str(sqlite_file(url) or _redacted(url))
        with file_lock(root / _OPEN_LOCK):
            database = sqlite_file(url)
            if database is not None:
                check_sqlite_file(database)
            try:
                engine = make_engine(url)
            except (SQLAlchemyError, ImportError, ValueError) as exc:
                raise StoreError(f"Cannot use database URL {_redacted(url)}: {exc}") from exc
            try:
                migrate(engine, where)
            except StoreError:
                engine.dispose()
                raise
            except SQLAlchemyError as exc:
                engine.dispose()
                raise StoreError(
                    f"Cannot open database {where}: {exc.__class__.__name__}: {exc} — check it "
                    "is reachable, or start with another --data-dir"
                ) from exc
        return cls(root, url, engine)

    def close(self) -> None:
        """Release the runner (if registered) and all database connections."""
        with self._runner_guard:
            if self._runner is not None:
                self._runner.release()
                self._runner = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def database_file(self) -> Path | None:
        """The SQLite database file, or ``None`` for other databases."""
        return sqlite_file(self.url)

    def register_runner(self) -> str:
        """This store's runner id; the first call takes the runner lock for the store's life."""
        self._check_open()
        with self._runner_guard:
            if self._runner is None:
                self._runner = RunnerLock(self.runners_dir)
            return self._runner.runner_id

    def recover_stale(self) -> list[int]:
        """Fail generations left queued/running by studio processes that are gone.

        Rows of live runners (this one, or another process that still holds its lock) are
        left alone.  Recovered rows get an "Interrupted" error and lose their partial files.
        Returns the ids of the recovered generations.
        """
        own = self.runner_id
        query = (
            select(Generation.id, Generation.project_id, Generation.runner_id)
            .where(Generation.status.in_(ACTIVE_STATUSES))
            .order_by(Generation.id)
        )
        with self._reading() as session:
            candidates = session.execute(query).all()
        liveness: dict[str, bool] = {}
        stale: dict[str | None, list[tuple[int, int]]] = {}
        for generation_id, project_id, runner_id in candidates:
            if runner_id is not None:
                if runner_id == own:
                    continue
                if runner_id not in liveness:
                    liveness[runner_id] = is_runner_alive(self.runners_dir, runner_id)
                if liveness[runner_id]:
                    continue
            stale.setdefault(runner_id, []).append((generation_id, project_id))
        recovered: list[int] = []
        for runner_id, rows in stale.items():
            for start in range(0, len(rows), 500):  # a crashed grid may leave thousands
                batch = dict(rows[start : start + 500])
                for generation_id in self._fail_interrupted(list(batch), runner_id):
                    self.artifacts.remove_generation(batch[generation_id], generation_id)
                    recovered.append(generation_id)
        self.sweep_temp()
        sweep_dead_lock_files(self.runners_dir, own)
        return sorted(recovered)

    def _fail_interrupted(self, generation_ids: list[int], runner_id: str | None) -> list[int]:
        """Fail those of ``generation_ids`` still active under ``runner_id``; their ids."""
        owner = (
            Generation.runner_id.is_(None)
            if runner_id is None
            else Generation.runner_id == runner_id
        )
        where = (Generation.id.in_(generation_ids), Generation.status.in_(ACTIVE_STATUSES), owner)
        with self._writing() as session:
            # locked until the update (PostgreSQL; SQLite's write transaction holds them anyway)
            ids = list(session.scalars(select(Generation.id).where(*where).with_for_update()))
            if ids:
                session.execute(
                    update(Generation)
                    .where(Generation.id.in_(ids), *where[1:])
                    .values(status="failed", error=INTERRUPTED_MESSAGE, finished_at=utcnow())
                )
            return ids

    def __repr__(self) -> str:
        return f"Store(data_dir={str(self.data_dir)!r}, url={_redacted(self.url)!r})"


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database URL>"
