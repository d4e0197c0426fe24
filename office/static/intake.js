/* 109 intake: settlement autocomplete (kk/ru/Latin) and open cases for the same settlement x operator x service. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("intake");
  if (!form) { return; }
  var place = document.getElementById("place"), list = document.getElementById("place-list");
  var kato = document.getElementById("kato"), dupes = document.getElementById("dupes");
  var operator = document.getElementById("operator"), service = document.getElementById("service");
  var lang = document.documentElement.lang, active = -1, items = [], timer = null;

  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }
  function close() { list.classList.add("hidden"); place.setAttribute("aria-expanded", "false"); active = -1; }
  function label(r) { return (lang === "ru" ? (r.name_ru || r.name_kk) : (r.name_kk || r.name_ru)) + " · " + r.district; }
  function choose(i) {
    var r = items[i]; if (!r) { return; }
    place.value = lang === "ru" ? (r.name_ru || r.name_kk) : (r.name_kk || r.name_ru);
    kato.value = r.kato; close(); checkDuplicates();
  }
  function mark() {
    Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
  }
  function search() {
    var q = place.value.trim();
    kato.value = "";
    if (q.length < 2) { close(); return; }
    fetch(form.dataset.settlements + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        items = data.results || []; clear(list);
        items.forEach(function (r, i) {
          var li = document.createElement("li");
          li.setAttribute("role", "option"); li.dataset.kato = r.kato; li.textContent = label(r);
          li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
          list.appendChild(li);
        });
        active = items.length ? 0 : -1; mark();
        list.classList.toggle("hidden", items.length === 0);
        place.setAttribute("aria-expanded", items.length ? "true" : "false");
      });
  }
  place.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 150); });
  place.addEventListener("keydown", function (ev) {
    if (list.classList.contains("hidden")) { return; }
    if (ev.key === "ArrowDown") { active = Math.min(active + 1, items.length - 1); mark(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { active = Math.max(active - 1, 0); mark(); ev.preventDefault(); }
    else if (ev.key === "Enter") { if (active >= 0) { choose(active); ev.preventDefault(); } }
    else if (ev.key === "Escape") { close(); }
  });
  place.addEventListener("blur", function () { setTimeout(close, 100); });

  function checkDuplicates() {
    if (!kato.value) { dupes.classList.add("hidden"); return; }
    var url = form.dataset.duplicates + "?kato=" + encodeURIComponent(kato.value) +
      "&operator=" + encodeURIComponent(operator.value) + "&service=" + encodeURIComponent(service.value);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        clear(dupes);
        var rows = data.results || [];
        var h = document.createElement("strong");
        h.textContent = rows.length ? form.dataset.dupesTitle : form.dataset.none;
        dupes.appendChild(h);
        var ul = document.createElement("ul");
        rows.forEach(function (r) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = r.url; a.textContent = r.case_id; a.target = "_blank"; a.rel = "noopener";
          li.appendChild(a);
          li.appendChild(document.createTextNode(" · " + r.operator + " · " + r.service + " · " + r.state_label + " · " + r.last_received));
          ul.appendChild(li);
        });
        dupes.appendChild(ul);
        dupes.classList.remove("hidden");
      });
  }
  operator.addEventListener("change", checkDuplicates);
  service.addEventListener("change", checkDuplicates);
});
