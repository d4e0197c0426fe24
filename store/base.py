"""The store on SQLite (one file, WAL, every transaction durable before it returns) and what both engines share.

Use :func:`qamtu.store.open_store` to open one. Everything a package needs is public here:
:meth:`Store.transaction`, :meth:`Store.query` / :meth:`Store.rows` / :meth:`Store.iter_rows` /
:meth:`Store.frame`, :meth:`Store.read_parallel` for large column reads, :meth:`Store.column_types`
and :meth:`Transaction.copy` for bulk loads. Errors of the engine never escape raw: they become
:class:`~qamtu.store.errors.StoreError` saying what to do, and a transaction is rolled back on any
exception, so the store is never left inside a half-done transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence

from .errors import StoreError, UniqueViolation, ValueRejected
from .migrations import LEGACY_MARKER, Migration, latest, registered

if TYPE_CHECKING:
    import pandas as pd

INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_STORE_MIGRATIONS = ("CREATE TABLE IF NOT EXISTS store_migrations (owner TEXT NOT NULL, number INTEGER NOT NULL, "
                     "name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_utc TEXT NOT NULL, "
                     "PRIMARY KEY (owner, number))")
_LEGACY_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_utc TEXT NOT NULL)")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_params(params: Sequence[Any], where: str) -> None:
    """Refuse integers that neither engine can hold (outside signed 64 bits) before the engine sees them."""
    for i, v in enumerate(params):
        if type(v) is int and (v > INT_MAX or v < INT_MIN):
            raise ValueRejected(f"{where}: parameter {i + 1} ({str(v)[:40]}) is outside the 64-bit integer range "
                                "a store can hold; nothing was written (store such a value as text)")


def _read_only_fs(path: Path) -> bool:
    """True when the store file or its folder cannot be written (read-only mount or permissions)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        pass
    return not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


class Transaction:
    """What a ``with store.transaction() as tx`` block writes and reads through (``?`` placeholders)."""

    def __init__(self, store: "Store", action: str) -> None:
        self._store = store
        self.action = action

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._store._run(sql, params, self.action)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        self._store._run_many(sql, rows, self.action)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a statement that returns rows (SELECT, ``RETURNING``); rows as tuples."""
        return self._store._run(sql, params, self.action, fetch=True)[1]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Like :meth:`rows`, each row a dict keyed by column name."""
        names, rows = self._store._run(sql, params, self.action, fetch=True)
        return [dict(zip(names, r)) for r in rows]

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
             types: Optional[Sequence[str]] = None) -> None:
        """Bulk-insert ``rows`` into ``columns`` of ``table``: PostgreSQL's COPY (binary when ``types``,
        the columns' SQL types from :meth:`Store.column_types`, are given); an INSERT per row on SQLite."""
        self._store._copy(table, tuple(columns), rows, types, self.action)


