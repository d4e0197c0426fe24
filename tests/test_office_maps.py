"""The staff maps' JSON cache (qamtu.office.maps): kept per parameters, bounded, since the period
comes from the query string."""

from __future__ import annotations

from office_support import app_for

from qamtu.mapping.gazetteer import Gazetteer
from qamtu.office import maps
from qamtu.probe.store import sample_store


def test_map_json_is_kept_per_period_and_the_cache_is_bounded(tmp_path):
    store = sample_store(tmp_path / "office.db", create=True)
    office = app_for(store.db, tmp_path, gazetteer=Gazetteer.load()).state.office
    first = maps.coverage_json(office, period="2026-01")
    assert maps.coverage_json(office, period="2026-01") is first, "served again, not rebuilt"
    periods = [f"2025-{m:02d}" for m in range(1, 13)]       # a staff member trying many periods
    for p in periods:
        maps.coverage_json(office, period=p)
        assert maps.cached_entries() <= maps.CACHE_ENTRIES
    assert maps.cached_entries() == maps.CACHE_ENTRIES
    assert maps.coverage_json(office, period="2026-01") is not first, "the oldest was dropped, so built again"
    last = maps.coverage_json(office, period=periods[-1])
    assert maps.coverage_json(office, period=periods[-1]) is last
