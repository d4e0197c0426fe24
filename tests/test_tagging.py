"""Tagging fixes with settlements: the reach rule, the nearer-wins rule, bad input, vectorisation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import settlement_feature

from qamtu.mapping.errors import MappingError
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.geodesy import EARTH_RADIUS_M, haversine_m
from qamtu.mapping.tagging import Tagger, TaggingRule, TagReason

M_PER_DEG_LAT = np.pi * EARTH_RADIUS_M / 180


def north_of(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG_LAT


def test_rule_reach_grows_with_population_within_kind_bounds():
    rule = TaggingRule.load()
    kinds = np.array(["village", "village", "village", "village", "city", "city"], dtype=object)
    pop = np.array([np.nan, 100, 1000, 1_000_000, np.nan, 1_000_000], dtype=float)
    reach = rule.reach_m(kinds, pop)
    v, c = rule.kinds["village"], rule.kinds["city"]
    assert reach[0] == v["default_m"]
    assert reach[1] == v["min_m"]
    assert reach[2] == pytest.approx(rule.per_sqrt_person_m * np.sqrt(1000))
    assert reach[3] == v["max_m"] and reach[5] == c["max_m"] and reach[4] == c["default_m"]
    assert c["max_m"] > v["max_m"], "a city reaches further than a village"


def test_bad_rule_file_names_the_file(tmp_path):
    path = tmp_path / "rule.toml"
    path.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="rule.toml: field 'valid_from'"):
        TaggingRule.load(path)


@pytest.fixture
def two_villages_and_a_city(write_gazetteer):
    # Village A and B 2 km apart on one meridian; a city 6 km south of A.
    lat_a, lon = 42.5, 68.5
    features = [
        settlement_feature("614633100", lat_a, lon, name="Алғабас"),
        settlement_feature("614633200", north_of(lat_a, 2000), lon, name="Бөген"),
        settlement_feature("614610000", north_of(lat_a, -6000), lon, kind="city", population=40000, name="Қала"),
        settlement_feature("614633300", None, None, name="Жоқ"),
    ]
    return Tagger(Gazetteer.load(write_gazetteer(features))), lat_a, lon


def test_nearer_settlement_wins_where_reaches_overlap(two_villages_and_a_city):
    tagger, lat_a, lon = two_villages_and_a_city
    assert tagger.tag_one(north_of(lat_a, 800), lon).kato == "614633100"
    assert tagger.tag_one(north_of(lat_a, 1200), lon).kato == "614633200"
    tag = tagger.tag_one(lat_a, lon)
    assert tag.kato == "614633100" and tag.distance_m == pytest.approx(0, abs=0.01)
    assert tag.reason is TagReason.TAGGED and tag.rule_version == tagger.rule.version


def test_city_claims_a_fix_beyond_a_villages_reach(two_villages_and_a_city):
    tagger, lat_a, lon = two_villages_and_a_city
    # 2 km south of village A: outside its 1.5 km reach, 4 km from the city (reach 6 km for 40,000 people)
    tag = tagger.tag_one(north_of(lat_a, -2000), lon)
    assert tag.kato == "614610000"
    assert tag.distance_m == pytest.approx(4000, rel=0.002)
    # 3.5 km north of B and 11.5 km from the city: nobody's
    tag = tagger.tag_one(north_of(lat_a, 5500), lon)
    assert tag.kato is None and tag.reason is TagReason.NO_SETTLEMENT_IN_REACH


def test_bad_fixes_get_a_reason_not_an_exception(gazetteer):
    tagger = Tagger(gazetteer)
    lat = [np.nan, 95.0, 43.0, 41.311, 43.301946, 44.9, -np.inf]
    lon = [68.2, 68.2, 200.0, 69.279, 68.27037, 66.0, 68.0]
    tags = tagger.tag(lat, lon)
    assert [TagReason(r) for r in tags.reason] == [
        TagReason.INVALID_COORDINATE, TagReason.INVALID_COORDINATE, TagReason.INVALID_COORDINATE,
        TagReason.OUTSIDE_KAZAKHSTAN,  # Tashkent
        TagReason.TAGGED,              # Türkistan city centre
        TagReason.NO_SETTLEMENT_IN_REACH,  # empty steppe of Sozak district
        TagReason.INVALID_COORDINATE]
    assert list(tags.kato) == [None, None, None, None, "611010000", None, None]
    assert np.isnan(tags.distance_m[[0, 1, 2, 3, 5, 6]]).all()


def test_shape_mismatch_is_an_error(gazetteer):
    with pytest.raises(MappingError, match="differ in shape"):
        Tagger(gazetteer).tag([42.0, 43.0], [68.0])


def _brute_force(tagger: Tagger, lat: np.ndarray, lon: np.ndarray) -> list:
    """Reference: every fix against every settlement, in plain Python."""
    out = []
    cols = tagger.gazetteer.arrays
    for la, lo in zip(lat, lon):
        d = haversine_m(la, lo, cols["lat"], cols["lon"])
        ok = np.flatnonzero(d <= tagger._reach)
        out.append(None if len(ok) == 0 else tagger.gazetteer.settlements[cols["index"][ok[np.argmin(d[ok])]]].kato)
    return out


def test_vectorised_tagging_equals_brute_force_on_real_gazetteer(gazetteer):
    tagger = Tagger(gazetteer)
    rng = np.random.default_rng(61)
    cols = gazetteer.arrays
    # half the fixes scattered around real settlements (so many are tagged), half uniform over the territory
    pick = rng.integers(0, len(cols["lat"]), 1500)
    lat = np.r_[cols["lat"][pick] + rng.normal(0, 0.02, 1500), rng.uniform(40.6, 46.8, 1500)]
    lon = np.r_[cols["lon"][pick] + rng.normal(0, 0.02, 1500), rng.uniform(58.5, 75.5, 1500)]
    tags = tagger.tag(lat, lon)
    inside = tags.reason != TagReason.OUTSIDE_KAZAKHSTAN
    expected = _brute_force(tagger, lat[inside], lon[inside])
    assert list(tags.kato[inside]) == expected
    assert sum(k is not None for k in expected) > 600
    assert {k[:2] for k in expected if k} >= {"31", "43", "61"}  # tagged in the three oblasts