class Store:
    """A Qamtu store in one SQLite file. Open with :func:`qamtu.store.open_store`.

    ``read_only`` opens the file read-only (``mode=ro``): the journal mode is left as it is, no
    migration runs, and every write fails with a :class:`StoreError`."""

    #: "sqlite" or "postgresql": which SQL dialect the store speaks (for the few statements that differ).
    engine = "sqlite"
    #: True when :meth:`read_parallel` can split a read between processes.
    can_read_parallel = True

    def __init__(self, location: Path | str, *, read_only: bool = False, migrate: bool = True) -> None:
        self.location = str(location)
        self.path: Optional[Path] = Path(location) if self.engine == "sqlite" else None
        self.read_only = read_only
        self._lock = threading.RLock()
        self._depth = 0
        self._failed = False
        self._types: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self._connect()
        try:
            if read_only or not migrate:
                self._check_known()
            else:
                self.migrate()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ engine specifics (SQLite here)
    _engine_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    #: the driver's connection (``sqlite3.Connection`` here, psycopg's in :class:`PostgresStore`); None once closed
    _conn: Any

    @property
    def label(self) -> str:
        """How messages name this store (the file path; the URL without password for a server)."""
        return self.location

    def _connect(self) -> None:
        assert self.path is not None
        try:
            if self.read_only:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
                self._conn.execute("PRAGMA query_only = ON")
            else:
                self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise self._explain("opening the store", exc) from None

    def _begin_sql(self) -> str:
        return "BEGIN" if self.read_only else "BEGIN IMMEDIATE"

    def _exec(self, sql: str, params: Sequence[Any]):
        return self._conn.execute(sql, params)

    def _exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def _copy(self, table: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]],
              types: Optional[Sequence[str]], action: str) -> None:
        self._run_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       rows, action)

    def _explain(self, action: str, exc: BaseException) -> StoreError:
        text = str(exc)
        low = text.lower()
        if isinstance(exc, sqlite3.IntegrityError) and "unique" in low:
            return UniqueViolation(f"{self.label}: {action} failed: a row with this key is already there ({text})")
        if isinstance(exc, (OverflowError, TypeError, ValueError)):
            return ValueRejected(f"{self.label}: {action} failed: a value cannot be stored "
                                 f"({type(exc).__name__}: {text})")
        if self.read_only and ("readonly" in low or "read-only" in low):
            hint = "the store was opened read-only (a read or verify command); nothing was written"
        elif "readonly" in low or "read-only" in low or (
                "unable to open" in low and self.path and _read_only_fs(self.path)):
            hint = "the file or its folder is read-only: recording stopped; use a writable --db path"
        elif "full" in low:
            hint = "the disk is full: recording stopped; free space, then start a new session (the file is intact)"
        elif "locked" in low or "busy" in low:
            hint = "another program holds a write lock on the file; close it and retry"
        elif "not a database" in low or "malformed" in low:
            hint = "the file is not a Qamtu/SQLite database or is damaged"
        elif "no such table" in low:
            hint = self._older_schema_hint(text)
        else:
            hint = text
        return StoreError(f"{self.label}: {action} failed: {hint} ({type(exc).__name__}: {text})")

    def _older_schema_hint(self, text: str) -> str:
        """Advice for a missing table: a store of an older qamtu opened read-only is not upgraded."""
        try:
            pending = self.pending_migrations() if self.read_only else []
        except BaseException:  # the store cannot even say: keep the engine's words
            pending = []
        if not pending:
            return text
        names = ", ".join(f"{m.owner} {m.number}" for m in pending)
        return (f"{text}: the store was written by an older qamtu (missing migrations {names}) and read commands "
                "never upgrade a store; run a writing command on it once (or push it into an up-to-date store)")

    def _legacy_version(self) -> int:
        """The single-sequence schema version of qamtu 0.1.0 (SQLite: ``user_version``)."""
        return int(self._exec("PRAGMA user_version", ()).fetchone()[0])

    def _legacy_statements(self) -> list[tuple[str, tuple]]:
        return [(f"PRAGMA user_version = {LEGACY_MARKER}", ())]

    @contextmanager
    def _migration_lock(self):
        yield

    def table_exists(self, table: str) -> bool:
        """True when the store has a table (or view) of this name."""
        return bool(self.rows("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)))

    def column_types(self, table: str, columns: Sequence[str]) -> list[str]:
        """SQL types of ``columns`` of ``table`` as this store declares them (for a typed COPY)."""
        key = (table, tuple(columns))
        if key not in self._types:
            found = {r[1]: r[2] for r in self.rows(f"PRAGMA table_info({table})")}
            missing = [c for c in columns if c not in found]
            if missing:
                raise StoreError(f"{self.label}: table {table} has no column(s) {', '.join(missing)}")
            self._types[key] = [found[c] for c in columns]
        return self._types[key]

    # ------------------------------------------------------------------ running statements
    def _run(self, sql: str, params: Sequence[Any], action: str, fetch: bool = False):
        check_params(params, f"{self.label}: {action}")
        with self._lock:
            try:
                cur = self._exec(sql, params)
                if not fetch:
                    return None
                names = [d[0] for d in cur.description] if cur.description else []
                return names, list(cur.fetchall()) if cur.description else []
            except self._bad_statement as exc:
                if self._depth:
                    self._failed = True
                raise self._explain(action, exc) from None

    @property
    def _bad_statement(self) -> tuple[type[BaseException], ...]:
        """What a statement may raise that :meth:`_explain` turns into a :class:`StoreError`: the engine's
        errors and the driver's refusals of a parameter (too large, wrong type or value)."""
        return (*self._engine_errors, OverflowError, TypeError, ValueError)

    def _run_many(self, sql: str, rows: Iterable[Sequence[Any]], action: str) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        where = f"{self.label}: {action}"
        for r in rows:
            check_params(r, where)
        with self._lock:
            try:
                self._exec_many(sql, rows)
            except self._bad_statement as exc:
                if self._depth:
                    self._failed = True
                raise self._explain(action, exc) from None

    @contextmanager
    def transaction(self, action: str = "writing") -> Iterator[Transaction]:
        """Everything written in the block commits together, or, on any exception, not at all.

        ``action`` names the work in error messages ("recording sample 12 of session ..."). A
        transaction opened inside another (on the same thread) joins it: if anything inside fails,
        the outer one keeps nothing and raises, even if the inner exception was caught."""
        with self._lock:
            tx = Transaction(self, action)
            if self._depth:
                self._depth += 1
                try:
                    yield tx
                except BaseException:
                    self._failed = True
                    raise
                finally:
                    self._depth -= 1
                return
            try:
                self._exec(self._begin_sql(), ())
            except self._engine_errors as exc:
                raise self._explain(action, exc) from None
            self._depth, self._failed = 1, False
            try:
                yield tx
            except BaseException as exc:
                self._depth = 0
                self._rollback()
                if isinstance(exc, self._engine_errors):
                    raise self._explain(action, exc) from None
                raise
            self._depth = 0
            if self._failed:
                self._rollback()
                raise StoreError(f"{self.label}: {action}: a write inside the transaction failed; "
                                 "nothing of it was kept")
            try:
                self._exec("COMMIT", ())
            except self._engine_errors as exc:
                self._rollback()
                raise self._explain(f"{action} (commit)", exc) from None

    def _rollback(self) -> None:
        try:
            self._exec("ROLLBACK", ())
        except BaseException:  # nothing open (the engine already rolled back) or the connection is gone
            pass

    def batch(self, action: str = "writing a batch"):
        """:meth:`transaction` under the name bulk imports and generators use."""
        return self.transaction(action)

    def execute(self, sql: str, params: Sequence[Any] = (), action: str = "writing") -> None:
        """Run one statement in a transaction of its own (or in the one open on this thread)."""
        with self.transaction(action) as tx:
            tx.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = (), action: str = "reading") -> list[tuple]:
        """Rows of a query as tuples."""
        return self._run(sql, params, action, fetch=True)[1]

    def query(self, sql: str, params: Sequence[Any] = (), action: str = "reading") -> list[dict[str, Any]]:
        """Rows of a query as dicts keyed by column name."""
        names, rows = self._run(sql, params, action, fetch=True)
        return [dict(zip(names, r)) for r in rows]

    def scalar(self, sql: str, params: Sequence[Any] = (), action: str = "reading") -> Any:
        """The first column of the first row (None when there is no row)."""
        rows = self.rows(sql, params, action)
        return rows[0][0] if rows else None

    def iter_rows(self, sql: str, params: Sequence[Any] = (), size: int = 10_000,
                  action: str = "reading") -> Iterator[list[tuple]]:
        """Rows of a query in lists of at most ``size`` tuples, fetched as they are consumed.

        Holds the store's lock until the iterator is exhausted or closed: use it from one thread."""
        check_params(params, f"{self.label}: {action}")
        with self._lock:
            try:
                cur = self._cursor(sql, params)
                while True:
                    rows = cur.fetchmany(size)
                    if not rows:
                        return
                    yield list(rows)
            except self._bad_statement as exc:
                raise self._explain(action, exc) from None

    def _cursor(self, sql: str, params: Sequence[Any]):
        return self._exec(sql, params)

    def frame(self, sql: str, params: Sequence[Any] = (), action: str = "reading") -> "pd.DataFrame":
        """A query's rows as a DataFrame (columns named as the query names them)."""
        import pandas as pd   # here, not at the top: a probe that records samples never loads pandas (~35 MiB)

        names, rows = self._run(sql, params, action, fetch=True)
        return pd.DataFrame.from_records(rows, columns=names, coerce_float=True) if rows else \
            pd.DataFrame({n: pd.Series(dtype=object) for n in names})

    def read_parallel(self, table: str, sql: str, params: Sequence[Any],
                      convert: Callable[[Iterator[list[tuple]]], Any], *, workers: int = 2,
                      progress: Callable[[int], None] | None = None, chunk: int = 500_000) -> list[Any]:
        """Read a large ``SELECT ... FROM table ... WHERE ...`` in ``workers`` processes, each over a slice of
        ``table``'s rows, on a read-only connection of its own.

        ``sql`` must end with its WHERE clause (the slice is added with ``AND``). ``convert`` (a
        module-level function, as it is sent to the workers) turns the slice's rows, given in lists
        of at most ``chunk``, into one part (e.g. a DataFrame); parts come back in table order.
        ``progress(rows)`` is called as each part arrives (``len(part)`` rows). On an engine that
        cannot split reads (:attr:`can_read_parallel` False) the whole read runs here, as one part."""
        if not self.can_read_parallel or workers <= 1:
            part = convert(self.iter_rows(sql, params, chunk))
            if progress:
                progress(len(part))
            return [part]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        import numpy as np

        lo, hi = self.rows(f"SELECT MIN(rowid), MAX(rowid) FROM {table}")[0]
        if lo is None:
            return [convert(iter(()))]
        edges = np.linspace(lo, hi + 1, workers * 2 + 1).astype(np.int64)  # 2 slices per worker: even finish
        parts: dict[int, Any] = {}
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded process
        location = str(Path(self.location).resolve())
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = {pool.submit(_read_slice, location, sql + " AND rowid >= ? AND rowid < ?",
                                   [*params, int(edges[i]), int(edges[i + 1])], convert, chunk): i
                       for i in range(len(edges) - 1)}
            for f in as_completed(futures):
                parts[futures[f]] = f.result()
                if progress:
                    progress(len(parts[futures[f]]))
        return [parts[i] for i in sorted(parts)]

    # ------------------------------------------------------------------ schema
    def schema_versions(self) -> dict[str, int]:
        """owner -> the highest migration of that owner this store has applied."""
        if not self.table_exists("store_migrations"):
            return {}
        return {o: int(n) for o, n in self.rows("SELECT owner, MAX(number) FROM store_migrations GROUP BY owner")}

    def pending_migrations(self) -> list[Migration]:
        """Registered migrations this store has not applied yet, in the order they would run."""
        done = set()
        if self.table_exists("store_migrations"):
            done = {(o, int(n)) for o, n in self.rows("SELECT owner, number FROM store_migrations")}
        else:
            legacy = self._legacy_version_or_zero()
            done = {(m.owner, m.number) for m in registered() if m.legacy_version and m.legacy_version <= legacy}
        return [m for m in registered() if (m.owner, m.number) not in done]

    def _legacy_version_or_zero(self) -> int:
        try:
            return self._legacy_version()
        except self._engine_errors:
            return 0

    def _check_known(self) -> None:
        """Refuse a store written by a newer qamtu (a migration this one does not know)."""
        try:
            legacy = self._legacy_version()
            versions = self.schema_versions()
        except self._engine_errors as exc:
            raise self._explain("reading the schema version", exc) from None
        if legacy > LEGACY_MARKER:
            raise StoreError(f"{self.label}: schema version {legacy} is newer than this qamtu knows "
                             f"({LEGACY_MARKER}); upgrade qamtu to open it")
        known = latest()
        newer = [f"{o} {n} (this qamtu knows {known[o]})" for o, n in versions.items() if o in known and n > known[o]]
        if newer:
            raise StoreError(f"{self.label}: the store has migrations newer than this qamtu knows: {', '.join(newer)}; "
                             "upgrade qamtu to open it")

    def migrate(self) -> list[Migration]:
        """Apply every pending migration, each in one transaction; returns those applied.

        A store of qamtu 0.1.0 (schema versions 1-4) first has its applied versions recorded per owner."""
        if self.read_only:
            raise StoreError(f"{self.label}: opened read-only: cannot migrate (open it for writing)")
        with self._migration_lock():
            self._check_known()
            legacy = self._legacy_version()
            if not self.table_exists("store_migrations") or legacy < LEGACY_MARKER:
                had_legacy = self.table_exists("schema_migrations")
                when = dict(self.rows("SELECT version, applied_utc FROM schema_migrations")) if had_legacy else {}
                with self.transaction("recording migrations per owner") as tx:
                    tx.execute(_STORE_MIGRATIONS)
                    for m in registered():
                        if m.legacy_version and m.legacy_version <= legacy:
                            tx.execute("INSERT INTO store_migrations (owner, number, name, sha256, applied_utc) "
                                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                       (m.owner, m.number, m.name, m.sha256(self.engine),
                                        when.get(m.legacy_version, _now())))
                    tx.execute(_LEGACY_TABLE)
                    tx.execute("INSERT INTO schema_migrations (version, name, applied_utc) VALUES (?, ?, ?) "
                               "ON CONFLICT DO NOTHING",
                               (LEGACY_MARKER, "migrations are recorded per owner in store_migrations", _now()))
                    for sql, params in self._legacy_statements():
                        tx.execute(sql, params)
            applied = []
            for m in self.pending_migrations():
                with self.transaction(f"migrating {m.owner} to migration {m.number} ({m.name})") as tx:
                    for sql in m.statements(self.engine):
                        tx.execute(sql)
                    tx.execute("INSERT INTO store_migrations (owner, number, name, sha256, applied_utc) "
                               "VALUES (?, ?, ?, ?, ?)", (m.owner, m.number, m.name, m.sha256(self.engine), _now()))
                applied.append(m)
            return applied

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            conn = getattr(self, "_conn", None)
            if conn is not None:
                conn.close()
                self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}{' read-only' if self.read_only else ''}>"


def _read_slice(location: str, sql: str, params: list, convert: Callable, chunk: int) -> Any:
    """Worker of :meth:`Store.read_parallel`: one slice through a read-only store of its own."""
    store = Store(location, read_only=True)
    try:
        return convert(store.iter_rows(sql, params, chunk))
    finally:
        store.close()
