"""Checks of the bundled gazetteer data against its own sources and the region's geography."""

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

from qamtu.mapping.build import build_settlements
from qamtu.mapping.qa import qa_markdown

SOURCES = REPO / "data" / "sources"


def _kato_rows():
    with open(SOURCES / "kato_61.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_feature_per_kato_populated_place(gazetteer):
    rows = _kato_rows()
    places = {r["kato"] for r in rows if r["level"] == "settlement" or (r["level"] == "sub_district" and r["type_code"] == "1")}
    assert {s.kato for s in gazetteer} == places
    populated = {r["kato"] for r in rows if r["kato"] in places and r["name_ru"].strip()[:2] in ("г.", "п.", "с.")}
    assert {s.kato for s in gazetteer if s.populated} == populated
    assert 780 <= len(populated) <= 820, "KATO lists about 800 cities, towns and villages in region 61"


def test_codes_unique_nine_digits_region_61(gazetteer):
    codes = [s.kato for s in gazetteer]
    assert len(codes) == len(set(codes))
    assert all(len(c) == 9 and c.isdigit() and c.startswith("61") for c in codes)


def test_seventeen_units_present_with_names_and_polygons(gazetteer):
    units = {r["kato"]: r for r in _kato_rows() if r["level"] == "district"}
    assert len(units) == 17
    assert {s.district_kato for s in gazetteer} == set(units)
    districts = json.loads((REPO / "mapping" / "data" / "districts.geojson").read_text(encoding="utf-8"))["features"]
    assert sorted(d["properties"]["district_kato"] for d in districts) == sorted(units)
    for d in districts:
        p = d["properties"]
        assert p["historical"] is True
        assert p["approximate"] == (p["boundary"] == "approximate")
        if p["approximate"]:
            assert "APPROXIMATE" in p["note"]
        assert shape(d["geometry"]).is_valid and not shape(d["geometry"]).is_empty
    # the units created after 2017 cannot have a 2017 polygon of their own
    post_2017 = {"613900000", "613800000", "615500000", "612000000"}
    assert post_2017 <= {d["properties"]["district_kato"] for d in districts if d["properties"]["approximate"]}


def test_both_names_present_and_kazakh_letters_kept(gazetteer):
    for s in gazetteer:
        assert s.name_kk.strip() and s.name_ru.strip(), s.kato
    assert sum(any(ch in s.name_kk for ch in "әғқңөұүһі") for s in gazetteer) > 300


def test_every_point_within_5_km_of_region_outline(gazetteer):
    outline = shape(json.loads((SOURCES / "turkistan_adm1_approx_2017.geojson").read_text())["features"][0]["geometry"])
    aeqd = pyproj.Transformer.from_crs("EPSG:4326", "+proj=aeqd +lat_0=42.5 +lon_0=68.5 +datum=WGS84 +units=m", always_xy=True)
    area = shapely.transform(outline, lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1])))
    located = [s for s in gazetteer if s.located]
    x, y = aeqd.transform([s.lon for s in located], [s.lat for s in located])
    dist = shapely.distance(area, shapely.points(x, y))
    far = [(s.kato, round(float(d))) for s, d in zip(located, dist) if d > 5000]
    assert not far, f"points more than 5 km outside the region: {far}"


def test_coordinates_come_from_their_source_points(gazetteer):
    osm = {f"node/{f['properties']['osm_id']}": f["geometry"]["coordinates"]
           for f in json.loads((SOURCES / "osm_places_turkistan.geojson").read_text())["features"]
           if f["properties"]["osm_type"] == "nodes"}
    with open(SOURCES / "wof_geonames_south_kazakhstan_localities.csv", encoding="utf-8") as fh:
        wof = {r["wof_id"]: [float(r["lon"]), float(r["lat"])] for r in csv.DictReader(fh)}
    for s in gazetteer:
        if not s.located:
            assert s.coord_source is None and s.coord_source_id is None
            continue
        src = osm[s.coord_source_id] if s.coord_source == "osm" else wof[s.coord_source_id.rsplit("wof:", 1)[1]]
        assert abs(src[0] - s.lon) < 2e-6 and abs(src[1] - s.lat) < 2e-6, s.kato
        assert s.match_method


def test_build_is_reproducible_and_matches_committed_files(tmp_path):
    a = build_settlements(out=tmp_path / "a" / "settlements.geojson")
    b = build_settlements(out=tmp_path / "b" / "settlements.geojson")
    a_bytes = Path(a["path"]).read_bytes()
    assert a_bytes == Path(b["path"]).read_bytes()
    assert Path(a["districts_path"]).read_bytes() == Path(b["districts_path"]).read_bytes()
    assert a_bytes == (REPO / "settlements.geojson").read_bytes(), "run `qamtu settlements build` and commit"
    assert Path(a["districts_path"]).read_bytes() == (REPO / "mapping" / "data" / "districts.geojson").read_bytes()


def test_build_rejects_a_coordinate_that_does_not_match_its_source(tmp_path):
    from qamtu.mapping.errors import GazetteerError

    for f in SOURCES.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    path = tmp_path / "turkistan_settlements_raw.csv"
    text = path.read_text(encoding="utf-8").replace("43.301946,68.270370", "43.311946,68.270370", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"turkistan_settlements_raw\.csv:2: coordinates of 611010000"):
        build_settlements(tmp_path, tmp_path / "out.geojson")


def test_qa_page_is_current_and_lists_far_points(gazetteer):
    text = qa_markdown(gazetteer)
    assert text == (REPO / "docs" / "gazetteer-qa.md").read_text(encoding="utf-8"), \
        "run `qamtu settlements qa --out docs/gazetteer-qa.md` and commit"
    far = [s for s in gazetteer if s.okrug_median_km and s.okrug_median_km > 30]
    assert far and all(s.kato in text for s in far)
