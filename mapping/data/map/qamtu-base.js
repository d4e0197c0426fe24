/* Qamtu map pages: what the coverage map and the problem map share (mapping/leaflet.py inlines it
 * into every page, before Leaflet). Rule of the house: every data value reaches the DOM as text
 * (textContent, or an element handed to Leaflet), never as an HTML string. */
(function () {
  'use strict';
  // script errors are noted in the data-qamtu-errors attribute of the root element (the browser tests read it)
  var errs = [];
  function note(m) {
    errs.push(String(m));
    document.documentElement.setAttribute('data-qamtu-errors', JSON.stringify(errs));
  }
  window.addEventListener('error', function (e) { note((e.message || 'error') + ' @' + (e.lineno || '?')); });
  window.addEventListener('unhandledrejection', function (e) { note('unhandled rejection: ' + e.reason); });

  var Q = window.Qamtu = window.Qamtu || {};

  /** A new element with ``text`` as its text (never parsed as HTML) and class ``cls``. */
  Q.el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  };

  /** A table row "label kk / label ru | value"; nothing when the value is empty. */
  Q.row = function (tbl, kk, ru, value) {
    if (value === null || value === undefined || value === '') { return; }
    var tr = Q.el('tr');
    tr.appendChild(Q.el('th', kk + ' / ' + ru));
    tr.appendChild(Q.el('td', value));
    tbl.appendChild(tr);
  };

  /** "kk / ru", or one of them when both are the same. */
  Q.both = function (kk, ru) { return kk === ru ? kk : kk + ' / ' + ru; };

  /** The page's data block (JSON, escaped by mapping/leaflet.py:script_json). */
  Q.data = function () { return JSON.parse(document.getElementById('qamtu-data').textContent); };

  /** The first group of ``pattern`` in location.hash, URI-decoded; null when absent or malformed. */
  Q.hashParam = function (pattern) {
    var m = pattern.exec(location.hash || '');
    if (!m) { return null; }
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }   // %E0%A4%A: ignored, the page goes on
  };

  /** A tooltip showing ``text`` as text (Leaflet would parse a string as HTML). */
  Q.textTooltip = function (layer, text, options) {
    layer.bindTooltip(function () { return Q.el('span', text); }, options);
  };

  /** Text tooltips ``properties.label`` on every feature of a GeoJSON layer (the district outlines). */
  Q.labelFeatures = function (geojsonLayer) {
    geojsonLayer.eachLayer(function (l) {
      var p = (l.feature && l.feature.properties) || {};
      if (p.label) { Q.textTooltip(l, p.label, {sticky: true}); }
    });
  };

  /** A Leaflet control at ``position``: a div of class cls that ``build(div)`` fills; clicks and
   * scrolls stay inside it. */
  Q.control = function (map, position, cls, build) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var d = L.DomUtil.create('div', cls);
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      build(d);
      return d;
    };
    c.addTo(map);
    return c;
  };

  /** The legend box (bottom right), folded on small screens; ``build(div)`` fills it. */
  Q.legend = function (map, build) {
    return Q.control(map, 'bottomright', 'qamtu-legend', function (box) {
      var det = Q.el('details');
      det.open = window.innerWidth >= 1100 && window.innerHeight >= 800;
      det.appendChild(Q.el('summary', 'Шартты белгілер / Легенда'));
      box.appendChild(det);
      var d = Q.el('div');
      det.appendChild(d);
      build(d);
    });
  };

  /** A colour swatch and its label as one legend line. */
  Q.swatch = function (cls, label, style, labelCls) {
    var r = Q.el('div'), k = Q.el('span', null, cls);
    Object.keys(style || {}).forEach(function (s) { k.style[s] = style[s]; });
    r.appendChild(k);
    r.appendChild(Q.el('span', label, labelCls));
    return r;
  };

  /** The lines every legend ends with: 2024 district boundaries and the approximate ones. */
  Q.districtNotes = function (d, approximate, cls) {
    d.appendChild(Q.el('div', 'Аудан шекаралары: 2024 ж. (geokz, CC BY 4.0) / Границы районов: 2024 г. (geokz, CC BY 4.0)', 'qamtu-sub'));
    if (approximate.length) {
      d.appendChild(Q.el('div', 'Үзік сызық — шамамен / Пунктир — приблизительные: ' +
        approximate.map(function (x) { return x[0] + ' / ' + x[1]; }).join('; '), cls || 'qamtu-sub'));
    }
  };

  /** Names folded for search: lower case, Kazakh letters to their Russian look-alikes, letters and digits only. */
  var FOLD = {'ә': 'а', 'ғ': 'г', 'қ': 'к', 'ң': 'н', 'ө': 'о', 'ұ': 'у', 'ү': 'у', 'һ': 'х', 'і': 'и', 'ё': 'е'};
  Q.fold = function (t) {
    return String(t).toLowerCase().replace(/[әғқңөұүһіё]/g, function (c) { return FOLD[c]; })
      .replace(/[^a-zа-я0-9]/g, '');
  };

  /** Set data-qamtu-* attributes on the root element, then data-qamtu-ready-ms and data-qamtu-ready="1". */
  Q.ready = function (attrs) {
    var root = document.documentElement;
    Object.keys(attrs).forEach(function (k) { root.setAttribute('data-qamtu-' + k, String(attrs[k])); });
    root.setAttribute('data-qamtu-ready-ms', String(Math.round(performance.now())));
    root.setAttribute('data-qamtu-ready', '1');
  };
})();
