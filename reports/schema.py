"""The tables of :mod:`qamtu.reports`: inspections (KoAP art. 637), survey observations and remediation plans.

Registered with the store on import (``qamtu/store/data/owners.toml`` names this module). The SQL
of each migration is frozen text in ``reports/sql/NNNN.<engine>.sql``: never edit a released
file (``tests/test_store_migrations.py`` holds their SHA-256), add a migration instead.

1. ``inspections`` (issue 7, :mod:`qamtu.reports.inspections`): one row per inspection; ``record``
   holds the full record as canonical JSON, the other columns are for queries (legacy 2).
2. ``survey_observations`` and ``remediation_plans`` (issue 8, :mod:`qamtu.reports.surveys`): the
   five-year problem picture; a re-imported key replaces the earlier row (legacy 3).

``qamtu db push`` copies the inspections through the merge step registered here
(:func:`qamtu.reports.merge.merge_inspections`); the probe's push never touches these tables.
"""

from __future__ import annotations

from .. import package_path
from ..store import Migration, register_merge, register_migrations
from .merge import merge_inspections

OWNER = "reports"


def _sql(number: int, engine: str) -> str:
    return package_path("reports", "sql", f"{number:04d}.{engine}.sql").read_text(encoding="utf-8")


MIGRATIONS = [
    Migration(OWNER, 1, _sql(1, "sqlite"), _sql(1, "postgresql"), name="inspections", legacy_version=2),
    Migration(OWNER, 2, _sql(2, "sqlite"), _sql(2, "postgresql"),
              name="survey observations and remediation plans", legacy_version=3),
]

register_migrations(OWNER, MIGRATIONS)
# inspection records travel with the sessions in `qamtu db push`
register_merge(OWNER, "inspections", merge_inspections)
