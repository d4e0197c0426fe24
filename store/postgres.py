"""The store on PostgreSQL/PostGIS: the regional office's database.

Same API as the SQLite store (:class:`~qamtu.store.base.Store`); statements keep their ``?``
placeholders, translated token by token (:func:`qamtu.store.sql.to_pyformat`), so a ``?`` or ``%``
inside a string literal is left as it is. Open one with :func:`qamtu.store.open_store` and a
``postgresql://`` URL.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterable, Optional, Sequence

from ..textsafe import redact_secrets
from .base import Store
from .errors import StoreError, UniqueViolation, ValueRejected
from .sql import to_pyformat

#: memory per sort or hash of a query of this store's sessions: the classification groups the daily
#: aggregates of a period (hundreds of thousands of rows) in the database; at the server's default
#: 4 MB that grouping spills to disk and takes several times longer (bench/bench_coverage.py --postgres)
WORK_MEM = "64MB"

#: pg_advisory_lock key held while migrating: concurrent first opens of an empty database must not race
MIGRATION_LOCK = 637061


_pyformat = lru_cache(maxsize=512)(to_pyformat)


class PostgresStore(Store):
    """A Qamtu store in a PostgreSQL database with PostGIS (migrated on open unless read-only)."""

    engine = "postgresql"
    can_read_parallel = False

    def __init__(self, url: str, *, read_only: bool = False, migrate: bool = True) -> None:
        import psycopg

        self.url = url
        self._engine_errors = (psycopg.Error,)
        super().__init__(url, read_only=read_only, migrate=migrate)

    @property
    def label(self) -> str:
        return redact_secrets(self.url)

    def _connect(self) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute(f"SET work_mem = '{WORK_MEM}'")
            if self.read_only:
                self._conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: cannot connect ({type(exc).__name__}: {str(exc).strip()}); "
                             "check the URL, that the server runs, and the user's rights") from None

    def _begin_sql(self) -> str:
        return "BEGIN"

    def _exec(self, sql: str, params: Sequence[Any]):
        if not params:  # no placeholders: '%' may then be SQL's modulo operator
            return self._conn.execute(sql)
        return self._conn.execute(_pyformat(sql), tuple(params))

    def _cursor(self, sql: str, params: Sequence[Any]):
        cur = self._conn.cursor()
        return cur.execute(_pyformat(sql), tuple(params)) if params else cur.execute(sql)

    def _exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_pyformat(sql), [tuple(r) for r in rows])

    def _copy(self, table: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]],
              types: Optional[Sequence[str]], action: str) -> None:
        import psycopg

        binary = " (FORMAT BINARY)" if types else ""
        with self._lock:
            try:
                statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}"
                with self._conn.cursor() as cur, cur.copy(statement) as cp:
                    if types:
                        cp.set_types(list(types))
                    for r in rows:
                        cp.write_row(r)
            except (psycopg.Error, OverflowError, TypeError, ValueError) as exc:
                if self._depth:
                    self._failed = True
                raise self._explain(action, exc) from None

    def _explain(self, action: str, exc: BaseException) -> StoreError:
        import psycopg

        text = str(exc).strip()
        low = text.lower()
        if isinstance(exc, psycopg.errors.UniqueViolation):
            return UniqueViolation(f"{self.label}: {action} failed: a row with this key is already there ({text})")
        if isinstance(exc, (OverflowError, TypeError, ValueError, psycopg.DataError)):
            return ValueRejected(f"{self.label}: {action} failed: a value cannot be stored "
                                 f"({type(exc).__name__}: {text})")
        if self.read_only and "read-only transaction" in low:
            hint = "the store was opened read-only (a read or verify command); nothing was written"
        elif "read-only" in low or "read only" in low:
            hint = "the database is read-only (a standby or a read-only user); use the primary and a writing user"
        elif "no space" in low or "disk full" in low:
            hint = "the database server's disk is full"
        elif "permission denied" in low:
            hint = "the database user lacks a right (CREATE on the schema, INSERT on the tables)"
        elif 'extension "postgis"' in low or "postgis" in low and "not available" in low:
            hint = "PostGIS is not installed on the server (Debian: postgresql-15-postgis-3)"
        elif isinstance(exc, psycopg.errors.UndefinedTable):
            hint = self._older_schema_hint(text)
        else:
            hint = text
        return StoreError(f"{self.label}: {action} failed: {hint} ({type(exc).__name__}: {text})")

    def _legacy_version(self) -> int:
        """The single-sequence schema version of qamtu 0.1.0 (the highest row of ``schema_migrations``)."""
        if not self.table_exists("schema_migrations"):
            return 0
        return int(self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    def _legacy_statements(self) -> list[tuple[str, tuple]]:
        return []

    @contextmanager
    def _migration_lock(self):
        with self._lock:
            self._exec(f"SELECT pg_advisory_lock({MIGRATION_LOCK})", ())
            try:
                yield
            finally:
                self._exec(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})", ())

    def table_exists(self, table: str) -> bool:
        return bool(self.scalar("SELECT to_regclass(?) IS NOT NULL", (table,)))

    def column_types(self, table: str, columns: Sequence[str]) -> list[str]:
        key = (table, tuple(columns))
        if key not in self._types:
            found = dict(self.rows("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                   "WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped", (table,)))
            missing = [c for c in columns if c not in found]
            if missing:
                raise StoreError(f"{self.label}: table {table} has no column(s) {', '.join(missing)}")
            self._types[key] = [found[c] for c in columns]
        return self._types[key]
