"""Exception tree of :mod:`qamtu.store`::

    QamtuError
    └── StoreError            the store could not be opened, migrated, written or read (names the store)
        ├── UniqueViolation   a row with this key is already there (a concurrent writer won)
        └── ValueRejected     the engine refused a value: an integer outside 64 bits, a wrong type
"""

from __future__ import annotations

from .. import QamtuError


class StoreError(QamtuError):
    """The store could not be opened, migrated, written or read. The message names the file or URL."""


class UniqueViolation(StoreError):
    """A unique key or primary key already holds the row being inserted."""


class ValueRejected(StoreError):
    """A parameter cannot be stored: an integer outside SQLite's/PostgreSQL's 64 bits, or a value of the wrong type."""
