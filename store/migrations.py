"""Migrations registered by the package that owns the tables, and the registry the opener reads.

A package that owns tables has a ``schema`` module that calls :func:`register_migrations` with
its :class:`Migration` list when imported::

    from qamtu.store import Migration, register_migrations

    register_migrations("cases", [
        Migration("cases", 1, sqlite=CASES_1_SQLITE, postgresql=CASES_1_PG, name="complaint cases"),
    ])

Each migration is frozen literal SQL text per engine (several statements separated by ``;``):
released text is never edited (a test holds its SHA-256); a change is a new migration. The store
finds every owner's module in ``qamtu/store/data/owners.toml`` and in the ``qamtu.migrations``
entry points (:func:`load_owners`) and imports it by name, so ``qamtu.store`` never imports a
package above it.

Stores written before migrations had owners (schema versions 1-4 of qamtu 0.1.0, counted in
``schema_migrations`` and SQLite's ``user_version``) are recognised by ``legacy_version``: the
migrations that were released as those versions are recorded as applied, never run again.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from typing import Iterable

from .errors import StoreError
from .sql import split_statements

#: Entry-point group through which packages outside this repository register their migrations' module.
ENTRY_POINT_GROUP = "qamtu.migrations"
#: The last schema version counted by the old single-sequence bookkeeping (qamtu 0.1.0 released 1-4);
#: stores that record migrations per owner carry this one, so a qamtu that knows only 1-4 refuses them.
LEGACY_MARKER = 5


@dataclass(frozen=True)
class Migration:
    """One migration of ``owner``'s tables: literal SQL text for each engine, applied once in one transaction.

    ``number`` counts from 1 per owner. ``legacy_version`` is the single-sequence schema version under
    which qamtu 0.1.0 released this migration (1-4), else None."""

    owner: str
    number: int
    sqlite: str
    postgresql: str
    name: str = ""
    legacy_version: int | None = field(default=None, kw_only=True)

    def text(self, engine: str) -> str:
        """The SQL text for ``engine`` ("sqlite" or "postgresql")."""
        if engine not in ("sqlite", "postgresql"):
            raise StoreError(f"migration {self.owner} {self.number}: unknown engine {engine!r}")
        return self.sqlite if engine == "sqlite" else self.postgresql

    def statements(self, engine: str) -> list[str]:
        """The statements of :meth:`text`, in order."""
        return split_statements(self.text(engine))

    def sha256(self, engine: str) -> str:
        """SHA-256 (hex) of the UTF-8 text for ``engine``: what the frozen-text test holds."""
        return hashlib.sha256(self.text(engine).encode("utf-8")).hexdigest()


_registry: dict[str, list[Migration]] = {}
_lock = threading.Lock()
_loaded = False


def register_migrations(owner: str, migrations: list[Migration]) -> None:
    """Register ``owner``'s migrations (numbered 1..n without gaps). Called by the owner's ``schema`` module.

    Registering the same list again is a no-op (a module imported twice); a different list for an
    owner already registered is an error."""
    if not owner or not owner.replace("_", "").isalnum():
        raise StoreError(f"register_migrations: owner {owner!r} must be a plain name (letters, digits, _)")
    ms = sorted(migrations, key=lambda m: m.number)
    for m in ms:
        if m.owner != owner:
            raise StoreError(f"register_migrations({owner!r}): migration {m.number} says owner {m.owner!r}")
    if [m.number for m in ms] != list(range(1, len(ms) + 1)):
        raise StoreError(f"register_migrations({owner!r}): numbers must run 1..n without gaps, "
                         f"got {[m.number for m in ms]}")
    with _lock:
        if owner in _registry and _registry[owner] != ms:
            raise StoreError(f"register_migrations({owner!r}): the owner is already registered with other migrations")
        _registry[owner] = ms


@lru_cache(maxsize=1)
def _owner_modules() -> tuple[tuple[str, str], ...]:
    table = tomllib.loads(resources.files(__package__).joinpath("data", "owners.toml").read_text(encoding="utf-8"))
    out = dict(table["owners"])
    eps: Iterable[metadata.EntryPoint]
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution's metadata must not stop the store from opening
        eps = ()
    for ep in sorted(eps, key=lambda e: e.name):
        out.setdefault(ep.name, ep.value)
    return tuple(out.items())


def owner_modules() -> dict[str, str]:
    """owner -> module that registers its migrations: the data table first, then entry points by name
    (read once per process)."""
    return dict(_owner_modules())


def load_owners() -> None:
    """Import every owner's schema module once (each registers its migrations on import)."""
    global _loaded
    if _loaded:
        return
    for owner, module in owner_modules().items():
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise StoreError(f"the tables of {owner!r} are registered by module {module!r}, which cannot be "
                             f"imported ({exc}); reinstall qamtu or fix qamtu/store/data/owners.toml") from None
        if owner not in _registry:
            raise StoreError(f"module {module!r} did not register migrations for owner {owner!r} "
                             "(it must call qamtu.store.register_migrations)")
    _loaded = True


def registered() -> list[Migration]:
    """Every registered migration in the order they are applied: owners in table order, numbers ascending."""
    load_owners()
    order = list(owner_modules())
    owners = sorted(_registry, key=lambda o: (order.index(o) if o in order else len(order), o))
    return [m for o in owners for m in _registry[o]]


def latest() -> dict[str, int]:
    """owner -> the highest migration number this qamtu knows."""
    out: dict[str, int] = {}
    for m in registered():
        out[m.owner] = max(out.get(m.owner, 0), m.number)
    return out
