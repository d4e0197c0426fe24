"""What the coverage map and the problem map share: one HTML page with Leaflet inlined.

* :func:`base_map`: a folium map with Leaflet, the shared script and stylesheet
  (``mapping/data/map/qamtu-base.{js,css}``) and the page's own ones inlined, the page title, the
  region outline and the labelled districts; OpenStreetMap tiles unless ``offline``.
* :func:`data_block`: the page's data as one ``<script type="application/json">`` block, escaped
  by :func:`script_json` so no value can close the script.
* :class:`PageScript`: the call of the page's entry point (``Qamtu.coverageMap(...)``) once the
  folium layers exist.
* :func:`write_map`: the one place a map page is written; an offline page that would load a remote
  resource is refused.

The JavaScript and CSS are package data under ``mapping/data/map/`` (linted and read like any
other file), inlined into every page, so the file works without a network. Every data value
reaches the DOM as text: the scripts build elements with ``textContent``, layer names (which
Leaflet's layer control sets as HTML) are HTML-escaped here, and district tooltips are bound by
the script, not by folium.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from .. import package_path
from ..safeio import write_text
from .errors import MappingError
from .gazetteer import Gazetteer

#: http(s) strings allowed in an offline page: the SVG XML namespace name (an identifier, never fetched).
ALLOWED_URL_STRINGS = ("http://www.w3.org/2000/svg",)
#: district properties the page uses (other properties, such as source URLs, are left out of the page)
DISTRICT_PROPERTIES = ("name_kk", "name_ru", "label", "approximate", "historical")


class MapError(MappingError):
    """A map could not be built or written; the message names the file."""


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


def page_asset(name: str) -> str:
    """Text of ``mapping/data/map/<name>`` (a page script or stylesheet)."""
    path = package_path("mapping", "data", "map", name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{path}: map page asset missing ({exc.strerror or exc}); reinstall qamtu") from None
    if re.search(r"</(script|style)|<!--", text, flags=re.I):   # it is inlined: it must not end its own block
        raise MapError(f"{path}: contains '</script', '</style' or '<!--', which would end the inlined block; "
                       "rewrite that text")
    return text


def script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and U+2028/2029 escaped, so no value can
    close the block (``</script>``), open an HTML comment or end a JavaScript line."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def layer_name(text: str) -> str:
    """A name for Leaflet's layer control, which sets it as HTML: escaped, so it shows as typed."""
    return html.escape(text, quote=False)


