"""Loading, checking and searching a settlements file."""

from __future__ import annotations

import json

import pytest

from conftest import settlement_feature

from qamtu.mapping.errors import GazetteerError
from qamtu.mapping.gazetteer import Gazetteer


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f["properties"].pop("name_kk"), r"feature #1 \(kato 611633300\): field 'name_kk'"),
    (lambda f: f["properties"].update(name_ru="  "), r"feature #1 \(kato 611633300\): field 'name_ru': .*blank"),
    (lambda f: f["properties"].update(kato="51163330"), r"feature #1 \(kato 51163330\): field 'kato'"),
    (lambda f: f["properties"].update(kato="511633300"), r"feature #1 \(kato 511633300\): field 'region_kato'"),
    (lambda f: f["properties"].update(kind="hamlet"), r"field 'kind'"),
    (lambda f: f.update(geometry={"type": "Polygon", "coordinates": []}),
     r"feature #1 \(kato 611633300\): field 'geometry'"),
    (lambda f: f.update(geometry={"type": "Point", "coordinates": [68.1, 95.0]}), r"field 'geometry \(lat\)'"),
    (lambda f: f["properties"].update(population=-5), r"field 'population'"),
    (lambda f: f["properties"].update(colour="red"), r"field 'colour'"),
])
def test_malformed_feature_names_the_file_feature_and_field(write_gazetteer, mutate, message):
    features = [settlement_feature("611633100", 42.4, 68.9), settlement_feature("611633300", 42.5, 68.8)]
    mutate(features[1])
    path = write_gazetteer(features)
    with pytest.raises(GazetteerError, match=message) as err:
        Gazetteer.load(path)
    assert str(path) in str(err.value)


def test_duplicate_codes_and_broken_files_are_refused(write_gazetteer, tmp_path):
    path = write_gazetteer([settlement_feature("611633100", 42.4, 68.9), settlement_feature("611633100", 42.5, 68.8)])
    with pytest.raises(GazetteerError, match=r"feature #1 \(kato 611633100\): field 'kato' appears twice"):
        Gazetteer.load(path)
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(GazetteerError, match="bad.geojson: not valid UTF-8 JSON"):
        Gazetteer.load(bad)
    bad.write_text(json.dumps({"type": "Feature"}), encoding="utf-8")
    with pytest.raises(GazetteerError, match="not a GeoJSON FeatureCollection"):
        Gazetteer.load(bad)
    with pytest.raises(GazetteerError, match="missing.geojson: settlements file not found"):
        Gazetteer.load(tmp_path / "missing.geojson")


def test_null_geometry_is_kept_as_unlocated(write_gazetteer):
    g = Gazetteer.load(write_gazetteer([settlement_feature("611633100", None, None)]))
    s = g.get("611633100")
    assert not s.located and s.lat is None and s.lon is None
    assert len(g.arrays["lat"]) == 0


def test_get_unknown_code_names_the_code(gazetteer):
    with pytest.raises(GazetteerError, match="no settlement with KATO code '619999999'"):
        gazetteer.get("619999999")


@pytest.mark.parametrize("query, expected_kato", [
    ("Шұбарсу", "614657100"),
    ("Шубарсу", "614657100"),        # Russian look-alike letters for Kazakh ones
    ("шУБАРСУ", "614657100"),        # any case
    ("Turkestan", "611010000"),      # Latin name
    ("Türkistan", "611010000"),      # Kazakh Latin spelling
    ("Туркестан", "611010000"),
    ("Түркістан", "611010000"),
    ("Arys", "611610000"),
    ("Kentau", "612010000"),
])
def test_search_finds_every_spelling(gazetteer, query, expected_kato):
    found = [s.kato for s in gazetteer.search(query)]
    assert expected_kato in found
    assert found[0] == expected_kato, f"{query!r}: exact match should rank first, got {found[:3]}"


def test_search_ranks_exact_then_prefix_then_substring_and_respects_limit(gazetteer):
    hits = gazetteer.search("Ақ", limit=500)
    assert len(hits) > 20
    assert len(gazetteer.search("Ақ", limit=5)) == 5
    assert gazetteer.search("Вашингтон") == [] and gazetteer.search("  ") == []
