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


def test_a_stale_value_asked_for_in_the_background_is_served_while_one_thread_rebuilds_it():
    import threading
    import time

    from qamtu.office.ttl_cache import TtlCache

    cache, built, release = TtlCache(4), [], threading.Event()

    def build():
        built.append(1)
        if len(built) > 1:
            release.wait(5)
        return len(built)

    assert cache.get("k", 0.05, build, background=True) == 1
    time.sleep(0.1)
    assert [cache.get("k", 60, build, background=True) for _ in range(3)] == [1, 1, 1], "stale, not waited for"
    release.set()
    deadline = time.monotonic() + 5
    while cache.get("k", 60, build, background=True) != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.get("k", 60, build) == 2 and len(built) == 2, "one rebuild, not one per request"
    cache.drop(lambda k: k == "k")
    assert len(cache) == 0