# --------------------------------------------------------------------------- outlines
def read_geojson(path: Path) -> dict:
    """A GeoJSON FeatureCollection from ``path``; :class:`MapError` naming the file otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapError(f"{path}: cannot read the outlines ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise MapError(f"{path}: not a GeoJSON FeatureCollection")
    return data


def read_labelled_districts(districts_file: Path) -> dict:
    """The district polygons with a kk/ru ``label`` that says when a boundary is approximate or historical."""
    districts = read_geojson(districts_file)
    for i, f in enumerate(districts.get("features", [])):
        p = f.get("properties") or {}
        for key in ("name_kk", "name_ru"):
            if not p.get(key):
                raise MapError(f"{districts_file}: feature #{i}: field '{key}' missing")
        p["label"] = (f"{p['name_kk']} / {p['name_ru']}"
                      + (" — шекарасы шамамен / граница приблизительная" if p.get("approximate") else "")
                      + (" (2017 ж. шекарасы / граница 2017 г.)" if p.get("historical") else ""))
    return districts


def read_outlines(gazetteer: Gazetteer, districts_path: Path | str | None = None,
                  region_path: Path | str | None = None) -> tuple[dict, dict, list[list[float]]]:
    """District polygons (labelled) and region outlines of the gazetteer's regions, and the bounds
    ([[south, west], [north, east]], degrees) the map fits: the selected regions' outlines and
    located settlements."""
    districts_file = Path(districts_path) if districts_path else package_path("mapping", "data", "districts.geojson")
    region_file = Path(region_path) if region_path else package_path("mapping", "data", "regions.geojson")
    districts, region = read_labelled_districts(districts_file), read_geojson(region_file)
    wanted = set(gazetteer.regions)

    def keep(f: dict) -> bool:
        code = (f.get("properties") or {}).get("region_kato")
        return code is None or code in wanted  # outlines without a region code (older files) are all kept

    districts = {**districts, "features": [f for f in districts["features"] if keep(f)]}
    region = {**region, "features": [f for f in region["features"] if keep(f)]}
    xs, ys = [], []
    for f in region["features"] or districts["features"]:
        for x, y in _coords((f.get("geometry") or {}).get("coordinates")):
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


def _outline_only(fc: dict, keep: tuple[str, ...] = ()) -> dict:
    """``fc`` with only the properties ``keep``: what the page needs, no stray text (URLs, notes)."""
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": f.get("geometry"),
                          "properties": {k: v for k, v in (f.get("properties") or {}).items() if k in keep}}
                         for f in fc.get("features", [])]}


# --------------------------------------------------------------------------- the page
def base_map(bounds: list[list[float]], title: str, page: str, offline: bool, region: dict, districts: dict,
             **map_options: Any) -> tuple[folium.Map, folium.GeoJson]:
    """A folium map of the region with Leaflet, ``qamtu-base`` and the page's ``<page>.js``/``.css``
    inlined, the page title, the region outline and the labelled districts (dashed where
    approximate); OpenStreetMap tiles unless ``offline``. Returns the map and the districts layer
    (the page script binds its tooltips)."""
    m = folium.Map(location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2], zoom_start=8,
                   tiles=None, control_scale=True, **map_options)
    m.default_js, m.default_css = [], []
    js, leaflet_css = leaflet_assets()
    root = cast(Figure, m.get_root())     # a folium Map's root is its page (branca types it as Element)
    root.header.add_child(Element(f"<script>{page_asset('qamtu-base.js')}</script>"), name="qamtu_base_js")
    root.header.add_child(Element(f"<style>{leaflet_css}</style>"), name="leaflet_css_inline")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
    root.header.add_child(Element(f"<style>{page_asset('qamtu-base.css')}{page_asset(page + '.css')}</style>"),
                          name="qamtu_css")
    root.header.add_child(Element(f"<script>{page_asset(page + '.js')}</script>"), name="qamtu_page_js")
    root.header.add_child(Element(f"<title>{html.escape(title, quote=False)}</title>"), name="title")
    if not offline:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(m)
    folium.GeoJson(_outline_only(region), name=layer_name("Облыстар / Области"), control=False, interactive=False,
                   style_function=lambda f: {"color": "#222", "weight": 2.6, "fill": False}).add_to(m)
    district_layer = folium.GeoJson(
        _outline_only(districts, DISTRICT_PROPERTIES), name=layer_name("Аудандар / Районы (2024)"),
        style_function=lambda f: {"color": "#555", "weight": 1.2, "fillOpacity": 0.03, "fillColor": "#888",
                                  "dashArray": "6 4" if f["properties"].get("approximate") else None})
    district_layer.add_to(m)
    return m, district_layer


def data_block(m: folium.Map, data: Any) -> None:
    """Put ``data`` into the page as ``<script type="application/json" id="qamtu-data">``."""
    cast(Figure, m.get_root()).html.add_child(
        Element(f'<script type="application/json" id="qamtu-data">{script_json(data)}</script>'), name="qamtu_data")


class PageScript(MacroElement):
    """``Qamtu.<entry>(map, {key: layer, ...}, other layers...)`` in the page, after every layer is made."""

    _template = Template("""
{% macro script(this, kwargs) %}
Qamtu.{{ this.entry }}({{ this.map_name }}, {{ this.groups_js }}{% for a in this.args %}, {{ a }}{% endfor %});
{% endmacro %}
""")

    def __init__(self, entry: str, m: folium.Map, groups: dict[str, Any], *layers: Any):
        super().__init__()
        if not re.fullmatch(r"[A-Za-z]+", entry):
            raise ValueError(f"page entry {entry!r}: letters only")
        self._name = "QamtuPage"
        self.entry = entry
        self.map_name = m.get_name()
        # keys are data (operator codes): JSON escaped for <script>; values are folium's own variable names
        self.groups_js = "{" + ",".join(f"{script_json(k)}: {g.get_name()}" for k, g in groups.items()) + "}"
        self.args = [layer.get_name() if layer is not None else "null" for layer in layers]


def write_map(m: folium.Map, out: Path, offline: bool) -> str:
    """Render ``m`` to ``out``; an offline map that would still load a remote resource is refused."""
    page = m.get_root().render()
    if offline:
        leftovers = remote_references(page)
        if leftovers:
            raise MapError(f"{out}: bug in qamtu: the offline map still references remote resources "
                           f"{leftovers[:5]}; please report it to the qamtu developers")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, page)  # all or nothing: a full disk leaves the previous map
    except OSError as exc:
        raise MapError(f"{out}: cannot write the map ({exc.strerror or exc}); choose a writable --out") from None
    return page


_DATA_BLOCK = re.compile(r"""<script\s+type=["']application/json["'][^>]*>.*?</script>""", re.S | re.I)


def remote_references(page: str) -> list[str]:
    """Remote references a browser would load from ``page``: src/href attributes, CSS url() and
    @import, and any other http(s) string in the page's code except the allowed identifiers.

    Data blocks (``<script type="application/json">``) are left out: they are text the script
    shows (a plan note may quote a web address), never a resource, and :func:`script_json` keeps
    them from closing their block."""
    code = _DATA_BLOCK.sub("", page)
    found = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+""", code, flags=re.I)
    found += re.findall(r"""url\(\s*["']?(?:https?:)?//[^)]+\)""", code, flags=re.I)
    found += re.findall(r"@import", code)
    found += [u for u in re.findall(r"https?://[^\s\"'<>)]+", code) if not u.startswith(ALLOWED_URL_STRINGS)]
    return found
