/* Settlement autocomplete of the complaint form: suggestions from the JSON endpoint go into a
   <datalist> as option values (text, never HTML); choosing one fills the hidden KATO field. */
"use strict";
(function () {
  var input = document.getElementById("place");
  var kato = document.getElementById("kato");
  var list = document.getElementById("place-options");
  if (!input || !kato || !list) { return; }
  var found = {};
  var timer = null;
  function label(s) { return s.name + " — " + s.district; }
  input.addEventListener("input", function () {
    var v = input.value;
    if (Object.prototype.hasOwnProperty.call(found, v)) { kato.value = found[v]; return; }
    kato.value = "";
    if (timer) { clearTimeout(timer); }
    if (v.trim().length < 2) { return; }
    timer = setTimeout(function () {
      var url = input.getAttribute("data-search") + "&q=" + encodeURIComponent(v.trim());
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        while (list.firstChild) { list.removeChild(list.firstChild); }
        found = {};
        data.settlements.forEach(function (s) {
          var o = document.createElement("option");
          o.value = label(s);
          found[o.value] = s.kato;
          list.appendChild(o);
        });
        if (Object.prototype.hasOwnProperty.call(found, input.value)) { kato.value = found[input.value]; }
      }).catch(function () { /* the form still works: the place is matched on the server */ });
    }, 200);
  });
}());
