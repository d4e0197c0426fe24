"""Opening the store that holds the cases tables (SQLite file or ``postgresql://`` URL).

Everything goes through the public store API (:mod:`qamtu.store`): ``store.transaction()``,
``tx.execute`` / ``tx.query``, ``store.query``; the tables are created by the migrations of
:mod:`qamtu.cases.schema`, which the store applies when it opens a store read-write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import schema  # noqa: F401  (registers the migrations)


def open_cases_store(db: str | Path, *, create: bool = True, read_only: bool = False) -> Any:
    """Open (and migrate) the store ``db``; the caller closes it (it is a context manager)."""
    from ..store import open_store

    return open_store(db, create=create, read_only=read_only)
