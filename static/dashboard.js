// 数据看板 and 大屏: draws the charts and the heat map from the figures the page carries
// (#dash-data); every figure opens the records it counts. The big screen's figures are
// reloaded every minute by htmx; the charts are drawn again after each reload.
(function () {
  var big = document.body.classList.contains('screen');
  var fg = big ? '#dfe8f5' : '#333';
  var line = big ? '#2a3a55' : '#eee';
  var size = big ? 18 : 12;
  var charts = [];
  var map = null;
  var outlines = null;

  function figures() {
    var el = document.getElementById('dash-data');
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function go(href) { if (href) { location.href = href; } }

  function chart(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    var c = echarts.init(el);
    c.setOption(option);
    c.on('click', onClick);
    charts.push(c);
  }

  function axis(data) {
    return { type: 'category', data: data, axisLabel: { color: fg, fontSize: size }, axisLine: { lineStyle: { color: line } } };
  }
  var value = { type: 'value', minInterval: 1, axisLabel: { color: fg, fontSize: size }, splitLine: { lineStyle: { color: line } } };

  function trend(d) {
    chart('chart-trend', {
      tooltip: { trigger: 'axis' },
      legend: { top: 0, right: 0, data: ['发现', '销号'], textStyle: { color: fg, fontSize: size } },
      grid: { left: 48, right: 16, top: 40, bottom: 32 },
      xAxis: axis(d.trend.map(function (t) { return t.label; })),
      yAxis: value,
      series: [
        { name: '发现', type: 'bar', data: d.trend.map(function (t) { return t.found; }), itemStyle: { color: '#d9534f' }, cursor: 'pointer' },
        { name: '销号', type: 'line', data: d.trend.map(function (t) { return t.closed; }), itemStyle: { color: '#3cb371' }, symbolSize: 10, cursor: 'pointer' }
      ]
    }, function (p) {
      var t = d.trend[p.dataIndex];
      if (t) { go(p.seriesName === '销号' ? t.closed_href : t.found_href); }
    });
  }

  function categories(d) {
    var c = d.categories.slice().reverse();
    chart('chart-cats', {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, right: 0, data: ['本期', '上期'], textStyle: { color: fg, fontSize: size } },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: value,
      yAxis: axis(c.map(function (x) { return x.name; })),
      series: [
        { name: '本期', type: 'bar', data: c.map(function (x) { return x.count; }), itemStyle: { color: '#e67e22' }, cursor: 'pointer' },
        { name: '上期', type: 'bar', data: c.map(function (x) { return x.previous; }), itemStyle: { color: big ? '#5b6b85' : '#c0c4cc' }, cursor: 'pointer' }
      ]
    }, function (p) { var x = c[p.dataIndex]; if (x) { go(x.href); } });
  }

  function drawMap(d) {
    var el = document.getElementById('dash-map');
    if (!el || !window.L) { return; }
    if (map) { map.remove(); map = null; }
    map = L.map(el, { attributionControl: false, zoomControl: !big });
    var bounds = L.latLngBounds([]);
    if (outlines) {
      if (outlines.tile_url) { L.tileLayer(outlines.tile_url, { maxZoom: 19 }).addTo(map); } else { el.classList.add('no-tiles'); }
      outlines.areas.forEach(function (a) {
        var r = L.rectangle(a.bounds, { color: big ? '#7f93b3' : '#999', weight: 1, dashArray: '4 4', fillOpacity: 0, interactive: !big }).addTo(map);
        r.bindTooltip(esc(a.name), { sticky: true });
        bounds.extend(r.getBounds());
      });
    }
    var most = 1;
    d.heat.forEach(function (c) { most = Math.max(most, c.count); bounds.extend([c.lat, c.lng]); });
    if (L.heatLayer && d.heat.length) {
      L.heatLayer(d.heat.map(function (c) { return [c.lat, c.lng, c.count]; }), { radius: big ? 34 : 26, blur: big ? 24 : 18, max: most, minOpacity: 0.35 }).addTo(map);
    }
    d.points.forEach(function (p, i) {
      if (p.lat == null || p.lng == null) { return; }
      var m = L.circleMarker([p.lat, p.lng], { radius: big ? 9 : 7, color: '#fff', weight: 2, fillColor: '#b3241d', fillOpacity: 0.9 }).addTo(map);
      m.bindTooltip((i + 1) + '. ' + esc(p.name) + '：' + p.count + ' 件' + (p.overdue ? '，逾期 ' + p.overdue : ''), { direction: 'top' });
      m.on('click', function () { go(p.href); });
      bounds.extend(m.getLatLng());
    });
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.08)); } else { map.setView([38.3, 116.84], 13); }
  }

  function draw() {
    var d = figures();
    if (!d) { return; }
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    trend(d);
    categories(d);
    drawMap(d);
  }

  function start() {
    if (!document.getElementById('dash')) { return; }
    fetch('/map/data.json', { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (o) { outlines = o; draw(); }, function () { draw(); });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.addEventListener('htmx:beforeSwap', function (e) {
      // A reload that is not the figures (the sign-in page after the session ended, an error) keeps what is shown.
      var ok = e.detail.xhr.status === 200 && e.detail.xhr.responseText.indexOf('dash-cards') >= 0;
      if (!ok) { e.detail.shouldSwap = false; stale(); }
    });
    document.body.addEventListener('htmx:sendError', stale);
    document.body.addEventListener('htmx:afterSwap', function () { document.body.classList.remove('stale'); draw(); });
    var clock = document.getElementById('screen-clock');
    if (clock) {
      var tick = function () {
        clock.textContent = new Date().toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
      };
      tick();
      setInterval(tick, 1000);
    }
  }
  function stale() { document.body.classList.add('stale'); }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
