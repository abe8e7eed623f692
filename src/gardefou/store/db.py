"""One storage interface over SQLite (the embedded default) and PostgreSQL (for scale).

Code above this layer writes portable SQL with ``?`` placeholders; the PostgreSQL adapter
rewrites them. Migrations, schema versions and when they run: ``gardefou.store.schema``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError, StoreError
from gardefou.store.schema import apply_pending, migrations, open_policy

__all__ = ["Database", "connect", "default_db_path", "migrations"]

#: the first key of ``Database.lock``'s advisory locks (any constant: it names the key space)
_LOCK_SPACE = 7263302


def default_db_path() -> Path:
    """$GARDEFOU_DB, else $XDG_DATA_HOME/gardefou/gardefou.db (~/.local/share/... by default)."""
    if os.environ.get("GARDEFOU_DB"):
        return Path(os.environ["GARDEFOU_DB"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gardefou" / "gardefou.db"


class Database:
    """A connection with a dialect. Thread-safe for the embedded use (one lock per database)."""

    dialect: str = "sqlite"

    def __init__(self, conn: Any, dialect: str, url: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self.url = url
        self._lock = threading.RLock()
        self._depth = 0

    # -- SQL -------------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql(sql), tuple(params))
            if self._depth == 0:
                self._conn.commit()
            return cur

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            cur = self._conn.cursor()
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])
            if self._depth == 0:
                self._conn.commit()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql(sql), tuple(params))
            cols = [d[0] for d in cur.description or ()]
            rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            if self._depth == 0 and self.dialect == "postgres":
                # end the implicit read transaction: an idle-in-transaction connection holds
                # its snapshot and locks (blocking migrations, DROP, VACUUM) until it writes
                self._conn.commit()
            return rows

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def has_table(self, table: str) -> bool:
        """Whether ``table`` exists; readers of optional tables (reports, evidence) ask this."""
        if self.dialect == "postgres":
            row = self.query_one("SELECT to_regclass(?) AS t", (table,))
            return bool(row and row["t"])
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.query_one(sql, (table,)) is not None

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT into a table with an ``id`` column and return the new id."""
        if self.dialect == "postgres":
            row = self.execute(sql + " RETURNING id", params).fetchone()
            return int(row[0])
        return int(self.execute(sql, params).lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All statements inside commit together or not at all (nestable)."""
        with self._lock:
            if self._depth == 0 and self.dialect == "sqlite" and not self._conn.in_transaction:
                # Python's sqlite3 opens no transaction before DDL and takes the write lock only
                # at the first write: BEGIN IMMEDIATE makes every statement inside (migrations
                # included) atomic and serializes writers up front instead of failing midway.
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.rollback()
                raise
            self._depth -= 1
            if self._depth == 0:
                self._conn.commit()

    def lock(self, key: str) -> None:
        """Serialize, until this transaction ends, every transaction that locks the same
        ``key``: a check-then-insert (count the rows, then add one) stays atomic across
        processes. Only inside ``transaction()``: a lock released at once guards nothing.

        PostgreSQL: a transaction-scoped advisory lock on a digest of the key (READ COMMITTED
        lets two transactions count the same rows and both insert otherwise). SQLite: the
        ``BEGIN IMMEDIATE`` of ``transaction()`` already holds the one write lock."""
        if self._depth == 0:
            raise StoreError(
                f"db.lock({key!r}) called outside a transaction; call it inside "
                "db.transaction(), before the reads it protects"
            )
        if self.dialect == "postgres":
            digest = hashlib.sha256(key.encode("utf-8")).digest()
            # the two-int form: a key space apart from migrate()'s single bigint lock
            self.execute(
                "SELECT pg_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer))",
                (_LOCK_SPACE, int.from_bytes(digest[:4], "big", signed=True)),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- schema ----------------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self.query_one("SELECT MAX(version) AS v FROM schema_version")
        return int(row["v"] or 0) if row else 0

    def migrate(self) -> int:
        """Apply pending migrations; return the resulting version."""
        if self.dialect != "postgres":
            return apply_pending(self)
        # Two processes opening a fresh database at once: one migrates while the other waits
        # on this session lock, then finds every version applied.
        self.execute("SELECT pg_advisory_lock(7263301)")
        try:
            return apply_pending(self)
        finally:
            self.execute("SELECT pg_advisory_unlock(7263301)")


def connect(url: str | os.PathLike[str] | None = None, migrate: bool | None = None) -> Database:
    """Open a database by URL or path: ``postgresql://...``, ``sqlite:///path``, a path, or
    None for the default file.

    ``migrate``: True applies pending migrations; False opens the store as it is (``gardefou db
    status``); None (the default) follows the operator's choice (``gardefou.store.schema``):
    migrate, or with GARDEFOU_AUTO_MIGRATE=0 / ``--no-migrate`` refuse a store that is behind
    with SchemaBehindError naming ``gardefou db upgrade``."""
    target = str(url) if url is not None else str(default_db_path())
    _check_scheme(target)
    conn: Any
    if target.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise ConfigError(
                "PostgreSQL needs psycopg; install it with `pip install 'gardefou[scale]'`"
            ) from None
        try:
            conn = psycopg.connect(target)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_redact(target)}: {exc}") from None
        db = Database(conn, "postgres", _redact(target))
    else:
        path = target.removeprefix("sqlite:///").removeprefix("sqlite://")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from None
        _set_wal(conn, path)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        db = Database(conn, "sqlite", path)
    if migrate is None:
        try:
            open_policy(db)
        except BaseException:
            db.close()
            raise
    elif migrate:
        db.migrate()
    return db


#: a URL scheme (two letters or more: ``C:\\data`` is a Windows path, not a scheme)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):(//)?")
_ACCEPTED = ("postgresql", "postgres", "sqlite")


def _check_scheme(target: str) -> None:
    """Refuse a URL of another database: opened as a path, ``mysql://h/db`` would silently
    become a new SQLite file named ``mysql:`` and the service would run on an empty store."""
    m = _SCHEME.match(target)
    if m is None or (m.group(2) is None and m.group(1).lower() != "sqlite"):
        return  # a path (``data/g.db``, ``C:\\g.db``) or ``:memory:``
    if m.group(1) in _ACCEPTED and m.group(2):
        return
    raise ConfigError(
        f"store URL scheme {m.group(1)!r} (in {_redact(target)!r}) is not supported; use a "
        "postgresql://user@host/db URL, a sqlite:///path/to/file.db URL or a plain file path"
    )


def _set_wal(conn: sqlite3.Connection, path: str, wait_s: float = 30.0) -> None:
    """Switch a SQLite file to WAL. Changing the journal mode needs an exclusive lock for which
    SQLite does not wait (two processes opening a fresh file at once get 'database is
    locked' at once), so retry until another opener has done it or the wait runs out."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise StoreError(f"cannot open SQLite database {path}: {exc}") from None
            time.sleep(0.01)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
