// Small behaviours without inline scripts (the CSP forbids them): phone menu, delete confirmation.
document.addEventListener('click', function (e) {
  var t = e.target.closest('[data-toggle-menu]');
  if (t) { document.getElementById('sidemenu').classList.toggle('open'); }
});
document.addEventListener('submit', function (e) {
  // The button pressed may ask on its own (one form, two outcomes), else the form asks.
  var msg = (e.submitter && e.submitter.getAttribute('data-confirm')) || e.target.getAttribute('data-confirm');
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
// Photo evidence: when photos are chosen, the phone's position (and, on sending, its clock) go
// with the form as a second witness beside the photos' own EXIF data. Refusal costs nothing.
document.addEventListener('change', function (e) {
  var input = e.target;
  var form = input.form;
  if (input.type !== 'file' || !form) { return; }
  var box = form.querySelector('[data-device-witness]');
  var status = form.querySelector('[data-device-status]');
  if (!box || !navigator.geolocation || box.getAttribute('data-asked')) { return; }
  box.setAttribute('data-asked', '1');
  if (status) { status.textContent = '正在获取手机位置……'; }
  navigator.geolocation.getCurrentPosition(function (pos) {
    form.elements['device_lat'].value = pos.coords.latitude;
    form.elements['device_lng'].value = pos.coords.longitude;
    form.elements['device_accuracy'].value = Math.round(pos.coords.accuracy);
    if (status) { status.textContent = '已记录手机位置（精度约' + Math.round(pos.coords.accuracy) + '米）'; }
  }, function () {
    if (status) { status.textContent = '未能获取手机位置，照片仍可提交（将以照片自带信息为准）'; }
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
});
document.addEventListener('submit', function (e) {
  var clock = e.target.elements && e.target.elements['device_clock'];
  if (clock) { clock.value = Date.now(); }
});
// 发现时间 may not be later than now: a page left open (or reopened from the device's cache)
// moves the field's limit along, so the phone's own picker never offers a refused time.
(function () {
  function beijing(ms) {
    var d = new Date(ms + 8 * 3600 * 1000);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return d.getUTCFullYear() + '-' + p(d.getUTCMonth() + 1) + '-' + p(d.getUTCDate()) + 'T' + p(d.getUTCHours()) + ':' + p(d.getUTCMinutes());
  }
  function bump(i) { i.max = beijing(Date.now()); }
  document.addEventListener('focusin', function (e) { if (e.target.hasAttribute && e.target.hasAttribute('data-max-now')) { bump(e.target); } });
  function all() { Array.prototype.forEach.call(document.querySelectorAll('input[data-max-now]'), bump); }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', all); } else { all(); }
}());
