"""Data of the live staff maps, built from the store with mapping's own builders.

Coverage: :func:`qamtu.reports.coverage.classify_store` (the public classification entry point:
when aggregates make it fast, the office gets that for free) then
:func:`qamtu.mapping.coverage_map.map_data`, the same JSON the offline map reads. Problems:
:func:`qamtu.reports.problems.picture_from_store` (with residents' complaints as observations) then
:func:`qamtu.mapping.problem_map.problem_map_data`. The JSON is cached for :data:`CACHE_SECONDS`
per parameters (:class:`~qamtu.office.ttl_cache.TtlCache`), so many staff opening the map do not
classify once each; at most :data:`CACHE_ENTRIES` parameter sets are kept (the period comes from
the query string).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Optional

from .. import package_path
from .ttl_cache import TtlCache

#: seconds a built map's JSON is served again
CACHE_SECONDS = 60.0
#: parameter sets kept at once (each a map's JSON, a few MB for a region)
CACHE_ENTRIES = 8
_maps = TtlCache(CACHE_ENTRIES)


def _cached(key: tuple, build: Callable[[], Any]) -> Any:
    return _maps.get(key, CACHE_SECONDS, build)


def cached_entries() -> int:
    """How many map JSONs are kept now (for tests and the bench)."""
    return len(_maps)


def _districts() -> dict:
    from ..mapping.leaflet import read_labelled_districts

    return read_labelled_districts(package_path("mapping", "data", "districts.geojson"))


def coverage_json(office, *, period: Optional[str] = None) -> dict[str, Any]:
    from ..mapping.coverage_map import map_data
    from ..probe.store import SampleStore
    from ..reports.coverage import classify_store

    def build() -> dict[str, Any]:
        cl, _ = classify_store(SampleStore(office.store), period=period, gazetteer=office.gazetteer)
        return map_data(cl, office.gazetteer, None, None, _districts())

    return _cached((id(office), "coverage", period), build)


def problems_json(office, *, years: Optional[str] = None) -> dict[str, Any]:
    from ..cases.problems import complaint_observations
    from ..mapping.problem_map import problem_map_data
    from ..probe.store import SampleStore
    from ..reports.problems import picture_from_store

    this = date.today().year
    span = years or f"{this - 4}-{this}"

    def build() -> dict[str, Any]:
        complaints = complaint_observations(office.store) if office.store.table_exists("cases_complaints") else None
        pic = picture_from_store(SampleStore(office.store), span, gazetteer=office.gazetteer, complaints=complaints)
        return problem_map_data(pic, office.gazetteer, _districts())

    return _cached((id(office), "problems", span), build)
