"""The coverage map file: self-contained, offline without remote references, data complete,
Kazakh letters kept, rule set named, hexagons aggregated (never one feature per sample)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qamtu.mapping.coverage_map import build_coverage_map
from qamtu.mapping.leaflet import remote_references
from qamtu.mapping.hexes import hex_signal
from qamtu.mapping.rules import load_rules
from qamtu.reports.coverage import classify_store
from test_coverage_helpers import write_designed


@pytest.fixture(scope="module")
def built(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("map")
    db = tmp / "designed.db"
    roles = write_designed(db, gazetteer, days=2)
    cl, inputs = classify_store(db, gazetteer=gazetteer, keep_samples=True)
    off = build_coverage_map(cl, gazetteer, tmp / "off.html", samples=inputs.samples, offline=True)
    on = build_coverage_map(cl, gazetteer, tmp / "on.html", samples=inputs.samples, offline=False)
    return roles, cl, inputs, off, on


def _data(path: str) -> dict:
    html = Path(path).read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="qamtu-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(block)


def test_offline_file_is_self_contained(built):
    *_, off, _on = built
    html = Path(off["path"]).read_text(encoding="utf-8")
    assert remote_references(html) == []
    assert not re.search(r"<(script|img)[^>]+src=|<link[^>]+href=", html)
    assert "Leaflet 1.9.4" in html and ".leaflet-container" in html and "data:image/png;base64," in html
    assert "tile.openstreetmap.org" not in html and "cdn.jsdelivr" not in html and "jquery" not in html.lower()
    assert off["bytes"] == len(html.encode("utf-8")) < 8_000_000


def test_online_file_uses_only_the_tile_server(built):
    *_, on = built
    html = Path(on["path"]).read_text(encoding="utf-8")
    remote = remote_references(html)
    assert remote and all("tile.openstreetmap.org" in u or "openstreetmap.org/copyright" in u for u in remote), remote
    assert "cdn.jsdelivr" not in html and "code.jquery" not in html   # Leaflet inlined, no CDN


def test_remote_reference_check_catches_remote_assets():
    assert remote_references('<script src="https://cdn.example/x.js"></script>')
    assert remote_references('<link rel="stylesheet" href="//cdn.example/x.css">')
    assert remote_references("div{background:url(https://tiles.example/1.png)}")
    assert remote_references('L.tileLayer("https://{s}.tile.example/{z}/{x}/{y}.png")')
    assert not remote_references('<svg xmlns="http://www.w3.org/2000/svg"></svg>')


def test_data_block_is_complete(built, gazetteer):
    roles, cl, _inputs, off, _ = built
    data = _data(off["path"])
    located = [s for s in gazetteer if s.located]
    assert len(data["settlements"]) == len(located) == off["markers"]
    assert len(data["unlocated"]) == sum(1 for s in gazetteer if not s.located and s.populated)
    assert set(data["layers"]) == {"best", "401-01", "401-02", "401-77"}
    kato_index = {row[0]: str(i) for i, row in enumerate(data["settlements"])}
    mobile_keys = [m[0] for m in data["mobile"]]
    internet_keys = [m[0] for m in data["internet"]]
    best = data["layers"]["best"][kato_index[roles["mixed"]]]
    assert mobile_keys[best[0]] == "5g" and internet_keys[best[1]] == "meets_standard"
    assert best[3] == 120                       # samples of three operators
    slow = data["layers"]["401-02"][kato_index[roles["slow3g"]]]
    assert mobile_keys[slow[0]] == "3g" and internet_keys[slow[1]] == "below_standard" and slow[5] < 1
    assert len(data["layers"]["best"]) == len(roles)
    assert data["ruleSet"] == "kz-coverage-2026.1" and data["period"] == cl.period.label
    assert data["approximateDistricts"] == [["Кентау Қ.Ә.", "Кентау Г.А."], ["Сауран ауданы", "район Сауран"]]


def test_kazakh_letters_survive(built):
    *_, off, _ = built
    html = Path(off["path"]).read_text(encoding="utf-8")
    for ch in "әғқңөұүһі":
        assert ch in html, ch
    assert "Түркістан" in html and "Байланыс жоқ" in html and "Нет связи" in html


def test_hexagons_aggregate_and_stay_bounded():
    rng = np.random.default_rng(1)
    n = 20_000
    samples = pd.DataFrame({"lat": 42 + rng.random(n) * 2, "lon": 67 + rng.random(n) * 3,
                            "status": rng.choice(["ok", "no_service", "modem_lost"], n),
                            "operator_mcc": "401", "operator_mnc": "02", "rsrp_dbm": -100 + rng.normal(0, 5, n)})
    rules = load_rules()
    assert rules.aggregation.h3_resolution == 8 and rules.mobile.ignore_status == ["modem_lost"]
    cells, res = hex_signal(samples, rules)
    counted = int((samples["status"] != "modem_lost").sum())
    assert res == 8 and cells["samples"].sum() == counted and len(cells) < counted
    assert cells["share_no_service"].between(0, 1).all()
    small, res2 = hex_signal(samples, rules, max_cells=50)
    assert res2 < 8 and len(small) <= 50 and small["samples"].sum() == counted
    # a coarser cell is the one that contains the sample, not the H3 parent of its finer cell
    import h3

    kept = samples[samples["status"] != "modem_lost"]
    assert set(small["h3"]) == {h3.latlng_to_cell(a, b, res2) for a, b in zip(kept["lat"], kept["lon"])}


def test_distant_positions_never_share_a_cell():
    """Two far-apart points whose old numeric dedup key collided each get their own cell."""
    import h3

    rules = load_rules()
    res = rules.aggregation.h3_resolution
    samples = pd.DataFrame({"lat": [43.0, 43.00001], "lon": [70.0, 60.0], "status": ["ok", "no_service"],
                            "operator_mcc": "401", "operator_mnc": "02", "rsrp_dbm": [-90.0, np.nan]})
    cells, used = hex_signal(samples, rules)
    expected = {h3.latlng_to_cell(43.0, 70.0, res), h3.latlng_to_cell(43.00001, 60.0, res)}
    assert used == res and len(expected) == 2
    assert set(cells["h3"]) == expected and cells["samples"].tolist() == [1, 1]


def test_empty_store_gives_a_map_of_unmeasured_settlements(tmp_path, gazetteer):
    from qamtu.probe.store import Store

    db = tmp_path / "empty.db"
    Store(db).close()
    cl, inputs = classify_store(db, gazetteer=gazetteer, keep_samples=True)
    assert not cl.settlements["measured"].any() and set(cl.settlements["mobile_status"]) == {"unmeasured"}
    region = cl.districts[cl.districts["district_kato"] == "610000000"].iloc[0]
    assert region.unmeasured == region.settlements == 801 and region.without_mobile == 0
    out = build_coverage_map(cl, gazetteer, tmp_path / "empty.html", samples=inputs.samples, offline=True)
    data = _data(out["path"])
    assert out["hexagons"] == 0 and data["layers"] == {"best": {}} and len(data["settlements"]) == out["markers"]


def test_map_from_store_without_exports_as_the_module_docstring_calls_it(tmp_path, gazetteer):
    """``coverage_map_from_store(db, out, offline=True)`` (no ``exports``) writes the map and lists no exports
    (it iterated ``exports=None`` and raised TypeError before)."""
    from qamtu.probe.store import Store
    from qamtu.reports.coverage import coverage_map_from_store

    db = tmp_path / "empty.db"
    Store(db).close()
    result = coverage_map_from_store(db, tmp_path / "map.html", offline=True, gazetteer=gazetteer)
    assert result["exports"] == [] and Path(result["path"]).stat().st_size > 0
