// The point map. Data comes from /map/data.json in display coordinates; no outside requests.
(function () {
  var el = document.getElementById('map');
  if (!el || !window.L) { return; }
  var map = L.map(el, { attributionControl: false });
  var status = document.getElementById('map-status');
  var focus = new URLSearchParams(location.search).get('point');
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  fetch('/map/data.json', { credentials: 'same-origin' }).then(function (r) {
    if (!r.ok) { throw new Error('HTTP ' + r.status); }
    return r.json();
  }).then(function (d) {
    if (d.tile_url) { L.tileLayer(d.tile_url, { maxZoom: 19 }).addTo(map); }
    else { el.classList.add('no-tiles'); }
    var bounds = L.latLngBounds([]);
    // An area's name shows only while its box is wide enough on screen for it, so that the names
    // of small communities do not run into each other at a phone's width or zoomed out.
    var labels = [];
    d.areas.forEach(function (a) {
      var r = L.rectangle(a.bounds, { color: '#555', weight: 1, dashArray: '4 4', fill: false, interactive: false }).addTo(map);
      var t = L.tooltip({ permanent: true, direction: 'center', className: 'area-label' }).setLatLng(r.getBounds().getCenter()).setContent(esc(a.name)).addTo(map);
      labels.push({ tip: t, box: r.getBounds(), width: String(a.name).length * 14 + 8 });
      bounds.extend(r.getBounds());
    });
    function fitLabels() {
      labels.forEach(function (x) {
        var el = x.tip.getElement();
        if (!el) { return; }
        var wide = map.latLngToContainerPoint(x.box.getNorthEast()).x - map.latLngToContainerPoint(x.box.getSouthWest()).x;
        el.style.display = wide >= x.width ? '' : 'none';
      });
    }
    map.on('zoomend', fitLabels);
    L.geoJSON(d.grids, {
      style: { color: '#b3241d', weight: 1.5, fillColor: '#b3241d', fillOpacity: 0.04 },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(esc(p.code) + ' ' + esc(p.name) + '<br>网格员：' + esc(p.worker || '未指定') + '，点位 ' + p.points + ' 个');
        bounds.extend(layer.getBounds());
      }
    }).addTo(map);
    var target = null;
    d.points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lng], { radius: 6, color: '#fff', weight: 1.5, fillColor: p.color, fillOpacity: p.active ? 0.95 : 0.35 }).addTo(map);
      m.bindPopup('<b><a href="/points/' + esc(p.id) + '">' + esc(p.name) + '</a></b><br>' + esc(p.type) + ' · ' + esc(p.code) +
        '<br>责任单位：' + esc(p.unit) + '<br>负责人：' + esc(p.lead) + ' ' + esc(p.phone) + (p.grid ? '' : '<br><b>未入格</b>'));
      bounds.extend(m.getLatLng());
      if (p.id === focus) { target = m; }
    });
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([38.3, 116.84], 13); }
    if (target) { map.setView(target.getLatLng(), 17); target.openPopup(); }
    fitLabels();
    var legend = document.getElementById('legend');
    var used = {};
    d.points.forEach(function (p) { used[p.type] = p.color; });
    legend.innerHTML = Object.keys(used).map(function (t) {
      return '<span class="legend-item"><i style="background:' + esc(used[t]) + '"></i>' + esc(t) + '</span>';
    }).join('');
    status.textContent = '共 ' + d.points.length + ' 个点位，' + d.grids.features.length + ' 个网格' + (d.tile_url ? '' : '（未配置底图）');
    map.on('click', function (e) {
      var q = 'lng=' + e.latlng.lng + '&lat=' + e.latlng.lat + '&crs=' + d.crs;
      fetch('/map/lookup.json?' + q, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (x) {
        var html = x.grid_code ? ('网格：' + esc(x.grid_code) + ' ' + esc(x.grid_name) + '<br>社区：' + esc(x.community) + '<br>责任单位：' + esc(x.unit || '未指定') +
          '<br>网格员：' + esc(x.grid_worker || '未指定') + ' ' + esc(x.grid_worker_phone || '')) : '此处不在任何网格内';
        if (x.nearest_points && x.nearest_points.length) {
          html += '<br>附近点位：' + x.nearest_points.map(function (n) { return esc(n.name) + '（' + n.distance_m + '米）'; }).join('、');
        }
        L.popup().setLatLng(e.latlng).setContent(html).openOn(map);
      });
    });
  }).catch(function (e) { status.textContent = '点位加载失败：' + e.message; });
}());
