"""Opening the store: the database engine, sessions and schema migrations (Alembic).

SQLite in the data folder by default; any SQLAlchemy URL otherwise (PostgreSQL:
``postgresql+psycopg://user@host/db``). The schema is only ever created by the Alembic
migrations in ``store/migrations`` so that a database made by one version upgrades to the
next.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from nenscope.core.errors import WorkbenchError
from nenscope.store.files import FileStore

__all__ = [
    "DATA_DIR_ENV",
    "MIGRATIONS_DIR",
    "Store",
    "StoreError",
    "alembic_config",
    "default_db_url",
    "downgrade",
    "resolve_data_dir",
    "schema_revision",
    "upgrade",
]

DATA_DIR_ENV = "NENSCOPE_DATA_DIR"
"""Environment variable naming the data folder when ``--data-dir`` is not given."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic script folder shipped inside the package."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write lock before failing."""


class StoreError(WorkbenchError, RuntimeError):
    """The store cannot be opened or is in a state the service cannot use."""


def resolve_data_dir(data_dir: Path | None) -> Path:
    """Return the data folder: the option, else ``NENSCOPE_DATA_DIR``; refuse neither."""
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        if not env:
            raise StoreError(
                f"No data folder: pass --data-dir DIR or set {DATA_DIR_ENV}; the service keeps "
                "its DICOM files (and its SQLite database unless --db is given) there."
            )
        data_dir = Path(env)
    return Path(data_dir).expanduser().resolve()


def default_db_url(data_dir: Path) -> str:
    """SQLite database file inside the data folder."""
    return f"sqlite:///{data_dir / 'nenscope.sqlite3'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout for many processes.

    A SQLite file keeps a small pool of connections (the server's threads share them); an
    in-memory SQLite database cannot be shared and gets none.
    """
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            **({"poolclass": NullPool} if in_memory else {"pool_size": 8, "max_overflow": 16}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if not in_memory:
            # WAL lets readers (the web server) go on while a worker writes; it is a property
            # of the database file, set once.
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the packaged migrations and at ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (all of them by default)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo the migrations down to ``revision`` (an empty database by default)."""
    command.downgrade(alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    """Return the database's current Alembic revision (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """Return the newest migration shipped with this version of nenscope."""
    head = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()
    if head is None:
        raise StoreError(f"No migration found in {MIGRATIONS_DIR}; the installation is broken.")
    return head


class Store:
    """The database and the DICOM file store of one service instance.

    Parameters
    ----------
    data_dir
        Data folder (DICOM files, analysis outputs, SQLite database by default).
    db_url
        SQLAlchemy URL; ``None`` = SQLite in ``data_dir``.
    migrate
        Bring the schema up to date on opening (what ``serve`` and ``users add`` do).
    """

    def __init__(self, data_dir: Path, db_url: str | None = None, *, migrate: bool = True) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"Cannot create the data folder {self.data_dir}: {err}.") from err
        self.db_url = db_url or default_db_url(self.data_dir)
        self.engine = make_engine(self.db_url)
        if migrate:
            upgrade(self.engine)
        elif schema_revision(self.engine) != head_revision():
            raise StoreError(
                f"The database {self.engine.url!r} is at schema revision "
                f"{schema_revision(self.engine)}, this nenscope needs {head_revision()}. "
                "Run `nenscope serve` once (it migrates) or Alembic's upgrade."
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.files = FileStore(self.data_dir / "dicom")
        self.outputs_dir = self.data_dir / "analyses"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session committed on success and rolled back on any exception."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
