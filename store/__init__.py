"""The Qamtu store: the public boundary between the packages and their tables (SQLite or PostgreSQL/PostGIS).

It sits at the bottom of the import graph beside :mod:`qamtu.device` and :mod:`qamtu.mapping` and
imports nothing of qamtu but the root. Packages above it (probe, reports, cases, office) own their
tables through migrations they register, and reach them only through this API::

    from qamtu.store import open_store, Store, StoreError, Migration, register_migrations

    with open_store("qamtu.db", create=True) as store:       # or "postgresql://user@host/db"
        store.engine                                          # "sqlite" or "postgresql"
        with store.transaction("adding a case") as tx:        # commits together; rolls back on any exception
            tx.execute("INSERT INTO t (a, b) VALUES (?, ?)", (1, "x"))
            tx.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [(2, "y"), (3, "z")])
        store.query("SELECT a, b FROM t WHERE a > ?", (1,))   # -> list[dict]
        store.rows(...), store.scalar(...)                     # tuples, one value
        store.frame("SELECT a, b FROM t", ())                  # -> pandas.DataFrame
        for chunk in store.iter_rows("SELECT ...", (), size=10_000): ...

Opening: :func:`open_store` takes a SQLite path or a ``postgresql://`` URL. A file must exist
unless ``create=True``; ``read_only=True`` (read and verify commands) never writes: no journal-mode
switch, no migration. A read-write open applies pending migrations.

Placeholders are ``?`` on both engines (translated for psycopg outside literals and comments).
Integers outside signed 64 bits are refused before the engine sees them
(:class:`~qamtu.store.errors.ValueRejected`); engine errors become :class:`StoreError` with advice.

Migrations: each owning package has a ``schema`` module calling :func:`register_migrations` with
frozen literal SQL per engine (see :mod:`qamtu.store.migrations`); the store finds those modules
in ``store/data/owners.toml`` and the ``qamtu.migrations`` entry points. Hash chains for
append-only history: :mod:`qamtu.store.chain` (:func:`~qamtu.store.chain.canonical_json`,
:func:`~qamtu.store.chain.canonical_bytes`, :func:`~qamtu.store.chain.link_hash`, ``GENESIS``).

Merging stores (``db push``): an owner whose tables travel from a laptop to the office store beside
the probe's sessions registers a merge step with :func:`register_merge` (:mod:`qamtu.store.merges`);
the push runs every :func:`merge_steps` entry. Bulk loads: :meth:`Store.column_types` and
``tx.copy(table, columns, rows, types)`` (PostgreSQL binary COPY; INSERTs on SQLite). Large column
reads: :meth:`Store.read_parallel`.
"""

from __future__ import annotations

from pathlib import Path

from ..textsafe import redact_secrets
from .base import Store, Transaction
from .errors import StoreError, UniqueViolation, ValueRejected
from .merges import MergeResult, MergeStep, merge_steps, register_merge
from .migrations import Migration, register_migrations

URL_PREFIXES = ("postgresql://", "postgres://")


def is_url(db: str | Path) -> bool:
    """True when ``db`` names a PostgreSQL server rather than a SQLite file."""
    return str(db).startswith(URL_PREFIXES)


def redact(url: str) -> str:
    """``url`` (or a keyword DSN) with any password replaced by ``***`` (for messages): the root's one
    redaction, :func:`qamtu.textsafe.redact_secrets`."""
    return redact_secrets(url)


def open_store(db: str | Path, *, create: bool = False, read_only: bool = False) -> Store:
    """Open the store ``db``: a ``postgresql://`` (or ``postgres://``) URL, or the path of a SQLite file.

    A file must exist unless ``create`` (a new store is then created and migrated); a URL's
    database must exist (its tables are created on first open). ``read_only`` opens without
    writing anything: no migration, and every write raises :class:`StoreError`."""
    text = str(db)
    if is_url(text):
        from .postgres import PostgresStore

        return PostgresStore(text, read_only=read_only)
    path = Path(text)
    if not path.exists() and (read_only or not create):
        raise StoreError(f"{db}: no such store (give --db FILE, or record one with `qamtu probe` / `qamtu demo`)")
    return Store(path, read_only=read_only)


__all__ = ["open_store", "is_url", "redact", "Store", "Transaction", "StoreError", "UniqueViolation", "ValueRejected",
           "Migration", "register_migrations", "MergeResult", "MergeStep", "merge_steps", "register_merge"]
