"""The coverage map of the region's settlements (folium/Leaflet, one HTML file).

Every settlement of the gazetteer with a position is drawn, coloured by its status: the fill is
the mobile status, the ring the mobile-internet status, a dashed ring marks thin data, grey marks
a settlement not yet measured (where to go next). One layer per operator and a best-of layer; an
H3 hexagon layer of measured signal; district outlines (historical / approximate ones labelled so);
legend and popups in Kazakh and Russian; a name search box; the list of settlements without
coordinates.

Leaflet's JS and CSS (``mapping/data/leaflet``, npm ``leaflet`` 1.9.4, BSD-2) are always inlined,
so the file never depends on a content delivery network. ``offline=True`` also leaves out the tile
server: a plain background with district and region outlines, no http(s) request at all.

Settlement data travel as one JSON block and markers are built by a short script, so the file
stays small (no per-marker HTML), and popups are built with DOM text nodes: a name such as
``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import math
from collections import namedtuple
from pathlib import Path
from typing import Any, Optional

import folium
import pandas as pd

from .classify import Classification, operator_names
from .gazetteer import Gazetteer
from .hexes import hex_boundary, hex_signal
from .leaflet import MapError, PageScript, base_map, data_block, layer_name, read_outlines, write_map

MOBILE_STYLE = {  # status -> (fill colour, Kazakh, Russian)
    "no_service": ("#d7191c", "Байланыс жоқ", "Нет связи"),
    "2g": ("#fdae61", "Тек 2G", "Только 2G"),
    "3g": ("#fee08b", "3G", "3G"),
    "4g": ("#a6d96a", "4G", "4G"),
    "5g": ("#1a9641", "5G", "5G"),
    "unmeasured": ("#bdbdbd", "Өлшенбеген", "Не измерено"),
}
INTERNET_STYLE = {
    "none": ("#7b1fa2", "Мобильді интернет жоқ", "Мобильного интернета нет"),
    "below_standard": ("#e65100", "Интернет нормадан төмен", "Интернет ниже нормы"),
    "meets_standard": ("#1565c0", "Интернет нормаға сай", "Интернет соответствует норме"),
    "not_measured": ("#616161", "Интернет өлшенбеген", "Интернет не измерялся"),
}
MOBILE_KEYS = list(MOBILE_STYLE)
INTERNET_KEYS = list(INTERNET_STYLE)


def _num(v: Any, digits: int = 1) -> Optional[float]:
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
        return None
    return round(float(v), digits)


def _records(df: pd.DataFrame, columns: tuple[str, ...]):
    """Rows of ``df``'s ``columns`` as named tuples, built from whole columns (``itertuples`` boxes
    every value of an Arrow-backed text column one by one); ``last_visit_utc`` as :func:`_date` text."""
    Row = namedtuple("Row", columns)  # type: ignore[misc]  # noqa: N806  (fields: the caller's columns)
    values = []
    for c in columns:
        col = df[c]
        if c == "last_visit_utc":
            values.append([_date(v) for v in col.tolist()] if not pd.api.types.is_datetime64_any_dtype(col)
                          else col.dt.strftime("%Y-%m-%d").astype(object).where(col.notna(), None).tolist())
        else:
            values.append(col.tolist())
    return map(Row._make, zip(*values))


def _date(v: Any) -> Optional[str]:
    if v is None or pd.isna(v):
        return None
    return pd.Timestamp(v).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- data for the page
def map_data(cl: Classification, gazetteer: Gazetteer, hexes: pd.DataFrame | None, hex_resolution: int | None,
             districts: dict) -> dict[str, Any]:
    """The JSON the page script reads (compact arrays, see the script for the field order)."""
    located = [s for s in gazetteer if s.located]
    index = {s.kato: i for i, s in enumerate(located)}
    settlements = [[s.kato, s.name_kk, s.name_ru, round(s.lat, 5), round(s.lon, 5), s.kind == "city",
                    s.district_name_kk, s.district_name_ru] for s in located]
    layers: dict[str, dict[str, list]] = {}
    best = cl.settlements
    techs = dict(zip(zip(cl.by_operator["kato"].tolist(), cl.by_operator["operator"].tolist()),
                     cl.by_operator["technologies"].tolist())) if len(cl.by_operator) else {}
    rows: dict[str, list] = {}
    for r in _records(best[best["measured"]], ("kato", "mobile_status", "internet_status", "mobile_judged",
                                                "internet_judged", "samples", "best_median_rsrp_dbm",
                                                "best_median_download_mbps", "last_visit_utc", "speedtests",
                                                "best_mobile_operator")):
        if r.kato not in index:
            continue
        rows[str(index[r.kato])] = [MOBILE_KEYS.index(r.mobile_status), INTERNET_KEYS.index(r.internet_status),
                                    int(bool(r.mobile_judged)) + 2 * int(bool(r.internet_judged)), int(r.samples),
                                    _num(r.best_median_rsrp_dbm), _num(r.best_median_download_mbps, 2), None,
                                    r.last_visit_utc, int(r.speedtests), None,
                                    _text(techs.get((r.kato, r.best_mobile_operator))),
                                    r.best_mobile_operator if isinstance(r.best_mobile_operator, str) else ""]
    layers["best"] = rows
    for op in cl.operators:
        part = cl.by_operator[cl.by_operator["operator"] == op]
        rows = {}
        for r in _records(part, ("kato", "mobile_status", "internet_status", "mobile_judged", "internet_judged",
                                 "samples", "median_rsrp_dbm", "median_download_mbps", "median_upload_mbps",
                                 "last_visit_utc", "speedtests", "days", "technologies", "thin_reasons")):
            if r.kato not in index:
                continue
            rows[str(index[r.kato])] = [MOBILE_KEYS.index(r.mobile_status), INTERNET_KEYS.index(r.internet_status),
                                        int(bool(r.mobile_judged)) + 2 * int(bool(r.internet_judged)), int(r.samples),
                                        _num(r.median_rsrp_dbm), _num(r.median_download_mbps, 2),
                                        _num(r.median_upload_mbps, 2), r.last_visit_utc, int(r.speedtests),
                                        int(r.days), r.technologies if isinstance(r.technologies, str) else "",
                                        r.thin_reasons or ""]
        layers[op] = rows
    status_of: dict[str, str] = {}
    for kato, status in zip(best["kato"], best["mobile_status"]):
        status_of.setdefault(kato, str(status))   # first row per settlement, looked up once
    unlocated = [[s.kato, s.name_kk, s.name_ru, s.district_name_kk, s.district_name_ru,
                  status_of.get(s.kato, "unmeasured")] for s in gazetteer if not s.located and s.populated]
    hex_rows = []
    if hexes is not None:
        for r in hexes.itertuples(index=False):
            ring = [[round(a, 5), round(b, 5)] for a, b in hex_boundary(r.h3)]
            hex_rows.append([ring, int(r.samples), _num(r.share_no_service, 3), _num(r.median_rsrp_dbm), r.operators])
    meta = cl.meta()
    return {"settlements": settlements, "layers": layers, "operators": cl.operators,
            "operatorNames": dict(meta["operators"]),
            "mobile": [[k, *MOBILE_STYLE[k]] for k in MOBILE_KEYS],
            "internet": [[k, *INTERNET_STYLE[k]] for k in INTERNET_KEYS],
            "unlocated": unlocated, "hexes": hex_rows, "hexResolution": hex_resolution,
            "ruleSet": meta["rule_set"]["version"], "ruleValidFrom": meta["rule_set"]["valid_from"],
            "period": cl.period.label,
            "rsrpCoverage": cl.rules.mobile.signal["LTE"].coverage_min_dbm,
            "rsrpGood": cl.rules.mobile.signal["LTE"].good_min_dbm,
            "approximateDistricts": [[f["properties"]["name_kk"], f["properties"]["name_ru"]]
                                     for f in districts["features"] if f["properties"].get("approximate")]}


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


# --------------------------------------------------------------------------- build
def build_coverage_map(cl: Classification, gazetteer: Gazetteer, out: Path | str, *,
                       samples: pd.DataFrame | None = None, offline: bool = False,
                       districts_path: Path | str | None = None, region_path: Path | str | None = None,
                       title: str | None = None, notes: list[str] | None = None,
                       hexes: tuple[pd.DataFrame, int] | None = None) -> dict[str, Any]:
    """Write the coverage map of classification ``cl`` to ``out`` (HTML). ``samples`` (with lat, lon,
    status, operator, rsrp) feed the H3 layer, or ``hexes`` = :func:`hex_signal`'s result when the
    caller has it already. Returns what was written: path, bytes, markers, hexagons, rule set and
    version, offline flag."""
    out = Path(out)
    districts, region, bounds = read_outlines(gazetteer, districts_path, region_path)

    if hexes is None and samples is not None and len(samples):
        hexes = hex_signal(samples, cl.rules)
    hexes, hex_res = hexes or (None, None)

    located = [s for s in gazetteer if s.located]
    m, district_layer = base_map(bounds, title or "Қамту / Qamtu — ұялы байланыс картасы / карта покрытия",
                                 "coverage", offline, region, districts, prefer_canvas=False)

    hex_group = folium.FeatureGroup(name=layer_name(f"H3 ({hex_res if hex_res is not None else '-'}) сигнал / сигнал"),
                                    show=False)
    hex_group.add_to(m)
    groups = {"best": folium.FeatureGroup(name=layer_name("Операторлардың үздігі / Лучший из операторов"), show=True)}
    for op in cl.operators:
        groups[op] = folium.FeatureGroup(name=layer_name(f"{operator_names().get(op, op)} ({op})"), show=False)
    for g in groups.values():
        g.add_to(m)
    data = map_data(cl, gazetteer, hexes, hex_res, districts)
    data["notes"] = list(notes or [])
    data_block(m, data)
    m.fit_bounds(bounds)
    m.add_child(PageScript("coverageMap", m, groups, hex_group, district_layer))
    folium.LayerControl(collapsed=False).add_to(m)
    html = write_map(m, out, offline)
    return {"path": str(out), "bytes": len(html.encode("utf-8")), "offline": offline,
            "markers": len(located), "layers": ["best", *cl.operators],
            "hexagons": 0 if hexes is None else int(len(hexes)), "hex_resolution": hex_res,
            "unlocated": len(data["unlocated"]), "rule_set": cl.rules.version, "period": cl.period.label}


__all__ = ["MapError", "build_coverage_map", "map_data", "write_map"]
