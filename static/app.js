// Small behaviours without inline scripts (the CSP forbids them): phone menu, delete confirmation.
document.addEventListener('click', function (e) {
  var t = e.target.closest('[data-toggle-menu]');
  if (t) { document.getElementById('sidemenu').classList.toggle('open'); }
});
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
document.addEventListener('click', function (e) {
  if (e.target.closest('[data-print]')) { window.print(); }
});
// Filing from a phone: reload the point list sorted by distance from the phone's GPS (WGS-84).
document.addEventListener('click', function (e) {
  var b = e.target.closest('[data-nearest]');
  if (!b || !navigator.geolocation) { return; }
  b.textContent = '正在定位……';
  navigator.geolocation.getCurrentPosition(function (pos) {
    location.href = '/problems/new?lng=' + pos.coords.longitude + '&lat=' + pos.coords.latitude;
  }, function () { b.textContent = '无法获取位置，请用名称查找'; }, { enableHighAccuracy: true, timeout: 10000 });
});
