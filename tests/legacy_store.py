"""Stores as qamtu 0.1.0 wrote them (schema versions 1-4), built from the frozen migration texts.

qamtu 0.1.0 counted one sequence of schema versions (``schema_migrations`` and SQLite's
``user_version``); version k is the migrations released under ``legacy_version`` 1..k. The tests
open such stores with the current code and check that they upgrade in place.
"""

from __future__ import annotations

import sqlite3

from qamtu.store.migrations import registered

NAMES = {1: "sessions, hash-chained records and their projections", 2: "inspections",
         3: "survey observations and remediation plans", 4: "references checked once per statement on PostgreSQL"}


def legacy_migrations(version: int):
    """The registered migrations qamtu 0.1.0 released as versions 1..``version``, in that order."""
    ms = [m for m in registered() if m.legacy_version and m.legacy_version <= version]
    return sorted(ms, key=lambda m: m.legacy_version)


def build_sqlite(path, version: int) -> None:
    """A SQLite file at schema ``version`` with 0.1.0's bookkeeping (and WAL, as 0.1.0 set it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_utc TEXT NOT NULL)")
    for m in legacy_migrations(version):
        for sql in m.statements("sqlite"):
            conn.execute(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                     (m.legacy_version, NAMES[m.legacy_version], "2026-01-01T00:00:00.000000Z"))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")
    conn.close()


def build_postgres(url: str, version: int) -> None:
    """A PostgreSQL database at schema ``version`` with 0.1.0's bookkeeping."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_utc TEXT NOT NULL)")
        for m in legacy_migrations(version):
            for sql in m.statements("postgresql"):
                conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                         (m.legacy_version, NAMES[m.legacy_version], "2026-01-01T00:00:00.000000Z"))


def copy_rows(source, url_or_path, tables=("sessions", "records", "samples", "speedtests", "events")) -> None:
    """Copy every row of ``tables`` from a store into a legacy store (a raw connection: the data a
    0.1.0 laptop or office database would hold)."""
    target_is_pg = str(url_or_path).startswith("postgresql://")
    if target_is_pg:
        import psycopg

        conn = psycopg.connect(url_or_path)
    else:
        conn = sqlite3.connect(url_or_path)
    try:
        for table in tables:
            rows = source.rows(f"SELECT * FROM {table}")
            if not rows:
                continue
            names = [r[1] for r in source.rows(f"PRAGMA table_info({table})")]
            marks = ", ".join(["%s" if target_is_pg else "?"] * len(names))
            cur = conn.cursor()
            cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()
