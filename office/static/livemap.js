/* Live staff maps (coverage, five-year problems) drawn from the JSON of mapping's own builders. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("live-map");
  if (!el || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status"), legend = document.getElementById("map-legend");
  var ru = el.dataset.lang === "ru";
  var map = L.map(el, {attributionControl: false, preferCanvas: true}).setView([42.5, 68.5], 7);
  function addLegend(colour, text) {
    var li = document.createElement("li"), sw = document.createElement("span");
    sw.className = "swatch"; sw.style.backgroundColor = colour;
    li.appendChild(sw); li.appendChild(document.createTextNode(" " + text)); legend.appendChild(li);
  }
  function tip(s) { return (ru ? s[2] : s[1]) + " (" + s[0] + ")"; }
  function coverage(data) {
    var styles = {}; data.mobile.forEach(function (m) { styles[m[0]] = m; });
    var keys = data.mobile.map(function (m) { return m[0]; });
    var best = (data.layers || {}).best || {}, n = 0;
    data.mobile.forEach(function (m) { addLegend(m[1], ru ? m[3] : m[2]); });
    data.settlements.forEach(function (s, i) {
      var row = best[String(i)], key = row ? keys[row[0]] : null, st = key ? styles[key] : null;
      var colour = st ? st[1] : "#9e9e9e";
      L.circleMarker([s[3], s[4]], {radius: s[5] ? 6 : 3, color: colour, weight: 1, fillOpacity: row ? 0.85 : 0.3})
        .bindTooltip(tip(s) + (st ? " · " + (ru ? st[3] : st[2]) : "")).addTo(map);
      if (row) { n += 1; }
    });
    return n;
  }
  function problems(data) {
    var colours = {}, codes = data.display;
    codes.forEach(function (d, i) { colours[i] = d; addLegend(d[1], ru ? d[4] : d[3]); });
    var all = Object.keys(data.status || {});
    var last = data.years.length - 1, n = 0;
    data.settlements.forEach(function (s, i) {
      var worst = 0;
      all.forEach(function (dim) { var v = parseInt(data.status[dim][i].charAt(last), 10); if (v > worst) { worst = v; } });
      var d = colours[worst] || codes[0];
      L.circleMarker([s[3], s[4]], {radius: s[5] ? 6 : 3, color: d[1], weight: 1, fillOpacity: 0.8})
        .bindTooltip(tip(s) + " · " + (ru ? d[4] : d[3])).addTo(map);
      n += 1;
    });
    return n;
  }
  fetch(el.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(function (data) {
      var n = el.dataset.kind === "problems" ? problems(data) : coverage(data);
      status.textContent = String(n);
      el.dataset.ready = "1";
    })
    .catch(function (e) { status.textContent = "error " + e.message; el.dataset.ready = "error"; });
});
