"""Complaints as observations of the five-year problem picture (source "complaint").

Each complaint with a settlement counts once per service it names, in the year it was received,
under the picture's dimension of that service (mobile voice -> mobile, mobile and fixed internet ->
internet, TV/radio, post). :mod:`qamtu.mapping.problems` turns the counts into "problem" cells.
"""

from __future__ import annotations

import json

import pandas as pd

from .models import SERVICE_DIMENSION

COLUMNS = ["kato", "year", "dimension", "complaints"]


def complaint_observations(store) -> pd.DataFrame:
    """kato, year, dimension, complaints (count) from the store's complaints (none -> empty frame)."""
    counts: dict[tuple[str, int, str], int] = {}
    for r in store.query("SELECT kato, received, services FROM cases_complaints WHERE kato IS NOT NULL"):
        for dim in {SERVICE_DIMENSION[s] for s in json.loads(r["services"])}:
            key = (r["kato"], int(r["received"][:4]), dim)
            counts[key] = counts.get(key, 0) + 1
    return pd.DataFrame([[k, y, d, n] for (k, y, d), n in sorted(counts.items())], columns=COLUMNS)


def observations_from_db(db) -> pd.DataFrame | None:
    """:func:`complaint_observations` of a store path/URL opened read-only; None when it holds no complaints table."""
    from ..store import open_store

    with open_store(db, read_only=True) as store:
        if not store.table_exists("cases_complaints"):
            return None
        return complaint_observations(store)
