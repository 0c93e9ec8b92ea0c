// The public pages: the reports map, and the 随手拍 form (position by GPS or a tap on the map,
// category search, "附近已有人反映" with "我也遇到"). No outside requests.
(function () {
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  // WGS-84 → GCJ-02, for showing a GPS fix on GCJ-02 tiles (only when the city uses them).
  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) { var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3; r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3; r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3; return r; }
  function tLng(x, y) { var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3; r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3; r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3; return r; }
  function toGcj(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var a = 6378245.0, ee = 0.00669342162296594323;
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * Math.PI, m = Math.sin(rad); m = 1 - ee * m * m; var s = Math.sqrt(m);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (m * s) * Math.PI); dLng = (dLng * 180) / (a / s * Math.cos(rad) * Math.PI);
    return [lng + dLng, lat + dLat];
  }

  function baseMap(el) {
    var map = L.map(el, { attributionControl: false });
    var tiles = el.getAttribute('data-tiles');
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); } else { el.classList.add('no-tiles'); }
    return map;
  }

  // The reports map on /public.
  var pubMap = document.getElementById('pub-map');
  if (pubMap && window.L) {
    var pins = []; try { pins = JSON.parse(pubMap.getAttribute('data-points') || '[]'); } catch (e) { pins = []; }
    var map = baseMap(pubMap), bounds = L.latLngBounds([]);
    var colors = { done: '#2e7d32', open: '#e6a100', 'new': '#1f77b4', void: '#888' };
    pins.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lng], { radius: 7, color: '#fff', weight: 1.5, fillColor: colors[p.cls] || '#b3241d', fillOpacity: 0.9 }).addTo(map);
      m.bindPopup('<b>' + esc(p.category) + '</b><br>' + esc(p.state) + ' · <a href="/public/reports/' + encodeURIComponent(p.code) + '">' + esc(p.code) + '</a>');
      bounds.extend(m.getLatLng());
    });
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.1)); } else { map.setView([30.52, 117.05], 13); }
  }

  var form = document.getElementById('report-form');
  if (!form) { return; }
  var lng = document.getElementById('lng'), lat = document.getElementById('lat');
  var status = document.getElementById('locate-status');
  var gcj = false, map = null, marker = null;
  var pick = document.getElementById('pick-map');
  // Every element the handlers use is looked up before any of them can run (a form shown again
  // after a refusal already has a position, and places it at once).
  var select = document.getElementById('service_code'), search = null;
  var similar = document.getElementById('similar'), list = document.getElementById('similar-list');
  var csrf = form.querySelector('input[name=_csrf]').value;
  var photos = document.getElementById('photos');
  photos.addEventListener('change', function () {
    if (photos.files.length > 6) { photos.setCustomValidity('最多上传6张照片，请重新选择'); photos.reportValidity(); }
    else { photos.setCustomValidity(''); }
  });
  function setPoint(la, ln, zoom) {
    lat.value = la.toFixed(6); lng.value = ln.toFixed(6);
    if (map) {
      if (marker) { marker.setLatLng([la, ln]); } else { marker = L.marker([la, ln]).addTo(map); }
      map.setView([la, ln], zoom || map.getZoom());
    }
    checkSimilar();
    loadPlaces(la, ln, true);
  }
  // Nearby public places (roads, markets, stops) to pick from, and as landmarks on a map
  // without tiles.
  var placesBox = document.getElementById('places'), placeLayer = null, placesAt = null, placesAsked = 0;
  // `chosen`: the resident's own position (distances shown, and measured again at every move);
  // otherwise the map's middle (names only: a distance from there means nothing to anyone).
  function loadPlaces(la, ln, chosen) {
    if (!chosen && placesAt && Math.abs(placesAt[0] - la) < 0.002 && Math.abs(placesAt[1] - ln) < 0.002) { return; }
    placesAt = [la, ln];
    var mine = ++placesAsked; // an earlier answer arriving late is dropped
    fetch('/public/report/places.json?lng=' + ln + '&lat=' + la, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { places: [] }; }).then(function (d) {
        if (mine !== placesAsked) { return; }
        placesBox.innerHTML = '';
        if (placeLayer) { placeLayer.remove(); }
        if (map) { placeLayer = L.layerGroup().addTo(map); }
        d.places.forEach(function (p) {
          if (placeLayer) {
            L.circleMarker([p.lat, p.lng], { radius: 4, color: '#666', weight: 1, fillOpacity: 0.6, interactive: false })
              .bindTooltip(esc(p.name), { permanent: true, direction: 'right', className: 'area-label' }).addTo(placeLayer);
          }
          var b = document.createElement('button'); b.type = 'button'; b.className = 'btn small';
          b.textContent = chosen ? p.name + '（' + Math.round(p.distance_m) + '米）' : p.name;
          b.addEventListener('click', function () {
            var addr = document.getElementById('address');
            if (!addr.value) { addr.value = p.name + '附近'; }
            setPoint(p.lat, p.lng, 18);
            status.textContent = '已选定：' + p.name;
          });
          placesBox.appendChild(b);
        });
      }).catch(function () {});
  }
  if (pick && window.L) {
    gcj = pick.getAttribute('data-gcj') === 'true';
    map = baseMap(pick);
    var c = (pick.getAttribute('data-center') || '30.52,117.05').split(',');
    map.setView([parseFloat(c[0]), parseFloat(c[1])], 15);
    loadPlaces(parseFloat(c[0]), parseFloat(c[1]), false);
    map.on('click', function (e) { setPoint(e.latlng.lat, e.latlng.lng); status.textContent = '已在地图上选定位置'; });
    if (lat.value && lng.value) { setPoint(parseFloat(lat.value), parseFloat(lng.value), 17); }
  }
  document.getElementById('locate').addEventListener('click', function () {
    if (!navigator.geolocation) { status.textContent = '此浏览器不能定位，请在地图上点选位置'; return; }
    status.textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition(function (pos) {
      var p = [pos.coords.longitude, pos.coords.latitude];
      if (gcj) { p = toGcj(p[0], p[1]); }
      setPoint(p[1], p[0], 17);
      status.textContent = '已定位（精度约' + Math.round(pos.coords.accuracy) + '米），可在地图上调整';
    }, function () { status.textContent = '未能定位（可能未允许定位权限），请在地图上点选位置'; }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // Category search: matching items as buttons under the box.
  search = document.getElementById('category-search');
  var hits = document.createElement('div'); hits.className = 'category-hits'; search.parentNode.insertBefore(hits, select);
  // Everyday words residents type, and the standard's words for them.
  var everyday = {
    '停车': '车辆停放', '乱停': '车辆停放', '电动车': '车辆停放 飞线充电', '单车': '车辆停放', '自行车': '车辆停放',
    '狗': '文明养犬', '犬': '文明养犬', '宠物': '文明养犬',
    '抽烟': '室内吸烟 禁烟', '吸烟': '室内吸烟 禁烟', '烟头': '道路保洁 室内吸烟',
    '摆摊': '占道经营 出店经营', '小摊': '占道经营 出店经营', '地摊': '占道经营', '商贩': '占道经营', '占道': '占道经营 出店经营',
    '厕所': '公厕', '卫生间': '公厕', '井盖': '车行道 人行道', '坑': '车行道 人行道 路面', '破损': '车行道 人行道 设施',
    '脏': '暴露垃圾 道路保洁 楼道环境', '卫生': '暴露垃圾 道路保洁', '充电': '飞线充电', '电线': '飞线充电 架空线缆',
    '灯': '路灯', '涂鸦': '乱贴乱画', '广告': '乱贴乱画 公益广告', '闯红灯': '文明过马路', '红绿灯': '交通设施',
    '积水': '积水明沟', '下水': '积水明沟 地面排水', '杂物': '乱堆乱放', '树': '绿地养护', '草': '绿地养护'
  };
  function termsOf(q) {
    var terms = [q];
    Object.keys(everyday).forEach(function (k) {
      if (q.indexOf(k) >= 0) { terms = terms.concat(everyday[k].split(' ')); }
    });
    return terms;
  }
  search.addEventListener('input', function () {
    var q = search.value.trim(); hits.innerHTML = '';
    if (!q) { return; }
    var n = 0, terms = termsOf(q);
    Array.prototype.forEach.call(select.options, function (o) {
      var group = o.parentNode && o.parentNode.label ? o.parentNode.label : '';
      // The item, its category and what the standard requires (小广告 is in 乱贴乱画's text).
      var text = o.text + group + (o.getAttribute('data-hint') || '');
      if (!o.value || n >= 8 || !terms.some(function (t) { return text.indexOf(t) >= 0; })) { return; }
      n++;
      var b = document.createElement('button'); b.type = 'button'; b.className = 'btn small';
      b.textContent = group + '·' + o.text;
      b.addEventListener('click', function () { select.value = o.value; hits.innerHTML = ''; search.value = ''; checkSimilar(); });
      hits.appendChild(b);
    });
    if (!n) { hits.textContent = '没有找到，请换个词或直接在下面选择'; }
  });
  select.addEventListener('change', checkSimilar);

  // "附近已有人反映".

  function checkSimilar() {
    if (!lat.value || !lng.value) { return; }
    var url = '/public/report/nearby.json?lng=' + lng.value + '&lat=' + lat.value + '&service_code=' + encodeURIComponent(select.value);
    fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : { similar: [] }; }).then(function (d) {
      list.innerHTML = '';
      similar.hidden = !d.similar.length;
      d.similar.forEach(function (s) {
        var row = document.createElement('div'); row.className = 'similar-item';
        row.innerHTML = '<b>' + esc(s.category) + '</b>（' + esc(s.state) + '，约' + s.distance_m + '米）' + esc(s.description) +
          (s.supporters ? ' <span class="muted">' + s.supporters + '人也遇到</span>' : '') + ' ';
        var b = document.createElement('button'); b.type = 'button'; b.className = 'btn small'; b.textContent = '我也遇到';
        b.addEventListener('click', function () {
          b.disabled = true;
          fetch('/public/report/support', { method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: '_csrf=' + encodeURIComponent(csrf) + '&code=' + encodeURIComponent(s.code) })
            .then(function (r) { return r.json(); })
            .then(function (d) { b.replaceWith(document.createTextNode(d.message || (d.error && d.error.message) || '已记录')); })
            .catch(function () { b.disabled = false; });
        });
        row.appendChild(b); list.appendChild(row);
      });
    }).catch(function () {});
  }
})();

// The window rating form (/rate/{code}): only the chosen level's tags are shown and sent.
(function () {
  var form = document.getElementById('rate-form');
  if (!form) { return; }
  function sync() {
    var picked = form.querySelector('input[name=level]:checked');
    var level = picked ? picked.value : '';
    Array.prototype.forEach.call(form.querySelectorAll('fieldset.tags'), function (fs) {
      var on = fs.getAttribute('data-level') === level;
      fs.hidden = !on;
      Array.prototype.forEach.call(fs.querySelectorAll('input'), function (i) { i.disabled = !on; });
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll('input[name=level]'), function (r) { r.addEventListener('change', sync); });
  sync();
})();
