"""Checks of the bundled gazetteer data against its own sources and the regions' geography."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import shape

from conftest import REPO

from qamtu.mapping.build import TERRITORY, build_settlements, city_region, kind_of
from qamtu.mapping.qa import outside_unit, qa_markdown

SOURCES = REPO / "data" / "sources"
DISTRICTS = REPO / "mapping" / "data" / "districts.geojson"


def _kato_rows():
    with open(SOURCES / "kato.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _units(rows):
    """Units per region from KATO: districts, or the city districts of a city of republican significance."""
    oblasts = {r["kato"][:2]: r for r in rows if r["level"] == "oblast"}
    return {r["kato"] for r in rows
            if r["level"] == ("sub_district" if city_region(oblasts[r["kato"][:2]]) else "district")}


def test_the_territory_is_the_default_and_every_region_has_its_places(gazetteer):
    assert gazetteer.region_prefixes == TERRITORY == ("79", "31", "61", "43")
    rows = _kato_rows()
    assert {r["kato"][:2] for r in rows} == set(TERRITORY)
    places = {r["kato"] for r in rows if r["level"] == "settlement"
              or (r["level"] == "sub_district" and r["type_code"] == "1" and r["name_ru"].startswith("г."))
              or (r["level"] == "oblast" and r["name_ru"].startswith("г."))}
    assert {s.kato for s in gazetteer} == places
    populated = {r["kato"] for r in rows if r["kato"] in places and kind_of(r["name_ru"]) in ("city", "settlement_town",
                                                                                               "village")}
    assert {s.kato for s in gazetteer if s.populated} == populated
    for s in gazetteer:
        assert s.region_kato == s.kato[:2] + "0000000"
    # Turkistan keeps its 801 cities, towns and villages; Shymkent is one city
    assert sum(1 for s in gazetteer if s.populated and s.region_kato == "610000000") == 801
    shymkent = [s for s in gazetteer if s.region_kato == "790000000"]
    assert [(s.kato, s.kind, s.name_ru) for s in shymkent] == [("790000000", "city", "Шымкент")]


def test_located_share_per_region_meets_the_targets(gazetteer):
    share = {}
    for code in gazetteer.regions:
        pop = [s for s in gazetteer if s.populated and s.region_kato == code]
        share[code] = (sum(s.located for s in pop), len(pop))
    assert share["610000000"][0] >= 728, "Turkistan must not lose located places (728 of 801 before)"
    for code in ("310000000", "430000000", "790000000"):
        located, total = share[code]
        assert located / total >= 0.85, (code, located, total)


def test_units_present_with_names_and_2024_polygons(gazetteer):
    rows = _kato_rows()
    units = _units(rows)
    # every unit with a settlement row belongs to the KATO units (Shymkent's city is in one of its districts)
    assert {s.district_kato for s in gazetteer} <= units
    assert {s.district_kato for s in gazetteer if s.region_kato != "790000000"} == {
        u for u in units if u[:2] != "79"}
    districts = json.loads(DISTRICTS.read_text(encoding="utf-8"))["features"]
    assert sorted(d["properties"]["district_kato"] for d in districts) == sorted(units)
    for d in districts:
        p = d["properties"]
        assert p["historical"] is False
        assert p["approximate"] == (p["boundary"] == "approximate")
        assert p["name_kk"] and p["name_ru"] and p["region_kato"] == p["district_kato"][:2] + "0000000"
        if p["approximate"]:
            assert "APPROXIMATE" in p["note"]
        assert shape(d["geometry"]).is_valid and not shape(d["geometry"]).is_empty
    # Sauran has no 2024 polygon of its own: it and Kentau share the Kentau polygon, both approximate
    approx = {d["properties"]["district_kato"] for d in districts if d["properties"]["approximate"]}
    assert approx == {"615500000", "612000000"}
    regions = json.loads((REPO / "mapping" / "data" / "regions.geojson").read_text(encoding="utf-8"))["features"]
    assert [r["properties"]["region_kato"] for r in regions] == sorted(c + "0000000" for c in TERRITORY)


def test_sauran_and_kentau_split_the_kentau_polygon_without_overlap(gazetteer):
    districts = {d["properties"]["district_kato"]: shape(d["geometry"])
                 for d in json.loads(DISTRICTS.read_text(encoding="utf-8"))["features"]}
    src = {f["properties"]["KATO"]: shape(f["geometry"])
           for f in json.loads((SOURCES / "kaz_adm2_geokz_2024.geojson").read_text(encoding="utf-8"))["features"]}
    assert "615500000" not in src
    kentau, sauran = districts["612000000"], districts["615500000"]
    assert kentau.intersection(sauran).area < 1e-6
    assert abs(kentau.union(sauran).area - src["612000000"].area) / src["612000000"].area < 0.01
    # each unit's located settlements fall mostly in its own piece
    for unit, piece in (("612000000", kentau), ("615500000", sauran)):
        pts = [s for s in gazetteer if s.district_kato == unit and s.located]
        inside = shapely.contains_xy(piece, [s.lon for s in pts], [s.lat for s in pts])
        assert inside.mean() > 0.9, unit


def test_both_names_present_and_kazakh_letters_kept(gazetteer):
    for s in gazetteer:
        assert s.name_kk.strip() and s.name_ru.strip(), s.kato
    assert sum(any(ch in s.name_kk for ch in "әғқңөұүһі") for s in gazetteer) > 500


def test_every_point_within_5_km_of_its_region(gazetteer):
    regions = {r["properties"]["region_kato"]: shape(r["geometry"])
               for r in json.loads((REPO / "mapping" / "data" / "regions.geojson").read_text())["features"]}
    aeqd = pyproj.Transformer.from_crs("EPSG:4326", "+proj=aeqd +lat_0=44 +lon_0=68 +datum=WGS84 +units=m",
                                       always_xy=True)
    for code, outline in regions.items():
        area = shapely.transform(outline, lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1])))
        located = [s for s in gazetteer if s.located and s.region_kato == code]
        x, y = aeqd.transform([s.lon for s in located], [s.lat for s in located])
        dist = shapely.distance(area, shapely.points(x, y))
        far = [(s.kato, round(float(d))) for s, d in zip(located, dist) if d > 5000]
        assert not far, f"points more than 5 km outside region {code}: {far}"


def test_coordinates_come_from_their_source_points(gazetteer):
    osm = {f"node/{f['properties']['osm_id']}": f["geometry"]["coordinates"]
           for f in json.loads((SOURCES / "osm_places.geojson").read_text())["features"]
           if f["properties"]["osm_type"] == "nodes"}
    with open(SOURCES / "wof_geonames_localities.csv", encoding="utf-8") as fh:
        wof = {r["wof_id"]: [float(r["lon"]), float(r["lat"])] for r in csv.DictReader(fh)}
    for s in gazetteer:
        if not s.located:
            assert s.coord_source is None and s.coord_source_id is None
            continue
        src = osm[s.coord_source_id] if s.coord_source == "osm" else wof[s.coord_source_id.rsplit("wof:", 1)[1]]
        assert abs(src[0] - s.lon) < 2e-6 and abs(src[1] - s.lat) < 2e-6, s.kato
        assert s.match_method
    # a source point serves one settlement only
    ids = [s.coord_source_id for s in gazetteer if s.located]
    assert len(ids) == len(set(ids))


def test_build_is_reproducible_and_matches_committed_files(tmp_path):
    a = build_settlements(out=tmp_path / "a" / "settlements.geojson")
    b = build_settlements(out=tmp_path / "b" / "settlements.geojson")
    a_bytes = Path(a["path"]).read_bytes()
    assert a_bytes == Path(b["path"]).read_bytes()
    assert Path(a["districts_path"]).read_bytes() == Path(b["districts_path"]).read_bytes()
    assert a_bytes == (REPO / "settlements.geojson").read_bytes(), "run `qamtu settlements build` and commit"
    assert Path(a["districts_path"]).read_bytes() == DISTRICTS.read_bytes()
    assert Path(a["regions_path"]).read_bytes() == (REPO / "mapping" / "data" / "regions.geojson").read_bytes()


def test_build_of_one_region_is_that_regions_part_of_the_territory(tmp_path, gazetteer):
    r = build_settlements(out=tmp_path / "s.geojson", regions="Kyzylorda")
    assert r["regions"] == ["43"]
    one = json.loads(Path(r["path"]).read_text(encoding="utf-8"))["features"]
    mine = {s.kato: s for s in gazetteer if s.region_kato == "430000000"}
    assert {f["properties"]["kato"] for f in one} == set(mine)
    for f in one:
        s = mine[f["properties"]["kato"]]
        assert (f["geometry"] or {}).get("coordinates") == (None if s.lat is None else [s.lon, s.lat])


def test_build_rejects_an_unknown_region_listing_the_valid_ones(tmp_path):
    from qamtu.mapping.errors import GazetteerError

    with pytest.raises(GazetteerError, match=r"--regions: '99' is not a region.*61 \(Туркестанская область\)"):
        build_settlements(out=tmp_path / "s.geojson", regions="61,99")


def test_build_rejects_a_coordinate_that_does_not_match_its_source(tmp_path):
    from qamtu.mapping.errors import GazetteerError

    for f in SOURCES.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "turkistan_settlements_raw.csv"
    text = path.read_text(encoding="utf-8").replace("43.301946,68.270370", "43.311946,68.270370", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"turkistan_settlements_raw\.csv:2: coordinates of 611010000"):
        build_settlements(tmp_path, tmp_path / "out.geojson")


def test_qa_page_is_current_and_lists_far_and_outside_points(gazetteer):
    text = qa_markdown(gazetteer)
    assert text == (REPO / "docs" / "gazetteer-qa.md").read_text(encoding="utf-8"), \
        "run `qamtu settlements qa --out docs/gazetteer-qa.md` and commit"
    far = [s for s in gazetteer if s.okrug_median_km and s.okrug_median_km > 30]
    assert far and all(s.kato in text for s in far)
    for _code, (_kk, ru) in gazetteer.regions.items():
        assert f"## {ru} / " in text
    outside = outside_unit(gazetteer)
    assert sum(1 for r in outside if r["region_kato"] == "610000000") == 21  # SOURCES.md section 8
    assert all(r["kato"] in text and r["km_outside"] > 0 for r in outside)
