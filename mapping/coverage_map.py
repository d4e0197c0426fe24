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

import base64
import json
import math
import re
from pathlib import Path
from typing import Any, Optional

import folium
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from .. import package_path
from .classify import Classification, operator_names
from .errors import MappingError
from .gazetteer import Gazetteer
from .hexes import hex_boundary, hex_signal

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


class MapError(MappingError):
    """The coverage map could not be built or written; the message names the file."""


# --------------------------------------------------------------------------- assets
def leaflet_assets() -> tuple[str, str]:
    """Leaflet JS and CSS (images inlined as data: URIs, comments with URLs dropped)."""
    folder = package_path("mapping", "data", "leaflet")
    try:
        js = (folder / "leaflet.js").read_text(encoding="utf-8")
        css = (folder / "leaflet.css").read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{folder}: Leaflet assets missing ({exc}); reinstall qamtu") from None

    def image(m: re.Match) -> str:
        data = (folder / "images" / m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", image, css)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    # the attribution prefix keeps the word "Leaflet" but is no link: an offline page names no remote address
    js = js.replace('<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">',
                    '<a title="Leaflet, BSD 2-Clause licence">')
    js = js.replace("interactive maps. https://leafletjs.com", "interactive maps. leafletjs.com")
    return js, css


def _script_json(data: Any) -> str:
    """JSON safe to put inside <script>: no '</script>', no HTML comment openers, no line separators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _num(v: Any, digits: int = 1) -> Optional[float]:
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
        return None
    return round(float(v), digits)


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
    techs = {(k, o): t for k, o, t in cl.by_operator[["kato", "operator", "technologies"]].itertuples(index=False)} \
        if len(cl.by_operator) else {}
    rows: dict[str, list] = {}
    for r in best[best["measured"]].itertuples(index=False):
        if r.kato not in index:
            continue
        rows[str(index[r.kato])] = [MOBILE_KEYS.index(r.mobile_status), INTERNET_KEYS.index(r.internet_status),
                                    int(bool(r.mobile_judged)) + 2 * int(bool(r.internet_judged)), int(r.samples),
                                    _num(r.best_median_rsrp_dbm), _num(r.best_median_download_mbps, 2), None,
                                    _date(r.last_visit_utc), int(r.speedtests), None,
                                    _text(techs.get((r.kato, r.best_mobile_operator))),
                                    r.best_mobile_operator if isinstance(r.best_mobile_operator, str) else ""]
    layers["best"] = rows
    for op in cl.operators:
        part = cl.by_operator[cl.by_operator["operator"] == op]
        rows = {}
        for r in part.itertuples(index=False):
            if r.kato not in index:
                continue
            rows[str(index[r.kato])] = [MOBILE_KEYS.index(r.mobile_status), INTERNET_KEYS.index(r.internet_status),
                                        int(bool(r.mobile_judged)) + 2 * int(bool(r.internet_judged)), int(r.samples),
                                        _num(r.median_rsrp_dbm), _num(r.median_download_mbps, 2),
                                        _num(r.median_upload_mbps, 2), _date(r.last_visit_utc), int(r.speedtests),
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


# --------------------------------------------------------------------------- page script
_ERRORS_JS = """
(function(){var errs=[];function note(m){errs.push(String(m));
document.documentElement.setAttribute('data-qamtu-errors', JSON.stringify(errs));}
window.addEventListener('error',function(e){note((e.message||'error')+' @'+(e.lineno||'?'));});
window.addEventListener('unhandledrejection',function(e){note('unhandled rejection: '+e.reason);});})();
"""

_PAGE_JS = Template("""
{% macro script(this, kwargs) %}
(function(){
var map = {{ this.map_name }};
var D = JSON.parse(document.getElementById('qamtu-data').textContent);
var groups = {{ this.groups_js }};
var hexGroup = {{ this.hex_group }};
function el(tag, text, cls){var e=document.createElement(tag); if(text!==undefined&&text!==null){e.textContent=String(text);} if(cls){e.className=cls;} return e;}
function row(tbl, kk, ru, value){ if(value===null||value===undefined||value===''){return;}
  var tr=el('tr'); tr.appendChild(el('th', kk+' / '+ru)); tr.appendChild(el('td', value)); tbl.appendChild(tr);}
var M = D.mobile, I = D.internet, S = D.settlements;
function lab(x){ return x[2]===x[3] ? x[2] : x[2]+' / '+x[3]; }
function fmt(v, unit){ return (v===null||v===undefined)? null : (String(v)+' '+unit); }
function popup(key, i){
  var s=S[i], r=D.layers[key][i], box=el('div', null, 'qamtu-popup');
  box.appendChild(el('b', s[1]+' / '+s[2]));
  box.appendChild(el('div', s[6]+' / '+s[7]+' · KATO '+s[0], 'qamtu-sub'));
  var t=el('table'); box.appendChild(t);
  var opname = key==='best' ? 'Операторлардың үздігі / Лучший из операторов' : (D.operatorNames[key]||key)+' ('+key+')';
  row(t,'Оператор','Оператор', opname);
  if(!r){ row(t,'Күйі','Статус', lab(M[5])); }
  else {
    var judged = r[2];
    row(t,'Ұялы байланыс','Мобильная связь', lab(M[r[0]]) + ((judged&1)?'':' (алдын ала / предварительно)'));
    row(t,'Мобильді интернет','Мобильный интернет', lab(I[r[1]]) + ((judged&2)?'':' (алдын ала / предварительно)'));
    if(key==='best' && r[11]){ row(t,'Үздік байланыс','Лучшая связь', (D.operatorNames[r[11]]||r[11])); }
    row(t,'Технологиялар','Технологии', r[10]);
    row(t,'Өлшемдер саны','Замеров', r[3] + (r[9]? ' ('+r[9]+' күн / дн.)':''));
    row(t,'Жылдамдық тесттері','Тестов скорости', r[8]);
    row(t,'RSRP медианасы','Медиана RSRP', fmt(r[4],'dBm'));
    row(t,'Жүктеу медианасы','Медиана загрузки', fmt(r[5],'Мбит/с'));
    row(t,'Жіберу медианасы','Медиана отдачи', fmt(r[6],'Мбит/с'));
    row(t,'Соңғы сапар','Последний визит', r[7]);
    if(key!=='best' && r[11]){ row(t,'Деректер аз','Мало данных', r[11]); }
    if(key==='best'){
      D.operators.forEach(function(op){ var o=D.layers[op][i];
        var nm=D.operatorNames[op]||op; var tr=el('tr'); tr.appendChild(el('th', nm));
        tr.appendChild(el('td', o? (lab(M[o[0]])+' · '+lab(I[o[1]])) : lab(M[5]))); t.appendChild(tr); });
    }
  }
  box.appendChild(el('div', 'Ережелер / Правила: '+D.ruleSet+' · '+D.period, 'qamtu-sub'));
  return box;
}
var counts = {};
var markers = {};
Object.keys(groups).forEach(function(key){
  var g = groups[key], layer = D.layers[key] || {}; counts[key]=0; markers[key]={};
  // unmeasured settlements first, measured ones drawn on top of them
  var order = [];
  for(var k=0;k<S.length;k++){ if(!layer[k]){ order.push(k); } }
  for(var k2=0;k2<S.length;k2++){ if(layer[k2]){ order.push(k2); } }
  for(var n=0;n<order.length;n++){
    var i=order[n], s=S[i], r=layer[i];
    var fill = r ? M[r[0]][1] : M[5][1], ring = r ? I[r[1]][1] : '#9e9e9e';
    var thin = r && (r[2]!==3);
    var m = L.circleMarker([s[3], s[4]], {radius: s[5]?9:6, color: ring, weight: r?2.5:1, fillColor: fill,
        fillOpacity: r?0.9:0.45, opacity: r?1:0.8, dashArray: thin?'3 3':null,
        className: 'qamtu-settlement qamtu-layer-'+key.replace(/[^A-Za-z0-9]/g,'_')});
    (function(key, i){ m.bindPopup(function(){ return popup(key, i); }, {maxWidth: 440, minWidth: 300}); })(key, i);
    m.bindTooltip(s[1]+' / '+s[2], {sticky: true});
    m.addTo(g); counts[key]++; markers[key][i]=m;
  }
});
// hexagon colours follow the rule set's LTE thresholds (coverage minimum and "good"), never numbers of this page
var HEX = [['#d7191c','Байланыссыз үлесі > 50 %','Доля без связи > 50 %'],
           ['#1a9641','RSRP ≥ '+D.rsrpGood+' dBm',''], ['#fee08b','RSRP '+D.rsrpCoverage+' … '+D.rsrpGood+' dBm',''],
           ['#fdae61','RSRP < '+D.rsrpCoverage+' dBm',''], ['#9e9e9e','RSRP жоқ','нет RSRP']];
function hexColour(rsrp, noService){ if(noService>0.5){return HEX[0][0];} if(rsrp===null||D.rsrpCoverage===null){return HEX[4][0];}
  if(D.rsrpGood!==null && rsrp>=D.rsrpGood){return HEX[1][0];} return rsrp>=D.rsrpCoverage? HEX[2][0] : HEX[3][0]; }
map.createPane('qamtuHex'); map.getPane('qamtuHex').style.zIndex = 350;   // under the settlement markers
D.hexes.forEach(function(h){
  var p = L.polygon(h[0], {color:'#333', weight:0.5, fillColor: hexColour(h[3], h[2]), fillOpacity:0.55, className:'qamtu-hex',
                           pane:'qamtuHex'});
  p.bindPopup(function(){ var box=el('div',null,'qamtu-popup'); box.appendChild(el('b','H3 '+D.hexResolution));
    var t=el('table'); box.appendChild(t);
    row(t,'Өлшемдер саны','Замеров', h[1]); row(t,'Байланыссыз үлесі','Доля без связи', h[2]===null?null:Math.round(h[2]*100)+' %');
    row(t,'RSRP медианасы','Медиана RSRP', fmt(h[3],'dBm')); row(t,'Операторлар','Операторы', h[4]); return box; });
  p.addTo(hexGroup);
});
// legend
var legend = L.control({position:'bottomright'});
legend.onAdd = function(){
  var box = L.DomUtil.create('div','qamtu-legend'); L.DomEvent.disableScrollPropagation(box); L.DomEvent.disableClickPropagation(box);
  var det = el('details'); det.open = window.innerWidth >= 1100 && window.innerHeight >= 800;   // small screens: folded
  det.appendChild(el('summary','Шартты белгілер / Легенда')); box.appendChild(det);
  var d = el('div'); det.appendChild(d);
  d.appendChild(el('b','Қамту картасы / Карта покрытия'));
  (D.notes||[]).forEach(function(n){ d.appendChild(el('div', n, 'qamtu-note')); });
  d.appendChild(el('div','Толтыру: ұялы байланыс / Заливка: мобильная связь','qamtu-sub'));
  M.forEach(function(m){ var r=el('div'); var k=el('span',null,'qamtu-sw'); k.style.background=m[1]; r.appendChild(k); r.appendChild(el('span', m[2]===m[3]? m[2] : m[2]+' / '+m[3])); d.appendChild(r); });
  d.appendChild(el('div','Шеңбер: мобильді интернет / Обводка: мобильный интернет','qamtu-sub'));
  I.forEach(function(m){ var r=el('div'); var k=el('span',null,'qamtu-ring'); k.style.borderColor=m[1]; r.appendChild(k); r.appendChild(el('span', m[2]+' / '+m[3])); d.appendChild(r); });
  var r=el('div'); var k=el('span',null,'qamtu-ring qamtu-dash'); r.appendChild(k);
  r.appendChild(el('span','Үзік шеңбер: деректер аз, баға берілмеген / Пунктир: мало данных, без оценки')); d.appendChild(r);
  var b=el('div','Аудан шекаралары: 2024 ж. (geokz, CC BY 4.0) / '+
    'Границы районов: 2024 г. (geokz, CC BY 4.0)','qamtu-sub'); d.appendChild(b);
  if(D.approximateDistricts.length){
    d.appendChild(el('div','Үзік сызық — шамамен / Пунктир — приблизительные: '+
      D.approximateDistricts.map(function(x){return x[0]+' / '+x[1];}).join('; '),'qamtu-sub qamtu-approx'));
  }
  if(D.hexResolution!==null){ d.appendChild(el('div','H3 алтыбұрыштар, ажыратымдылық / Гексагоны H3, разрешение '+D.hexResolution,'qamtu-sub'));
    HEX.forEach(function(h){ var r=el('div'); var k=el('span',null,'qamtu-hexsw'); k.style.background=h[0]; r.appendChild(k);
      r.appendChild(el('span', h[2]? h[1]+' / '+h[2] : h[1], 'qamtu-sub')); d.appendChild(r); }); }
  d.appendChild(el('div','Ережелер / Правила: '+D.ruleSet+' ('+D.ruleValidFrom+') · Кезең / Период: '+D.period,'qamtu-sub'));
  return box; };
legend.addTo(map);
// search box
function fold(t){ var f={'ә':'а','ғ':'г','қ':'к','ң':'н','ө':'о','ұ':'у','ү':'у','һ':'х','і':'и','ё':'е'};
  return String(t).toLowerCase().replace(/[әғқңөұүһіё]/g, function(c){return f[c];}).replace(/[^a-zа-я0-9]/g,''); }
var keys = S.map(function(s){ return fold(s[1])+'|'+fold(s[2]); });
var search = L.control({position:'topleft'});
search.onAdd = function(){
  var d = L.DomUtil.create('div','qamtu-search'); L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
  var inp = el('input'); inp.type='search'; inp.id='qamtu-search-input'; inp.placeholder='Елді мекенді іздеу / Поиск населённого пункта';
  var list = el('ul', null, 'qamtu-results'); d.appendChild(inp); d.appendChild(list);
  inp.addEventListener('input', function(){
    list.textContent=''; var q=fold(inp.value); if(!q){return;}
    var n=0;
    for(var i=0;i<S.length && n<12;i++){ if(keys[i].indexOf(q)>=0){ n++;
      (function(i){ var li=el('li', S[i][1]+' / '+S[i][2]+' — '+S[i][7]); li.addEventListener('click', function(){
        map.setView([S[i][3], S[i][4]], 13); var key = Object.keys(groups).filter(function(k){return map.hasLayer(groups[k]);})[0]||'best';
        markers[key][i].openPopup(); }); list.appendChild(li); })(i); } }
    D.unlocated.forEach(function(u){ if(n<12 && (fold(u[1])+'|'+fold(u[2])).indexOf(q)>=0){ n++;
      list.appendChild(el('li', u[1]+' / '+u[2]+' — '+u[4]+' (координаттары жоқ / нет координат)','qamtu-nocoord')); } });
    if(!n){ list.appendChild(el('li','Табылмады / Не найдено','qamtu-nocoord')); }
  });
  var q0 = /search=([^&]+)/.exec(location.hash||'');      // map.html#search=NAME fills the box
  if(q0){ inp.value = decodeURIComponent(q0[1]); setTimeout(function(){ inp.dispatchEvent(new Event('input')); }, 0); }
  return d; };
search.addTo(map);
// settlements without coordinates
var nocoord = L.control({position:'topright'});
nocoord.onAdd = function(){
  var d = L.DomUtil.create('div','qamtu-unlocated'); L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
  var det = el('details'); det.appendChild(el('summary','Координаттары жоқ елді мекендер / НП без координат ('+D.unlocated.length+')'));
  var ul = el('ul'); D.unlocated.forEach(function(u){ var st=M[Math.max(0, M.map(function(m){return m[0];}).indexOf(u[5]))];
    ul.appendChild(el('li', u[1]+' / '+u[2]+' — '+u[4]+' · '+st[2]+' / '+st[3])); });
  det.appendChild(ul); d.appendChild(det); return d; };
nocoord.addTo(map);
// map.html#h3 shows the hexagon layer at once
if(/(^#|&)h3(&|$)/.test(location.hash||'')){ map.addLayer(hexGroup); }
// a link such as map.html#kato=611010000 opens that settlement
var wanted = /kato=([0-9]{9})/.exec(location.hash||'');
if(wanted){ for(var j=0;j<S.length;j++){ if(S[j][0]===wanted[1]){ map.setView([S[j][3], S[j][4]], 12); markers['best'][j].openPopup(); break; } } }
var root = document.documentElement;
root.setAttribute('data-qamtu-markers', String(counts['best']||0));
root.setAttribute('data-qamtu-hexes', String(D.hexes.length));
root.setAttribute('data-qamtu-unlocated', String(D.unlocated.length));
root.setAttribute('data-qamtu-rule-set', D.ruleSet);
root.setAttribute('data-qamtu-ready-ms', String(Math.round(performance.now())));
root.setAttribute('data-qamtu-ready', '1');
})();
{% endmacro %}
""")

_CSS = """
.leaflet-container{background:#f3f1ea;font:12px/1.35 "DejaVu Sans",Arial,sans-serif}
.qamtu-legend{font-size:11px;max-height:70vh;overflow:auto}.qamtu-legend summary{cursor:pointer;font-weight:bold}
.leaflet-control-layers{font-size:12px;line-height:1.3}
.qamtu-legend,.qamtu-search,.qamtu-unlocated{background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);max-width:330px}
.qamtu-legend div{margin:1px 0}.qamtu-sub{color:#444;font-size:11px;margin-top:3px}
.qamtu-sw{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:5px;vertical-align:middle;border:1px solid #555}
.qamtu-ring{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;vertical-align:middle;border:3px solid #666;background:#fff}
.qamtu-dash{border-style:dashed;border-color:#333}
.qamtu-hexsw{display:inline-block;width:12px;height:10px;margin-right:5px;vertical-align:middle;opacity:.7;clip-path:polygon(25% 0,75% 0,100% 50%,75% 100%,25% 100%,0 50%)}
.qamtu-search input{width:290px;padding:3px}.qamtu-results{list-style:none;margin:3px 0 0;padding:0;max-height:260px;overflow:auto}
.qamtu-results li{cursor:pointer;padding:2px 0;border-bottom:1px solid #eee}.qamtu-results li:hover{background:#eef}
.qamtu-nocoord{color:#777;cursor:default}.qamtu-note{color:#b71c1c;font-weight:bold}
.qamtu-unlocated ul{max-height:300px;overflow:auto;margin:4px 0 0;padding-left:16px}
.qamtu-popup{font-size:11.5px;line-height:1.25}.qamtu-popup table{border-collapse:collapse;margin-top:4px}
.qamtu-popup th{text-align:left;font-weight:normal;color:#555;padding:0 6px 1px 0;vertical-align:top;max-width:170px}
.qamtu-popup td{font-weight:bold;vertical-align:top}
"""


class _Page(MacroElement):
    _template = _PAGE_JS

    def __init__(self, map_name: str, groups: dict[str, str], hex_group: str):
        super().__init__()
        self._name = "QamtuCoverage"
        self.map_name = map_name
        self.groups_js = "{" + ",".join(f"{json.dumps(k)}: {v}" for k, v in groups.items()) + "}"
        self.hex_group = hex_group


# --------------------------------------------------------------------------- shared base map
def read_outlines(gazetteer: Gazetteer, districts_path: Path | str | None = None,
                  region_path: Path | str | None = None) -> tuple[dict, dict, list[list[float]]]:
    """District polygons (labelled) and region outlines of the gazetteer's regions, and the bounds
    ([[south, west], [north, east]], degrees) the map fits: the selected regions' outlines."""
    districts_file = Path(districts_path) if districts_path else package_path("mapping", "data", "districts.geojson")
    region_file = Path(region_path) if region_path else package_path("mapping", "data", "regions.geojson")
    districts, region = read_labelled_districts(districts_file), _read_geojson(region_file)
    wanted = set(gazetteer.regions)

    def keep(f: dict) -> bool:
        code = (f.get("properties") or {}).get("region_kato")
        return code is None or code in wanted  # outlines without a region code (older files) are all kept

    districts = {**districts, "features": [f for f in districts["features"] if keep(f)]}
    region = {**region, "features": [f for f in region["features"] if keep(f)]}
    xs, ys = [], []
    for f in region["features"] or districts["features"]:
        geom = f.get("geometry") or {}
        for x, y in _coords(geom.get("coordinates")):
            xs.append(x)
            ys.append(y)
    located = [s for s in gazetteer if s.located]
    xs += [s.lon for s in located]
    ys += [s.lat for s in located]
    bounds = [[min(ys), min(xs)], [max(ys), max(xs)]] if xs else [[40.5, 59.0], [47.5, 76.0]]
    return districts, region, bounds


def _coords(c: Any):
    """Every [x, y] pair of a GeoJSON coordinates array."""
    if isinstance(c, list) and len(c) >= 2 and all(isinstance(v, (int, float)) for v in c[:2]):
        yield c[0], c[1]
    elif isinstance(c, list):
        for part in c:
            yield from _coords(part)


def read_labelled_districts(districts_file: Path) -> dict:
    """The district polygons with a kk/ru ``label`` that says when a boundary is approximate or historical."""
    districts = _read_geojson(districts_file)
    for i, f in enumerate(districts.get("features", [])):
        p = f.get("properties") or {}
        for key in ("name_kk", "name_ru"):
            if not p.get(key):
                raise MapError(f"{districts_file}: feature #{i}: field '{key}' missing")
        p["label"] = (f"{p['name_kk']} / {p['name_ru']}"
                      + (" — шекарасы шамамен / граница приблизительная" if p.get("approximate") else "")
                      + (" (2017 ж. шекарасы / граница 2017 г.)" if p.get("historical") else ""))
    return districts


def base_map(bounds: list[list[float]], title: str, css: str, offline: bool, region: dict, districts: dict,
             **map_options: Any) -> folium.Map:
    """A folium map of the region with Leaflet inlined, the page title, the region outline and the
    labelled districts (dashed where approximate); OpenStreetMap tiles unless ``offline``."""
    m = folium.Map(location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2], zoom_start=8,
                   tiles=None, control_scale=True, **map_options)
    m.default_js, m.default_css = [], []
    js, leaflet_css = leaflet_assets()
    root = m.get_root()
    root.header.add_child(Element(f"<script>{_ERRORS_JS}</script>"), name="qamtu_errors")
    root.header.add_child(Element(f"<style>{leaflet_css}</style>"), name="leaflet_css_inline")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
    root.header.add_child(Element(f"<style>{css}</style>"), name="qamtu_css")
    root.header.add_child(Element(f"<title>{_html_escape(title)}</title>"), name="title")
    if not offline:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(m)
    folium.GeoJson(region, name="Облыстар / Области", control=False, interactive=False,
                   style_function=lambda f: {"color": "#222", "weight": 2.6, "fill": False}).add_to(m)
    folium.GeoJson(districts, name="Аудандар / Районы (2024)",
                   style_function=lambda f: {"color": "#555", "weight": 1.2, "fillOpacity": 0.03, "fillColor": "#888",
                                             "dashArray": "6 4" if f["properties"].get("approximate") else None},
                   tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(m)
    return m


def write_map(m: folium.Map, out: Path, offline: bool) -> str:
    """Render ``m`` to ``out``; an offline map that still names a remote resource is refused."""
    html = m.get_root().render()
    if offline:
        leftovers = _remote_references(html)
        if leftovers:
            raise MapError(f"{out}: bug in qamtu: the offline map still references remote resources "
                           f"{leftovers[:5]}; please report it to the qamtu developers")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{out}: cannot write the map ({exc.strerror or exc}); choose a writable --out") from None
    return html


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
    m = base_map(bounds, title or "Қамту / Qamtu — ұялы байланыс картасы / карта покрытия", _CSS, offline, region,
                 districts, prefer_canvas=False)
    root = m.get_root()

    hex_group = folium.FeatureGroup(name=f"H3 ({hex_res if hex_res is not None else '-'}) сигнал / сигнал", show=False)
    hex_group.add_to(m)
    groups = {"best": folium.FeatureGroup(name="Операторлардың үздігі / Лучший из операторов", show=True)}
    for op in cl.operators:
        groups[op] = folium.FeatureGroup(name=f"{operator_names().get(op, op)} ({op})", show=False)
    for g in groups.values():
        g.add_to(m)
    data = map_data(cl, gazetteer, hexes, hex_res, districts)
    data["notes"] = list(notes or [])
    root.html.add_child(Element(f'<script type="application/json" id="qamtu-data">{_script_json(data)}</script>'),
                        name="qamtu_data")
    m.fit_bounds(bounds)
    m.add_child(_Page(m.get_name(), {k: g.get_name() for k, g in groups.items()}, hex_group.get_name()))
    folium.LayerControl(collapsed=False).add_to(m)
    html = write_map(m, out, offline)
    return {"path": str(out), "bytes": len(html.encode("utf-8")), "offline": offline,
            "markers": len(located), "layers": ["best", *cl.operators],
            "hexagons": 0 if hexes is None else int(len(hexes)), "hex_resolution": hex_res,
            "unlocated": len(data["unlocated"]), "rule_set": cl.rules.version, "period": cl.period.label}


#: http(s) strings allowed in an offline page: the SVG XML namespace name (an identifier, never fetched).
ALLOWED_URL_STRINGS = ("http://www.w3.org/2000/svg",)


def _remote_references(html: str) -> list[str]:
    """Remote references a browser would load: src/href attributes, CSS url() and @import, and any
    other http(s) string except the allowed identifiers."""
    found = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+""", html, flags=re.I)
    found += re.findall(r"""url\(\s*["']?(?:https?:)?//[^)]+\)""", html, flags=re.I)
    found += re.findall(r"@import", html)
    found += [u for u in re.findall(r"https?://[^\s\"'<>)]+", html) if not u.startswith(ALLOWED_URL_STRINGS)]
    return found


def _read_geojson(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapError(f"{path}: cannot read the outlines ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise MapError(f"{path}: not a GeoJSON FeatureCollection")
    return data


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
