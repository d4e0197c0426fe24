/* The problem map's page script (mapping/problem_map.py), after qamtu-base.js and Leaflet.
 * Qamtu.problemMap(map, groups, districts) is called once the folium layers exist:
 * groups = {'all' | dimension: L.featureGroup} (base layers: one shown at a time). The data
 * block's field order is written in problem_map.problem_map_data(). */
(function () {
  'use strict';
  var Q = window.Qamtu;
  var el = Q.el;
  var DIMS = ['internet', 'mobile', 'tv_radio', 'post'];

  Q.problemMap = function (map, groups, districts) {
    var D = Q.data();
    var S = D.settlements, Y = D.years, DS = D.display;
    if (districts) { Q.labelFeatures(districts); }
    function lab(x) { return Q.both(x[0], x[1]); }
    var layerNames = {};
    D.layers.forEach(function (l) { layerNames[l[0]] = [l[1], l[2]]; });
    var yearIndex = Math.max(0, Y.indexOf(D.asOf));
    var y0 = Q.hashParam(/year=(\d{4})/);
    if (y0 !== null && Y.indexOf(+y0) >= 0) { yearIndex = Y.indexOf(+y0); }

    function code(key, i, k) {
      if (key !== 'all') { return +D.status[key][i].charAt(k); }
      var m = 0;
      DIMS.forEach(function (d) { m = Math.max(m, +D.status[d][i].charAt(k)); });
      return m;
    }
    function style(c, city) {
      var d = DS[c], big = c >= 3;
      return {radius: (city ? 8 : 5) + (c === 4 ? 4 : (big ? 1 : 0)), fillColor: d[1], color: d[2],
        weight: c === 4 ? 3.5 : (c >= 2 ? 1.6 : 1), fillOpacity: c === 0 ? 0.45 : 0.9, opacity: c === 0 ? 0.6 : 1};
    }
    function cellText(c, det) {
      var y = det || [];
      if (c === 4) { return '⚠ ' + (y[0] ? (y[0] + '→') : '') + 'жосп./план ' + y[1]; }
      if (c === 3) { return '✗ ' + (y[0] ? (y[0] + '→') : '') + (y[1] ? ' жосп./план ' + y[1] : ''); }
      if (c === 2) { return '✓ ' + (y[2] ? y[2] : ''); }
      if (c === 1) { return '✓'; }
      return '?';
    }
    function popup(key, i) {
      var s = S[i], k = yearIndex, box = el('div', null, 'qamtu-popup');
      box.appendChild(el('b', s[1] + ' / ' + s[2]));
      box.appendChild(el('div', s[6] + ' / ' + s[7] + ' · KATO ' + s[0], 'qamtu-sub'));
      if (s[8] !== null) {
        box.appendChild(el('div', 'Халқы / Население: ' + s[8] + (s[9] ? ' (бағалау / оценка)' : ''), 'qamtu-sub'));
      }
      var pr = (D.priority[i] || [])[k] || 0;
      box.appendChild(el('div', 'Басымдық / Приоритет (' + Y[k] + '): ' + pr, 'qamtu-prio'));
      var t = el('table', null, 'qamtu-hist'), hr = el('tr');
      hr.appendChild(el('th', 'Бағыт / Направление'));
      Y.forEach(function (y, j) { var th = el('th', y); if (j === k) { th.className = 'qamtu-cur'; } hr.appendChild(th); });
      t.appendChild(hr);
      DIMS.forEach(function (d) {
        var tr = el('tr'), det = (D.detail[i] || {})[d] || [];
        tr.appendChild(el('th', lab(layerNames[d])));
        Y.forEach(function (y, j) {
          var c = +D.status[d][i].charAt(j), td = el('td', cellText(c, det[j]), 'qamtu-c' + c);
          td.title = lab([DS[c][3], DS[c][4]]) + (det[j] && det[j][3] ? ' — ' + det[j][3] : '');
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      box.appendChild(t);
      var src = el('div', null, 'qamtu-sub');
      DIMS.forEach(function (d) {
        var det = ((D.detail[i] || {})[d] || [])[k];
        if (det && det[3]) { src.appendChild(el('div', lab(layerNames[d]) + ' ' + Y[k] + ': ' + det[3])); }
      });
      box.appendChild(src);
      var ps = D.plans[i] || [];
      if (ps.length) {
        box.appendChild(el('div', 'Жоспарлар / Планы', 'qamtu-sub qamtu-b'));
        var ul = el('ul');
        ps.forEach(function (p) {
          var st = D.planStates[p[5]] || [p[5], p[5]];
          ul.appendChild(el('li', lab(layerNames[p[0]]) + ': ' + p[1] + (p[2] ? ' · ' + p[2] : '') + (p[3] ? ' · ' + p[3] : '') +
            ' — ' + st[0] + ' / ' + st[1] + (p[4] ? ' (' + p[4] + ')' : '')));
        });
        box.appendChild(ul);
      }
      box.appendChild(el('div', '✓ мәселе жоқ / нет проблемы · ✗ мәселе / проблема · ⚠ мерзімі өтті / просрочено · ' +
        '? белгісіз / неизвестно', 'qamtu-sub'));
      box.appendChild(el('div', 'Ережелер / Правила: ' + D.rules, 'qamtu-sub'));
      return box;
    }

    var markers = {};
    Object.keys(groups).forEach(function (key) {
      markers[key] = [];
      S.forEach(function (s, i) {
        var m = L.circleMarker([s[3], s[4]], style(code(key, i, yearIndex), s[5]));
        m.options.className = 'qamtu-pm qamtu-pm-' + key;
        m.bindPopup(function () { return popup(key, i); }, {maxWidth: 520, minWidth: 340, autoPanPadding: [20, 20]});
        Q.textTooltip(m, s[1] + ' / ' + s[2], {sticky: true});
        m.addTo(groups[key]);
        markers[key].push(m);
      });
    });
    function currentKey() {
      var k = Object.keys(groups).filter(function (g) { return map.hasLayer(groups[g]); });
      return k[0] || 'all';
    }
    var info = null, yearLabel = null, slider = null;
    function update() {
      var key = currentKey(), k = yearIndex, problems = 0, overdue = 0, top = [];
      markers[key].forEach(function (m, i) {
        var c = code(key, i, k);
        m.setStyle(style(c, S[i][5]));
        if (c >= 3) { problems++; top.push(m); }
        if (c === 4) { overdue++; }
        var p = m.getElement && m.getElement();
        if (p) {
          p.setAttribute('data-kato', S[i][0]);
          p.setAttribute('data-status', DS[c][0]);
          if (c === 4) { p.classList.add('qamtu-overdue'); } else { p.classList.remove('qamtu-overdue'); }
        }
      });
      top.forEach(function (m) { if (m.getElement && m.getElement()) { m.bringToFront(); } });
      var root = document.documentElement;
      root.setAttribute('data-qamtu-year', String(Y[k]));
      root.setAttribute('data-qamtu-layer', key);
      root.setAttribute('data-qamtu-problems', String(problems));
      root.setAttribute('data-qamtu-overdue', String(overdue));
      if (yearLabel) { yearLabel.textContent = 'Жыл / Год: ' + Y[k]; }
      if (info) {
        info.textContent = lab(layerNames[key]) + ' — мәселе / проблем: ' + problems + ' · мерзімі өтті / просрочено: ' + overdue;
      }
    }

    // year slider
    Q.control(map, 'topright', 'qamtu-slider', function (d) {
      yearLabel = el('div', '', 'qamtu-year');
      d.appendChild(yearLabel);
      slider = el('input');
      slider.type = 'range';
      slider.id = 'qamtu-year-slider';
      slider.min = 0;
      slider.max = Y.length - 1;
      slider.step = 1;
      slider.value = yearIndex;
      slider.setAttribute('aria-label', 'Жыл / Год');
      d.appendChild(slider);
      var ticks = el('div', null, 'qamtu-ticks');
      Y.forEach(function (y) { ticks.appendChild(el('span', y)); });
      d.appendChild(ticks);
      info = el('div', '', 'qamtu-sub');
      d.appendChild(info);
      slider.addEventListener('input', function () { yearIndex = +slider.value; update(); });
    });
    map.on('baselayerchange', function () { update(); });

    Q.legend(map, function (d) {
      d.appendChild(el('b', 'Байланысы нашар елді мекендер / Населённые пункты с плохой связью'));
      (D.notes || []).forEach(function (n) { d.appendChild(el('div', n, 'qamtu-note')); });
      DS.slice().reverse().forEach(function (x) {
        var st = {background: x[1], borderColor: x[2]};
        if (x[0] === 'overdue') { st.borderWidth = '3px'; }
        d.appendChild(Q.swatch('qamtu-sw', x[3] + ' / ' + x[4], st));
      });
      d.appendChild(el('div', 'Ұялы байланыс, интернет — жыл бойғы өлшемдер (бағаланғандар); теледидар/радио, пошта, ' +
        'сымды интернет — сауалнама / Мобильная связь, интернет — измерения за год (только оценённые); ТВ/радио, почта, ' +
        'фиксированный интернет — обследования', 'qamtu-sub'));
      d.appendChild(el('div', D.formula, 'qamtu-sub'));
      Q.districtNotes(d, D.approximateDistricts);
      if (D.unlocated.length) {
        d.appendChild(el('div', 'Координаттары жоқ, мәселесі бар / Без координат, с проблемой: ' +
          D.unlocated.map(function (u) { return u[1] + ' / ' + u[2] + ' (' + u[5].join(', ') + ')'; }).join('; '), 'qamtu-sub'));
      }
      d.appendChild(el('div', 'Ережелер / Правила: ' + D.rules, 'qamtu-sub'));
    });

    // map.html#layer=mobile&year=2023&kato=611010000
    var lw = Q.hashParam(/layer=([a-z_]+)/);
    if (lw !== null && Object.prototype.hasOwnProperty.call(groups, lw) && !map.hasLayer(groups[lw])) {
      Object.keys(groups).forEach(function (k) { if (map.hasLayer(groups[k])) { map.removeLayer(groups[k]); } });
      map.addLayer(groups[lw]);
    }
    update();
    var wanted = Q.hashParam(/kato=([0-9]{9})/);
    if (wanted !== null) {
      var key = currentKey();
      for (var j = 0; j < S.length; j++) {
        if (S[j][0] === wanted) { map.setView([S[j][3], S[j][4]], 11); markers[key][j].openPopup(); break; }
      }
    }
    Q.ready({markers: S.length, rules: D.rules});
  };
})();
