"""Trip route ordering (cases/route.py): nearest neighbour + 2-opt, legs, driving time, days."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qamtu.cases.errors import CasesError
from qamtu.cases.route import (Stop, distance_matrix, load_defaults, nearest_neighbour, plan_route, tour_length,
                               two_opt)

KM_PER_DEGREE = 6_371_008.8 * math.pi / 180 / 1000   # 111.195 km along a meridian


def test_defaults_are_positive_estimates():
    d = load_defaults()
    assert d.speed_kmh > 0 and d.road_factor >= 1 and d.day_minutes > 0 and d.stop_minutes > 0


def test_stops_on_a_line_are_visited_outwards_and_back():
    stops = [Stop("c", 0.0, 3.0), Stop("a", 0.0, 1.0), Stop("b", 0.0, 2.0)]
    r = plan_route((0.0, 0.0), stops, speed_kmh=60, road_factor=1.0, day_minutes=10_000, stop_minutes=0)
    assert r.order in (("a", "b", "c"), ("c", "b", "a"))
    assert r.km == pytest.approx(6 * KM_PER_DEGREE, rel=1e-6)
    assert [x.km for x in r.legs][:1] == [pytest.approx(KM_PER_DEGREE if r.order[0] == "a" else 3 * KM_PER_DEGREE,
                                                        rel=1e-6)]
    assert r.drive_minutes == pytest.approx(r.km / 60 * 60)      # 60 km/h: one minute per km
    assert len(r.days) == 1 and r.days[0].stops == r.order


def test_square_gives_the_perimeter():
    # office at one corner of a small square near the equator; the shortest tour is the perimeter
    stops = [Stop("ne", 0.1, 0.1), Stop("n", 0.1, 0.0), Stop("e", 0.0, 0.1)]
    r = plan_route((0.0, 0.0), stops, road_factor=1.0, stop_minutes=0)
    assert r.order in (("n", "ne", "e"), ("e", "ne", "n"))
    assert r.km == pytest.approx(4 * 0.1 * KM_PER_DEGREE, rel=2e-3)


def test_two_opt_removes_a_crossing():
    lats = [0.0, 0.0, 1.0, 1.0, 0.0]
    lons = [0.0, 1.0, 2.0, 1.0, 2.0]
    dm = distance_matrix(lats, lons)
    crossing = [1, 2, 3, 4]          # 0 -> (0,1) -> (1,2) -> (1,1) -> (0,2) -> 0 crosses itself
    better = two_opt(crossing, dm)
    assert tour_length(better, dm) < tour_length(crossing, dm)
    assert sorted(better) == [1, 2, 3, 4]


def test_driving_time_follows_speed_and_road_factor():
    stops = [Stop("a", 1.0, 0.0)]
    r = plan_route((0.0, 0.0), stops, speed_kmh=50, road_factor=1.3, stop_minutes=0, day_minutes=10_000)
    assert r.km == pytest.approx(2 * KM_PER_DEGREE, rel=1e-6)
    assert r.drive_minutes == pytest.approx(2 * KM_PER_DEGREE * 1.3 / 50 * 60, rel=1e-9)


def test_days_are_cut_by_the_working_day():
    # ten stops 0.1 degree apart along a meridian, 60 minutes each, 4-hour days
    stops = [Stop(f"s{i}", 0.1 * (i + 1), 0.0, minutes=60) for i in range(10)]
    r = plan_route((0.0, 0.0), stops, speed_kmh=60, road_factor=1.0, day_minutes=240)
    assert len(r.days) > 1
    assert [s for d in r.days for s in d.stops] == list(r.order)
    for d in r.days:
        assert d.total_minutes <= 240 or (len(d.stops) == 1 and d.over_length)
        assert d.legs[0].start == "office" and d.legs[-1].end == "office"
    assert [d.number for d in r.days] == list(range(1, len(r.days) + 1))


def test_a_stop_longer_than_a_day_gets_its_own_day():
    stops = [Stop("far", 0.0, 0.01, minutes=600), Stop("near", 0.0, 0.005, minutes=10)]
    r = plan_route((0.0, 0.0), stops, day_minutes=480)
    long_day = [d for d in r.days if "far" in d.stops][0]
    assert long_day.stops == ("far",) and long_day.over_length


def test_default_stop_minutes_used_when_missing():
    r = plan_route((0.0, 0.0), [Stop("a", 0.0, 0.001)], day_minutes=10_000)
    assert r.days[0].stop_minutes == load_defaults().stop_minutes


def test_empty_and_bad_input():
    assert plan_route((43.3, 68.3), []).order == ()
    with pytest.raises(CasesError, match="stop x has no valid position"):
        plan_route((43.3, 68.3), [Stop("x", 95.0, 68.0)])
    with pytest.raises(CasesError, match="unique"):
        plan_route((43.3, 68.3), [Stop("x", 43.0, 68.0), Stop("x", 43.1, 68.0)])
    with pytest.raises(CasesError, match="speed_kmh must be > 0"):
        plan_route((43.3, 68.3), [Stop("x", 43.0, 68.0)], speed_kmh=0)


def test_as_dict_marks_the_estimate():
    d = plan_route((43.3, 68.3), [Stop("a", 43.0, 68.0)]).as_dict()
    assert d["estimate"] is True and d["order"] == ["a"] and d["days"][0]["stops"] == ["a"]


points = st.lists(st.tuples(st.floats(40.5, 44.5), st.floats(66.0, 70.5)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(points, st.tuples(st.floats(40.5, 44.5), st.floats(66.0, 70.5)))
def test_two_opt_is_never_worse_than_nearest_neighbour(pts, office):
    dm = distance_matrix([office[0], *(p[0] for p in pts)], [office[1], *(p[1] for p in pts)])
    nn = nearest_neighbour(dm)
    opt = two_opt(nn, dm)
    assert sorted(opt) == list(range(1, len(pts) + 1))
    assert tour_length(opt, dm) <= tour_length(nn, dm) + 1e-6
    route = plan_route(office, [Stop(str(i), p[0], p[1]) for i, p in enumerate(pts)])
    assert route.km <= route.nn_km + 1e-9


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(40.5, 44.5), st.floats(66.0, 70.5)), min_size=1, max_size=6))
def test_route_is_never_shorter_than_the_brute_force_optimum(pts):
    dm = distance_matrix([42.3, *(p[0] for p in pts)], [69.6, *(p[1] for p in pts)])
    best = min(tour_length(list(p), dm) for p in itertools.permutations(range(1, len(pts) + 1)))
    opt = two_opt(nearest_neighbour(dm), dm)
    assert tour_length(opt, dm) >= best - 1e-6
    if len(pts) <= 3:                    # with three stops or fewer 2-opt reaches the optimum
        assert tour_length(opt, dm) == pytest.approx(best, rel=1e-9, abs=1e-6)


def test_tuples_are_stops_and_the_route_iterates_its_order():
    r = plan_route((0.0, 0.0), [("b", 0.0, 2.0), ("a", 0.0, 1.0, 30)], day_minutes=10_000)
    assert list(r) == list(r.order) and set(r) == {"a", "b"}
    assert r.days[0].stop_minutes == 30 + load_defaults().stop_minutes
    with pytest.raises(CasesError, match=r"a stop is a Stop or \(id, lat, lon"):
        plan_route((0.0, 0.0), [("a", 1.0)])
