/* Public region map: settlements coloured by mobile coverage, ringed when cases are open.
   Data from the JSON endpoint; every text goes into the page as a text node (no HTML strings). */
"use strict";
(function () {
  var box = document.getElementById("public-map");
  if (!box || typeof L === "undefined") { return; }
  var status = document.getElementById("map-status");
  var label = function (k) { return box.getAttribute("data-l-" + k) || k; };
  var COLOURS = { "5g": "#1a9850", "4g": "#1a9850", "3g": "#fdae61", "2g": "#f46d43", "no_service": "#d73027",
                  "unmeasured": "#9e9e9e" };
  var map = L.map(box).setView([42.9, 68.6], 7);
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function popup(s) {
    var d = el("div", null, "pub-popup");
    d.appendChild(el("strong", s.name));
    d.appendChild(el("div", label("mobile") + ": " + s.mobile));
    d.appendChild(el("div", label("internet") + ": " + s.internet));
    d.appendChild(el("div", label("measured") + ": " + (s.measured || label("never"))));
    d.appendChild(el("div", label("open") + ": " + s.open));
    var a = el("a", label("more"));
    a.href = box.getAttribute("data-page") + encodeURIComponent(s.kato);
    d.appendChild(a);
    return d;
  }
  fetch(box.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var pts = [];
      data.settlements.forEach(function (s) {
        var colour = COLOURS[s.mobile] || COLOURS.unmeasured;
        var m = L.circleMarker([s.lat, s.lon], { radius: s.open > 0 ? 7 : 5, weight: s.open > 0 ? 3 : 1,
                                                 color: s.open > 0 ? "#3f007d" : "#555", fillColor: colour,
                                                 fillOpacity: 0.85 });
        m.bindPopup(function () { return popup(s); });
        m.addTo(map);
        pts.push([s.lat, s.lon]);
      });
      if (pts.length) { map.fitBounds(pts, { padding: [10, 10] }); }
      box.setAttribute("data-loaded", String(pts.length));
      if (status) { status.textContent = String(pts.length); }
    })
    .catch(function (err) {
      box.setAttribute("data-loaded", "error");
      if (status) { status.textContent = String(err); }
    });
}());
