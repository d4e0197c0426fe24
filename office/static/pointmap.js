/* The small map of a case: the matched settlement and the candidates (no tiles: offline-safe). */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("case-map");
  if (!el || typeof L === "undefined") { return; }
  var pts = JSON.parse(el.dataset.points || "[]");
  if (!pts.length) { el.classList.add("hidden"); return; }
  var map = L.map(el, {attributionControl: false});
  var group = L.featureGroup().addTo(map);
  pts.forEach(function (p) {
    var m = L.circleMarker([p.lat, p.lon], {radius: p.kind === "match" ? 9 : 6, color: p.kind === "match" ? "#0b5cad" : "#b36b00",
      fillOpacity: 0.7});
    m.bindTooltip(document.createTextNode(p.name + " (" + p.kato + ")").textContent);
    m.addTo(group);
  });
  map.fitBounds(group.getBounds().pad(0.5), {maxZoom: 11});
  el.dataset.ready = "1";
});
