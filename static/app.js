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
