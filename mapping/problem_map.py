"""The five-year problem map (folium/Leaflet, one HTML file).

Every located settlement of the picture is a circle coloured by its status in the year chosen with
the slider: grey unknown, green no problem, blue resolved, red problem, dark red with a thick black
ring overdue (the planned fix year passed and the problem is still there). One layer per dimension
(internet, mobile, TV/radio, post) and one for all dimensions (the worst status of the four); a
popup gives the settlement's whole history (dimension x year), its plans and its priority. Legend,
popups and controls are in Kazakh and Russian.

Built like the coverage map (:mod:`qamtu.mapping.coverage_map`, whose asset inlining, JSON escaping
and offline check it reuses): Leaflet is always inlined; ``offline=True`` also drops the tile
server and refuses to write a page that still references a remote resource. The data travel as
one JSON block; popups are DOM text nodes, so no name can run as script.

The page sets on ``<html>``: ``data-qamtu-ready``, ``data-qamtu-year``, ``data-qamtu-layer``,
``data-qamtu-markers``, ``data-qamtu-problems``, ``data-qamtu-overdue`` (counts in the shown layer
and year) and ``data-qamtu-errors`` on any script error; every marker's SVG path carries
``data-kato`` and ``data-status`` (and class ``qamtu-overdue`` when overdue).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import folium
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from .coverage_map import _script_json, base_map, read_outlines, write_map
from .gazetteer import Gazetteer
from .problems import DIMENSION_LABELS, DIMENSIONS, DISPLAY, DISPLAY_LABELS, PLAN_STATE_LABELS, PRIORITY_FORMULA_KK_RU, \
    PRIORITY_FORMULA, ProblemPicture

#: display status -> (fill, ring) colours
DISPLAY_COLOURS = {"unknown": ("#bdbdbd", "#9e9e9e"), "no_problem": ("#a6d96a", "#4d9221"),
                   "resolved": ("#2b83ba", "#08519c"), "problem": ("#e31a1c", "#99000d"),
                   "overdue": ("#67000d", "#000000")}
LAYERS = ("all", *DIMENSIONS)
ALL_LABEL = ("Барлық бағыттар", "Все направления")


def problem_map_data(pic: ProblemPicture, gazetteer: Gazetteer, districts: dict) -> dict[str, Any]:
    """The JSON the page reads (see the page script for the field order)."""
    years = pic.years
    chosen = set(pic.cells["kato"].unique())
    located = [s for s in gazetteer if s.located and s.kato in chosen]
    index = {s.kato: i for i, s in enumerate(located)}
    first = pic.settlements[pic.settlements["year"] == years[0]].set_index("kato")
    settlements = []
    for s in located:
        r = first.loc[s.kato]
        pop = None if r["population"] is None or r["population"] != r["population"] else int(round(r["population"]))
        settlements.append([s.kato, s.name_kk, s.name_ru, round(s.lat, 5), round(s.lon, 5), s.kind == "city",
                            s.district_name_kk, s.district_name_ru, pop, bool(r["population_estimated"])])
    code = {k: i for i, k in enumerate(DISPLAY)}
    ny = len(years)
    yi = {y: i for i, y in enumerate(years)}
    status = {d: [[0] * ny for _ in located] for d in DIMENSIONS}
    detail: dict[str, dict[str, list]] = {}
    for r in pic.cells.itertuples(index=False):
        i = index.get(r.kato)
        if i is None:
            continue
        status[r.dimension][i][yi[r.year]] = code[r.display]
        if r.display != "unknown" or _s(r.sources) or not _na(r.planned_year) or not _na(r.problem_since):
            cell = [_int(r.problem_since), _int(r.planned_year), _int(r.resolved_year), _s(r.sources),
                    _s(r.programme), _s(r.responsible), None if _na(r.resolved_on_time) else bool(r.resolved_on_time)]
            detail.setdefault(str(i), {}).setdefault(r.dimension, [None] * ny)[yi[r.year]] = cell
    priority: dict[str, list] = {}
    for r in pic.settlements.itertuples(index=False):
        i = index.get(r.kato)
        if i is not None and r.priority and not _na(r.priority):
            priority.setdefault(str(i), [0] * ny)[yi[r.year]] = r.priority
    plans: dict[str, list] = {}
    for r in pic.plans.itertuples(index=False):
        i = index.get(r.kato)
        if i is not None:
            plans.setdefault(str(i), []).append([r.dimension, int(r.planned_year), _s(r.programme), _s(r.responsible),
                                                 _s(r.note), r.state])
    problem_years: dict[str, set[int]] = {}
    problems = pic.cells[pic.cells["status"] == "problem"]
    for kato, year in zip(problems["kato"], problems["year"]):
        problem_years.setdefault(kato, set()).add(int(year))   # grouped once, not filtered per settlement
    unlocated = []
    for s in gazetteer:
        if s.kato in chosen and not s.located and s.kato in problem_years:
            unlocated.append([s.kato, s.name_kk, s.name_ru, s.district_name_kk, s.district_name_ru,
                              sorted(problem_years[s.kato])])
    return {"years": years, "asOf": pic.as_of, "settlements": settlements,
            "status": {d: ["".join(str(v) for v in row) for row in status[d]] for d in DIMENSIONS},
            "detail": detail, "priority": priority, "plans": plans, "unlocated": unlocated,
            "layers": [[k, *(ALL_LABEL if k == "all" else DIMENSION_LABELS[k])] for k in LAYERS],
            "display": [[k, *DISPLAY_COLOURS[k], *DISPLAY_LABELS[k]] for k in DISPLAY],
            "planStates": {k: list(v) for k, v in PLAN_STATE_LABELS.items()},
            "rules": pic.rules.version, "formula": PRIORITY_FORMULA_KK_RU, "formulaEn": PRIORITY_FORMULA,
            "notes": list(pic.notes),
            "approximateDistricts": [[f["properties"]["name_kk"], f["properties"]["name_ru"]]
                                     for f in districts["features"] if f["properties"].get("approximate")]}


def _na(v: Any) -> bool:
    return v is None or bool(pd.isna(v))


def _s(v: Any) -> str:
    return "" if _na(v) else str(v)


def _int(v: Any):
    return None if _na(v) else int(v)


_PAGE_JS = Template("""
{% macro script(this, kwargs) %}
(function(){
var map = {{ this.map_name }};
var D = JSON.parse(document.getElementById('qamtu-data').textContent);
var groups = {{ this.groups_js }};
var S = D.settlements, Y = D.years, DS = D.display;
function el(tag, text, cls){var e=document.createElement(tag); if(text!==undefined&&text!==null){e.textContent=String(text);} if(cls){e.className=cls;} return e;}
function lab(x){ return x[0]===x[1] ? x[0] : x[0]+' / '+x[1]; }
var layerNames = {}; D.layers.forEach(function(l){ layerNames[l[0]] = [l[1], l[2]]; });
var yearIndex = Math.max(0, Y.indexOf(D.asOf));
var h0 = /year=(\\d{4})/.exec(location.hash||''); if(h0 && Y.indexOf(+h0[1])>=0){ yearIndex = Y.indexOf(+h0[1]); }
function code(key, i, k){
  if(key!=='all'){ return +D.status[key][i].charAt(k); }
  var m = 0; ['internet','mobile','tv_radio','post'].forEach(function(d){ m = Math.max(m, +D.status[d][i].charAt(k)); });
  return m;
}
function style(c, city){
  var d = DS[c], big = c>=3;
  return {radius: (city?8:5) + (c===4?4:(big?1:0)), fillColor: d[1], color: d[2], weight: c===4?3.5:(c>=2?1.6:1),
          fillOpacity: c===0?0.45:0.9, opacity: c===0?0.6:1};
}
function cellText(c, det){
  var y = det ? det : [];
  if(c===4){ return '⚠ '+(y[0]?(y[0]+'→'):'')+'жосп./план '+y[1]; }
  if(c===3){ return '✗ '+(y[0]?(y[0]+'→'):'')+(y[1]?' жосп./план '+y[1]:''); }
  if(c===2){ return '✓ '+(y[2]?y[2]:''); }
  if(c===1){ return '✓'; }
  return '?';
}
function popup(key, i){
  var s=S[i], k=yearIndex, box=el('div', null, 'qamtu-popup');
  box.appendChild(el('b', s[1]+' / '+s[2]));
  box.appendChild(el('div', s[6]+' / '+s[7]+' · KATO '+s[0], 'qamtu-sub'));
  if(s[8]!==null){ box.appendChild(el('div', 'Халқы / Население: '+s[8]+(s[9]?' (бағалау / оценка)':''), 'qamtu-sub')); }
  var pr = (D.priority[i]||[])[k]||0;
  box.appendChild(el('div', 'Басымдық / Приоритет ('+Y[k]+'): '+pr, 'qamtu-prio'));
  var t=el('table', null, 'qamtu-hist'), hr=el('tr'); hr.appendChild(el('th','Бағыт / Направление'));
  Y.forEach(function(y, j){ var th=el('th', y); if(j===k){ th.className='qamtu-cur'; } hr.appendChild(th); }); t.appendChild(hr);
  ['internet','mobile','tv_radio','post'].forEach(function(d){
    var tr=el('tr'); tr.appendChild(el('th', lab(layerNames[d])));
    var det = (D.detail[i]||{})[d]||[];
    Y.forEach(function(y, j){ var c=+D.status[d][i].charAt(j); var td=el('td', cellText(c, det[j]), 'qamtu-c'+c);
      td.title = lab([DS[c][3], DS[c][4]]) + (det[j] && det[j][3] ? ' — '+det[j][3] : ''); tr.appendChild(td); });
    t.appendChild(tr); });
  box.appendChild(t);
  var src = el('div', null, 'qamtu-sub');
  ['internet','mobile','tv_radio','post'].forEach(function(d){ var det=((D.detail[i]||{})[d]||[])[k];
    if(det && det[3]){ src.appendChild(el('div', lab(layerNames[d])+' '+Y[k]+': '+det[3])); } });
  box.appendChild(src);
  var ps = D.plans[i]||[];
  if(ps.length){ box.appendChild(el('div','Жоспарлар / Планы','qamtu-sub qamtu-b'));
    var ul=el('ul'); ps.forEach(function(p){ var st=D.planStates[p[5]]||[p[5],p[5]];
      ul.appendChild(el('li', lab(layerNames[p[0]])+': '+p[1]+(p[2]?' · '+p[2]:'')+(p[3]?' · '+p[3]:'')+' — '+st[0]+' / '+st[1]+(p[4]?' ('+p[4]+')':''))); });
    box.appendChild(ul); }
  box.appendChild(el('div', '✓ мәселе жоқ / нет проблемы · ✗ мәселе / проблема · ⚠ мерзімі өтті / просрочено · ? белгісіз / неизвестно', 'qamtu-sub'));
  box.appendChild(el('div', 'Ережелер / Правила: '+D.rules, 'qamtu-sub'));
  return box;
}
var markers = {};
Object.keys(groups).forEach(function(key){
  markers[key] = [];
  for(var i=0;i<S.length;i++){
    var s=S[i];
    var m = L.circleMarker([s[3], s[4]], style(code(key, i, yearIndex), s[5]));
    m.options.className = 'qamtu-pm qamtu-pm-'+key;
    (function(key, i){ m.bindPopup(function(){ return popup(key, i); }, {maxWidth: 520, minWidth: 340, autoPanPadding: [20, 20]}); })(key, i);
    m.bindTooltip(s[1]+' / '+s[2], {sticky: true});
    m.addTo(groups[key]); markers[key].push(m);
  }
});
function currentKey(){ var k = Object.keys(groups).filter(function(k){ return map.hasLayer(groups[k]); }); return k[0]||'all'; }
var info = null, yearLabel = null, slider = null;
function update(){
  var key = currentKey(), k = yearIndex, problems = 0, overdue = 0, top = [];
  markers[key].forEach(function(m, i){
    var c = code(key, i, k); m.setStyle(style(c, S[i][5]));
    if(c>=3){ problems++; top.push(m); } if(c===4){ overdue++; }
    var p = m.getElement && m.getElement();
    if(p){ p.setAttribute('data-kato', S[i][0]); p.setAttribute('data-status', DS[c][0]);
      if(c===4){ p.classList.add('qamtu-overdue'); } else { p.classList.remove('qamtu-overdue'); } }
  });
  top.forEach(function(m){ if(m.getElement && m.getElement()){ m.bringToFront(); } });
  var root = document.documentElement;
  root.setAttribute('data-qamtu-year', String(Y[k])); root.setAttribute('data-qamtu-layer', key);
  root.setAttribute('data-qamtu-problems', String(problems)); root.setAttribute('data-qamtu-overdue', String(overdue));
  if(yearLabel){ yearLabel.textContent = 'Жыл / Год: '+Y[k]; }
  if(info){ info.textContent = lab(layerNames[key])+' — мәселе / проблем: '+problems+' · мерзімі өтті / просрочено: '+overdue; }
}
// year slider
var ctl = L.control({position:'topright'});
ctl.onAdd = function(){
  var d = L.DomUtil.create('div','qamtu-slider'); L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
  yearLabel = el('div', '', 'qamtu-year'); d.appendChild(yearLabel);
  slider = el('input'); slider.type='range'; slider.id='qamtu-year-slider'; slider.min=0; slider.max=Y.length-1; slider.step=1;
  slider.value=yearIndex; slider.setAttribute('aria-label','Жыл / Год');
  d.appendChild(slider);
  var ticks = el('div', null, 'qamtu-ticks'); Y.forEach(function(y){ ticks.appendChild(el('span', y)); }); d.appendChild(ticks);
  info = el('div', '', 'qamtu-sub'); d.appendChild(info);
  slider.addEventListener('input', function(){ yearIndex = +slider.value; update(); });
  return d; };
ctl.addTo(map);
map.on('baselayerchange', function(){ update(); });
// legend
var legend = L.control({position:'bottomright'});
legend.onAdd = function(){
  var box = L.DomUtil.create('div','qamtu-legend'); L.DomEvent.disableScrollPropagation(box); L.DomEvent.disableClickPropagation(box);
  var det = el('details'); det.open = window.innerWidth >= 1100 && window.innerHeight >= 800;
  det.appendChild(el('summary','Шартты белгілер / Легенда')); box.appendChild(det);
  var d = el('div'); det.appendChild(d);
  d.appendChild(el('b','Байланысы нашар елді мекендер / Населённые пункты с плохой связью'));
  (D.notes||[]).forEach(function(n){ d.appendChild(el('div', n, 'qamtu-note')); });
  DS.slice().reverse().forEach(function(x){ var r=el('div'); var k=el('span',null,'qamtu-sw'); k.style.background=x[1]; k.style.borderColor=x[2];
    if(x[0]==='overdue'){ k.style.borderWidth='3px'; } r.appendChild(k); r.appendChild(el('span', x[3]+' / '+x[4])); d.appendChild(r); });
  d.appendChild(el('div','Ұялы байланыс, интернет — жыл бойғы өлшемдер (бағаланғандар); теледидар/радио, пошта, сымды интернет — сауалнама / '+
                     'Мобильная связь, интернет — измерения за год (только оценённые); ТВ/радио, почта, фиксированный интернет — обследования','qamtu-sub'));
  d.appendChild(el('div', D.formula, 'qamtu-sub'));
  d.appendChild(el('div','Аудан шекаралары: 2024 ж. (geokz, CC BY 4.0) / '+
    'Границы районов: 2024 г. (geokz, CC BY 4.0)','qamtu-sub'));
  if(D.approximateDistricts.length){
    d.appendChild(el('div','Үзік сызық — шамамен / Пунктир — приблизительные: '+
      D.approximateDistricts.map(function(x){return x[0]+' / '+x[1];}).join('; '),'qamtu-sub'));
  }
  if(D.unlocated.length){ d.appendChild(el('div','Координаттары жоқ, мәселесі бар / Без координат, с проблемой: '+
      D.unlocated.map(function(u){ return u[1]+' / '+u[2]+' ('+u[5].join(', ')+')'; }).join('; '), 'qamtu-sub')); }
  d.appendChild(el('div','Ережелер / Правила: '+D.rules,'qamtu-sub'));
  return box; };
legend.addTo(map);
var wanted = /kato=([0-9]{9})/.exec(location.hash||'');
var lw = /layer=([a-z_]+)/.exec(location.hash||'');
if(lw && groups[lw[1]] && !map.hasLayer(groups[lw[1]])){ Object.keys(groups).forEach(function(k){ if(map.hasLayer(groups[k])){ map.removeLayer(groups[k]); } });
  map.addLayer(groups[lw[1]]); }
update();
if(wanted){ var key=currentKey(); for(var j=0;j<S.length;j++){ if(S[j][0]===wanted[1]){ map.setView([S[j][3], S[j][4]], 11); markers[key][j].openPopup(); break; } } }
var root = document.documentElement;
root.setAttribute('data-qamtu-markers', String(S.length));
root.setAttribute('data-qamtu-rules', D.rules);
root.setAttribute('data-qamtu-ready-ms', String(Math.round(performance.now())));
root.setAttribute('data-qamtu-ready', '1');
})();
{% endmacro %}
""")

_CSS = """
.leaflet-container{background:#f3f1ea;font:12px/1.35 "DejaVu Sans",Arial,sans-serif}
.qamtu-legend,.qamtu-slider{background:rgba(255,255,255,.95);padding:6px 8px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);max-width:360px}
.qamtu-legend{font-size:11px;max-height:70vh;overflow:auto}.qamtu-legend summary{cursor:pointer;font-weight:bold}
.qamtu-legend div{margin:1px 0}.qamtu-sub{color:#444;font-size:11px;margin-top:3px}.qamtu-b{font-weight:bold}
.qamtu-note{color:#b71c1c;font-weight:bold}
.qamtu-sw{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:5px;vertical-align:middle;border:1.5px solid #555}
.qamtu-slider{width:300px}.qamtu-year{font-size:15px;font-weight:bold}
.qamtu-slider input{width:100%;margin:4px 0 0}.qamtu-ticks{display:flex;justify-content:space-between;font-size:10px;color:#555}
.qamtu-popup{font-size:11.5px;line-height:1.25}.qamtu-prio{font-weight:bold;margin:3px 0}
.qamtu-hist{border-collapse:collapse;margin-top:4px}.qamtu-hist th,.qamtu-hist td{border:1px solid #ddd;padding:1px 4px;font-size:11px}
.qamtu-hist th{font-weight:normal;color:#555;text-align:left}.qamtu-hist th.qamtu-cur{background:#ffe082;color:#000;font-weight:bold}
.qamtu-c0{color:#777}.qamtu-c1{color:#33691e}.qamtu-c2{color:#08519c;font-weight:bold}.qamtu-c3{color:#c62828;font-weight:bold}
.qamtu-c4{background:#67000d;color:#fff;font-weight:bold}
.qamtu-popup ul{margin:2px 0;padding-left:16px}
path.qamtu-overdue{stroke-dasharray:none}
"""


class _Page(MacroElement):
    _template = _PAGE_JS

    def __init__(self, map_name: str, groups: dict[str, str]):
        super().__init__()
        self._name = "QamtuProblems"
        self.map_name = map_name
        self.groups_js = "{" + ",".join(f"{json.dumps(k)}: {v}" for k, v in groups.items()) + "}"


def build_problem_map(pic: ProblemPicture, gazetteer: Gazetteer, out: Path | str, *, offline: bool = False,
                      districts_path: Path | str | None = None, region_path: Path | str | None = None,
                      title: str | None = None) -> dict[str, Any]:
    """Write the problem map of ``pic`` to ``out`` (HTML). Returns path, bytes, markers, years, layers."""
    out = Path(out)
    districts, region, bounds = read_outlines(gazetteer, districts_path, region_path)
    data = problem_map_data(pic, gazetteer, districts)
    pts = data["settlements"]
    m = base_map(bounds, title or f"Қамту / Qamtu — байланыс мәселелері / проблемы связи {pic.years[0]}–{pic.years[-1]}",
                 _CSS, offline, region, districts)
    root = m.get_root()
    groups = {}
    for key in LAYERS:
        kk, ru = ALL_LABEL if key == "all" else DIMENSION_LABELS[key]
        groups[key] = folium.FeatureGroup(name=f"{kk} / {ru}" if kk != ru else kk, overlay=False, show=key == "all")
        groups[key].add_to(m)
    root.html.add_child(Element(f'<script type="application/json" id="qamtu-data">{_script_json(data)}</script>'),
                        name="qamtu_data")
    m.fit_bounds(bounds)
    m.add_child(_Page(m.get_name(), {k: g.get_name() for k, g in groups.items()}))
    folium.LayerControl(collapsed=False, position="bottomleft").add_to(m)
    html = write_map(m, out, offline)
    return {"path": str(out), "bytes": len(html.encode("utf-8")), "offline": offline, "markers": len(pts),
            "years": pic.years, "layers": list(LAYERS), "unlocated_with_problems": len(data["unlocated"]),
            "problem_rules": pic.rules.version}


__all__ = ["DISPLAY_COLOURS", "build_problem_map", "problem_map_data"]
