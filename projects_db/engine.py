"""Opening the database: data directory checks, SQLite safety checks, engine, migrations."""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from projects_db.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "projects_db_write"
"""Execution option that makes SQLite start the transaction with ``BEGIN IMMEDIATE``."""

_HINT = "pass another --data-dir"


def prepare_data_dir(data_dir: Path, subdirs: tuple[str, ...]) -> Path:
    """Create ``data_dir`` and ``subdirs`` and prove the directory is writable."""
    data_dir = data_dir.expanduser().absolute()
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"Data directory {data_dir} is a file, not a directory — {_HINT}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir = data_dir.resolve()
        for sub in subdirs:
            (data_dir / sub).mkdir(exist_ok=True)
        probe = data_dir / f".write-probe-{uuid.uuid4().hex}"
        try:
            with probe.open("wb") as handle:
                handle.write(b"probe")
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise _data_dir_error(data_dir, exc) from exc
    return data_dir


def _data_dir_error(data_dir: Path, exc: OSError) -> StoreError:
    if exc.errno == errno.ENOSPC:
        return StoreError(f"Data directory {data_dir} is full — free space or {_HINT}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(f"Data directory {data_dir} is not writable — {_HINT}")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return StoreError(
            f"Data directory {data_dir} cannot be created: a file is in the way — {_HINT}"
        )
    return StoreError(f"Data directory {data_dir} cannot be used ({exc.strerror}) — {_HINT}")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (serialises first opens across processes)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or ``None`` (other database, or in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).absolute()


def check_sqlite_file(path: Path) -> None:
    """Refuse a database file that is corrupt or not a studio database, without touching it."""
    if not path.exists():
        return
    if not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(
            f"Database {path} is read-only for this user — make it writable "
            f"(chmod u+rw '{path}') or start with another --data-dir"
        )
    if path.stat().st_size == 0:
        return
    corrupt = (
        f"Database {path} is corrupt or not a studio database; it was left untouched — "
        "move it away or start with another --data-dir"
    )
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise StoreError(corrupt)
    # A read-only connection to a WAL database creates empty -wal/-shm files beside it; when
    # the file is refused, remove the ones this check created so the refusal leaves no trace.
    side_files = [path.with_name(path.name + ext) for ext in ("-wal", "-shm")]
    created = [side for side in side_files if not side.exists()]
    try:
        problem = _sqlite_problem(path)
    except BaseException:
        _remove_empty_side_files(created)
        raise
    if problem is not None:
        _remove_empty_side_files(created)
        raise StoreError(f"{corrupt} ({problem})" if problem else corrupt)


def _sqlite_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable studio database (``""``: foreign tables), or ``None``."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            result = conn.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    if result != [("ok",)]:
        return f"integrity check: {result[0][0]}"
    if tables and "alembic_version" not in tables:
        return ""
    return None


def _remove_empty_side_files(paths: list[Path]) -> None:
    wal = [p for p in paths if p.name.endswith("-wal")]
    if any(p.exists() and p.stat().st_size > 0 for p in wal):
        return  # someone wrote to it meanwhile: not ours to remove
    for side in paths:
        side.unlink(missing_ok=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from pysqlite: SQLAlchemy's "begin" event emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # Writers take the write lock up front, so a read-then-write transaction can never fail
    # with SQLITE_BUSY half-way; the busy timeout makes them queue instead.
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite connections get WAL, foreign keys and a 30 s busy timeout."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def alembic_config() -> Any:
    """Alembic configuration built in code (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def newest_revision() -> str:
    """The head revision, from the migration files' numbered names (they form one line)."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine, where: str) -> None:
    """Upgrade the schema to the newest revision (a no-op when it is current; then Alembic is
    not even imported, which keeps a CLI command's start quick)."""
    if _current_revision(engine) == newest_revision():
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    with _foreign_keys_off(engine) as connection, connection.begin():
        current = MigrationContext.configure(connection).get_current_revision()
        if current == script.get_current_head():
            return
        if current is None and inspect(connection).get_table_names():
            raise StoreError(
                f"Database {where} has tables but is not a studio database; it was left "
                "untouched — move it away or start with another --data-dir"
            )
        if current is not None:
            try:
                script.get_revision(current)
            except CommandError as exc:
                raise StoreError(
                    f"Database {where} was made by a newer Affect Studio (schema revision "
                    f"{current!r}) — upgrade the studio or start with another --data-dir"
                ) from exc
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        _check_foreign_keys(connection, where)


@contextmanager
def _foreign_keys_off(engine: Engine) -> Iterator[Connection]:
    """A write connection; on SQLite with foreign keys off until it is returned.

    Migrations rebuild tables (new table, copy, drop the old, rename).  With foreign keys on,
    dropping the old table would run its ON DELETE actions on the rows that point at it, and
    ``PRAGMA foreign_keys`` cannot change inside a transaction, so it is switched here, before
    the migration's transaction begins (:func:`_check_foreign_keys` runs before it commits).
    """
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        sqlite = engine.dialect.name == "sqlite" and raw is not None
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")  # autocommit: no transaction is open yet
        try:
            yield connection.execution_options(**{WRITE_OPTION: True})
        finally:
            if sqlite:
                connection.rollback()
                raw.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection, where: str) -> None:
    """Refuse (roll back) a migration that left a row pointing at a missing row (SQLite)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise StoreError(
            f"Upgrading database {where} would leave {len(broken)} broken reference(s) "
            f"(first: {table} row {rowid} → {parent}); it was left as it was — report this"
        )
