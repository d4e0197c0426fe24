"""The sample store on PostgreSQL/PostGIS: the regional office's database.

Same schema, migrations, hash chains and read API as the SQLite store (:class:`~qamtu.probe.store.Store`);
on top, ``samples.geom`` and ``speedtests.geom`` are PostGIS points generated from lon/lat, with
GIST indexes. Payloads are stored as ``text``, never ``jsonb``: the chain hashes the exact bytes.
Open one with :func:`qamtu.probe.store.open_store` and a ``postgresql://`` URL.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from .migrations import POSTGIS_EXTRAS
from .store import Store, StoreError


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class PostgresStore(Store):
    """A Qamtu store in a PostgreSQL database with PostGIS (created and migrated on open)."""

    dialect = "postgresql"
    _begin_sql = "BEGIN"

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self.path = redact(url)  # what messages show
        self._errors = (psycopg.Error,)
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._batch_failed = False
        self._types: dict[tuple, list[str]] = {}
        self._connect()
        self._migrate()

    @property
    def label(self) -> str:
        return redact(self.url)

    def _connect(self) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: cannot connect ({type(exc).__name__}: {str(exc).strip()}); "
                             "check the URL, that the server runs, and the user's rights") from None

    def _raw(self, sql: str, params: tuple | list = ()):
        if not params:  # no placeholders: '%' may then be SQL's modulo operator
            return self.conn.execute(sql)
        return self.conn.execute(sql.replace("?", "%s"), tuple(params))

    def _explain(self, action: str, exc: BaseException) -> StoreError:
        text = str(exc).strip()
        low = text.lower()
        if "read-only" in low or "read only" in low:
            hint = "the database is read-only (a standby or a read-only user); use the primary and a writing user"
        elif "no space" in low or "disk full" in low:
            hint = "the database server's disk is full"
        elif "permission denied" in low:
            hint = "the database user lacks a right (CREATE on the schema, INSERT on the tables)"
        elif 'extension "postgis"' in low or "postgis" in low and "not available" in low:
            hint = "PostGIS is not installed on the server (Debian: postgresql-15-postgis-3)"
        else:
            hint = text
        return StoreError(f"{self.label}: {action} failed: {hint} ({type(exc).__name__}: {text})")

    def schema_version(self) -> int:
        exists = self._raw("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0
        return int(self._raw("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])

    def _version_statements(self, version: int) -> list[tuple[str, tuple]]:
        return []

    def _ddl(self, version: int, statements: list[str]) -> list[str]:
        out = ["CREATE EXTENSION IF NOT EXISTS postgis"] if version == 1 else []
        for sql in statements:
            sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
            out.append(re.sub(r"\bINTEGER\b", "BIGINT", sql))
        return out + POSTGIS_EXTRAS.get(version, [])

    def _migrate(self) -> None:
        # one migrator at a time: concurrent first opens of an empty database must not race
        with self._lock:
            self._raw("SELECT pg_advisory_lock(637061)")
            try:
                super()._migrate()
            finally:
                self._raw("SELECT pg_advisory_unlock(637061)")

    def column_types(self, table: str, columns: tuple[str, ...]) -> list[str]:
        """SQL types of ``columns`` of ``table`` as this database has them (for typed COPY)."""
        key = (table, columns)
        if key not in self._types:
            found = dict(self._raw("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                   "WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped", (table,)).fetchall())
            self._types[key] = [found[c] for c in columns]
        return self._types[key]

    def _read_frame(self, sql: str, params: list) -> pd.DataFrame:
        cur = self._raw(sql, params)
        names = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)
