"""Merge steps: how ``qamtu db push`` copies an owner's tables beyond the probe's sessions.

The probe's sessions are copied record by record by :mod:`qamtu.probe.push`. A package whose own
tables should travel from a laptop to the office store too (the reports package: inspection
records) registers a merge step from the same ``schema`` module that registers its migrations::

    from qamtu.store import register_merge

    register_merge("reports", "inspections", merge_inspections)

A step is called as ``step(source, target)`` with two open stores and returns a
:class:`MergeResult`. It must follow the push's rules: add what is new, skip what is identical,
reject (and list, never overwrite) a known key with other content. Steps run in the owners' order
of ``store/data/owners.toml`` (the order their migrations are applied), so the pushing package
never reads or writes another package's tables itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import StoreError
from .migrations import load_owners, owner_modules


@dataclass
class MergeResult:
    """What one merge step did: rows added, rows skipped as identical, rows rejected (each a dict
    naming its key and the reason)."""

    added: int = 0
    skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "skipped": self.skipped, "rejected": list(self.rejected)}


#: step(source store, target store) -> MergeResult
MergeStep = Callable[[Any, Any], MergeResult]

_steps: dict[str, tuple[str, MergeStep]] = {}
_lock = threading.Lock()


def register_merge(owner: str, name: str, step: MergeStep) -> None:
    """Register ``owner``'s merge step ``name`` (shown in the push report, e.g. ``inspections``).

    Registering the same step again is a no-op; another step under a name already taken is an error."""
    if not name or not name.replace("_", "").isalnum():
        raise StoreError(f"register_merge({owner!r}): name {name!r} must be a plain name (letters, digits, _)")
    with _lock:
        if name in _steps and _steps[name] != (owner, step):
            raise StoreError(f"register_merge({owner!r}, {name!r}): the name is already registered by "
                             f"{_steps[name][0]!r}")
        _steps[name] = (owner, step)


def merge_steps() -> list[tuple[str, MergeStep]]:
    """(name, step) of every registered merge step, owners in the order of ``owners.toml``."""
    load_owners()
    order = list(owner_modules())
    with _lock:
        items = list(_steps.items())
    items.sort(key=lambda kv: (order.index(kv[1][0]) if kv[1][0] in order else len(order), kv[0]))
    return [(name, step) for name, (_owner, step) in items]


__all__ = ["MergeResult", "MergeStep", "merge_steps", "register_merge"]
