/* The coverage map's page script (mapping/coverage_map.py), after qamtu-base.js and Leaflet.
 * Qamtu.coverageMap(map, groups, hexGroup, districts) is called once the folium layers exist:
 * groups = {layer key: L.featureGroup} ('best' and one per operator code). The data block's
 * field order is written in coverage_map.map_data(). */
(function () {
  'use strict';
  var Q = window.Qamtu;
  var el = Q.el, row = Q.row;
  var PRELIM = ' (алдын ала / предварительно)';

  Q.coverageMap = function (map, groups, hexGroup, districts) {
    var D = Q.data();
    var M = D.mobile, I = D.internet, S = D.settlements;
    if (districts) { Q.labelFeatures(districts); }
    function lab(x) { return Q.both(x[2], x[3]); }
    function fmt(v, unit) { return (v === null || v === undefined) ? null : (String(v) + ' ' + unit); }
    function opName(op) { return D.operatorNames[op] || op; }

    function popup(key, i) {
      var s = S[i], r = D.layers[key][i], box = el('div', null, 'qamtu-popup');
      box.appendChild(el('b', s[1] + ' / ' + s[2]));
      box.appendChild(el('div', s[6] + ' / ' + s[7] + ' · KATO ' + s[0], 'qamtu-sub'));
      var t = el('table');
      box.appendChild(t);
      row(t, 'Оператор', 'Оператор', key === 'best' ? 'Операторлардың үздігі / Лучший из операторов'
        : opName(key) + ' (' + key + ')');
      if (!r) {
        row(t, 'Күйі', 'Статус', lab(M[5]));
      } else {
        var judged = r[2];
        row(t, 'Ұялы байланыс', 'Мобильная связь', lab(M[r[0]]) + ((judged & 1) ? '' : PRELIM));
        row(t, 'Мобильді интернет', 'Мобильный интернет', lab(I[r[1]]) + ((judged & 2) ? '' : PRELIM));
        if (key === 'best' && r[11]) { row(t, 'Үздік байланыс', 'Лучшая связь', opName(r[11])); }
        row(t, 'Технологиялар', 'Технологии', r[10]);
        row(t, 'Өлшемдер саны', 'Замеров', r[3] + (r[9] ? ' (' + r[9] + ' күн / дн.)' : ''));
        row(t, 'Жылдамдық тесттері', 'Тестов скорости', r[8]);
        row(t, 'RSRP медианасы', 'Медиана RSRP', fmt(r[4], 'dBm'));
        row(t, 'Жүктеу медианасы', 'Медиана загрузки', fmt(r[5], 'Мбит/с'));
        row(t, 'Жіберу медианасы', 'Медиана отдачи', fmt(r[6], 'Мбит/с'));
        row(t, 'Соңғы сапар', 'Последний визит', r[7]);
        if (key !== 'best' && r[11]) { row(t, 'Деректер аз', 'Мало данных', r[11]); }
        if (key === 'best') {
          D.operators.forEach(function (op) {
            var o = D.layers[op][i], tr = el('tr');
            tr.appendChild(el('th', opName(op)));
            tr.appendChild(el('td', o ? (lab(M[o[0]]) + ' · ' + lab(I[o[1]])) : lab(M[5])));
            t.appendChild(tr);
          });
        }
      }
      box.appendChild(el('div', 'Ережелер / Правила: ' + D.ruleSet + ' · ' + D.period, 'qamtu-sub'));
      return box;
    }

    // settlement markers, one set per layer
    var counts = {}, markers = {};
    Object.keys(groups).forEach(function (key) {
      var g = groups[key], layer = D.layers[key] || {};
      counts[key] = 0;
      markers[key] = {};
      var order = [], k;
      for (k = 0; k < S.length; k++) { if (!layer[k]) { order.push(k); } }   // unmeasured first,
      for (k = 0; k < S.length; k++) { if (layer[k]) { order.push(k); } }    // measured drawn on top
      order.forEach(function (i) {
        var s = S[i], r = layer[i];
        var fill = r ? M[r[0]][1] : M[5][1], ring = r ? I[r[1]][1] : '#9e9e9e';
        var thin = r && (r[2] !== 3);
        var m = L.circleMarker([s[3], s[4]], {radius: s[5] ? 9 : 6, color: ring, weight: r ? 2.5 : 1, fillColor: fill,
          fillOpacity: r ? 0.9 : 0.45, opacity: r ? 1 : 0.8, dashArray: thin ? '3 3' : null,
          className: 'qamtu-settlement qamtu-layer-' + key.replace(/[^A-Za-z0-9]/g, '_')});
        m.bindPopup(function () { return popup(key, i); }, {maxWidth: 440, minWidth: 300});
        Q.textTooltip(m, s[1] + ' / ' + s[2], {sticky: true});
        m.addTo(g);
        counts[key]++;
        markers[key][i] = m;
      });
    });

    // hexagon colours follow the rule set's LTE thresholds (coverage minimum and "good"), never numbers of this page
    var HEX = [['#d7191c', 'Байланыссыз үлесі > 50 %', 'Доля без связи > 50 %'],
      ['#1a9641', 'RSRP ≥ ' + D.rsrpGood + ' dBm', ''], ['#fee08b', 'RSRP ' + D.rsrpCoverage + ' … ' + D.rsrpGood + ' dBm', ''],
      ['#fdae61', 'RSRP < ' + D.rsrpCoverage + ' dBm', ''], ['#9e9e9e', 'RSRP жоқ', 'нет RSRP']];
    function hexColour(rsrp, noService) {
      if (noService > 0.5) { return HEX[0][0]; }
      if (rsrp === null || D.rsrpCoverage === null) { return HEX[4][0]; }
      if (D.rsrpGood !== null && rsrp >= D.rsrpGood) { return HEX[1][0]; }
      return rsrp >= D.rsrpCoverage ? HEX[2][0] : HEX[3][0];
    }
    map.createPane('qamtuHex');
    map.getPane('qamtuHex').style.zIndex = 350;   // under the settlement markers
    D.hexes.forEach(function (h) {
      var p = L.polygon(h[0], {color: '#333', weight: 0.5, fillColor: hexColour(h[3], h[2]), fillOpacity: 0.55,
        className: 'qamtu-hex', pane: 'qamtuHex'});
      p.bindPopup(function () {
        var box = el('div', null, 'qamtu-popup'), t = el('table');
        box.appendChild(el('b', 'H3 ' + D.hexResolution));
        box.appendChild(t);
        row(t, 'Өлшемдер саны', 'Замеров', h[1]);
        row(t, 'Байланыссыз үлесі', 'Доля без связи', h[2] === null ? null : Math.round(h[2] * 100) + ' %');
        row(t, 'RSRP медианасы', 'Медиана RSRP', fmt(h[3], 'dBm'));
        row(t, 'Операторлар', 'Операторы', h[4]);
        return box;
      });
      p.addTo(hexGroup);
    });

    Q.legend(map, function (d) {
      d.appendChild(el('b', 'Қамту картасы / Карта покрытия'));
      (D.notes || []).forEach(function (n) { d.appendChild(el('div', n, 'qamtu-note')); });
      d.appendChild(el('div', 'Толтыру: ұялы байланыс / Заливка: мобильная связь', 'qamtu-sub'));
      M.forEach(function (m) { d.appendChild(Q.swatch('qamtu-sw', lab(m), {background: m[1]})); });
      d.appendChild(el('div', 'Шеңбер: мобильді интернет / Обводка: мобильный интернет', 'qamtu-sub'));
      I.forEach(function (m) { d.appendChild(Q.swatch('qamtu-ring', m[2] + ' / ' + m[3], {borderColor: m[1]})); });
      d.appendChild(Q.swatch('qamtu-ring qamtu-dash',
        'Үзік шеңбер: деректер аз, баға берілмеген / Пунктир: мало данных, без оценки'));
      Q.districtNotes(d, D.approximateDistricts, 'qamtu-sub qamtu-approx');
      if (D.hexResolution !== null) {
        d.appendChild(el('div', 'H3 алтыбұрыштар, ажыратымдылық / Гексагоны H3, разрешение ' + D.hexResolution, 'qamtu-sub'));
        HEX.forEach(function (h) {
          d.appendChild(Q.swatch('qamtu-hexsw', h[2] ? h[1] + ' / ' + h[2] : h[1], {background: h[0]}, 'qamtu-sub'));
        });
      }
      d.appendChild(el('div', 'Ережелер / Правила: ' + D.ruleSet + ' (' + D.ruleValidFrom + ') · Кезең / Период: ' +
        D.period, 'qamtu-sub'));
    });

    // search box; map.html#search=NAME fills it
    var keys = S.map(function (s) { return Q.fold(s[1]) + '|' + Q.fold(s[2]); });
    Q.control(map, 'topleft', 'qamtu-search', function (d) {
      var inp = el('input');
      inp.type = 'search';
      inp.id = 'qamtu-search-input';
      inp.placeholder = 'Елді мекенді іздеу / Поиск населённого пункта';
      var list = el('ul', null, 'qamtu-results');
      d.appendChild(inp);
      d.appendChild(list);
      function show(i) {
        var li = el('li', S[i][1] + ' / ' + S[i][2] + ' — ' + S[i][7]);
        li.addEventListener('click', function () {
          map.setView([S[i][3], S[i][4]], 13);
          var key = Object.keys(groups).filter(function (k) { return map.hasLayer(groups[k]); })[0] || 'best';
          markers[key][i].openPopup();
        });
        list.appendChild(li);
      }
      inp.addEventListener('input', function () {
        list.textContent = '';
        var q = Q.fold(inp.value), n = 0;
        if (!q) { return; }
        for (var i = 0; i < S.length && n < 12; i++) { if (keys[i].indexOf(q) >= 0) { n++; show(i); } }
        D.unlocated.forEach(function (u) {
          if (n < 12 && (Q.fold(u[1]) + '|' + Q.fold(u[2])).indexOf(q) >= 0) {
            n++;
            list.appendChild(el('li', u[1] + ' / ' + u[2] + ' — ' + u[4] + ' (координаттары жоқ / нет координат)',
              'qamtu-nocoord'));
          }
        });
        if (!n) { list.appendChild(el('li', 'Табылмады / Не найдено', 'qamtu-nocoord')); }
      });
      var q0 = Q.hashParam(/search=([^&]+)/);
      if (q0 !== null) { inp.value = q0; setTimeout(function () { inp.dispatchEvent(new Event('input')); }, 0); }
    });

    // settlements without coordinates
    Q.control(map, 'topright', 'qamtu-unlocated', function (d) {
      var det = el('details'), ul = el('ul'), codes = M.map(function (m) { return m[0]; });
      det.appendChild(el('summary', 'Координаттары жоқ елді мекендер / НП без координат (' + D.unlocated.length + ')'));
      D.unlocated.forEach(function (u) {
        var st = M[Math.max(0, codes.indexOf(u[5]))];
        ul.appendChild(el('li', u[1] + ' / ' + u[2] + ' — ' + u[4] + ' · ' + st[2] + ' / ' + st[3]));
      });
      det.appendChild(ul);
      d.appendChild(det);
    });

    // map.html#h3 shows the hexagon layer at once; map.html#kato=611010000 opens that settlement
    if (/(^#|&)h3(&|$)/.test(location.hash || '')) { map.addLayer(hexGroup); }
    var wanted = Q.hashParam(/kato=([0-9]{9})/);
    for (var j = 0; wanted && j < S.length; j++) {
      if (S[j][0] === wanted) { map.setView([S[j][3], S[j][4]], 12); markers.best[j].openPopup(); break; }
    }
    Q.ready({markers: counts.best || 0, hexes: D.hexes.length, unlocated: D.unlocated.length, 'rule-set': D.ruleSet});
  };
})();
