// Keeps field work going without signal: registers the service worker (/sw.js), gives every
// filing and action form a fresh client reference, and shows the drafts kept on this device
// until they are sent (sw.js sends them when the signal returns).
(function () {
  if (!('serviceWorker' in navigator) || !window.indexedDB) { return; }
  function ref() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return 'r' + Date.now().toString(16) + '-' + Math.random().toString(16).slice(2);
  }
  function beijing(ms) {
    var d = new Date(ms + 8 * 3600 * 1000);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return d.getUTCFullYear() + '-' + p(d.getUTCMonth() + 1) + '-' + p(d.getUTCDate()) + 'T' + p(d.getUTCHours()) + ':' + p(d.getUTCMinutes());
  }
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  function drafts() {
    return new Promise(function (ok) {
      var r = indexedDB.open('chuangcheng-offline', 1);
      r.onupgradeneeded = function () { r.result.createObjectStore('drafts', { keyPath: 'id' }); };
      r.onerror = function () { ok([]); };
      r.onsuccess = function () {
        var q = r.result.transaction('drafts', 'readonly').objectStore('drafts').getAll();
        q.onsuccess = function () { ok(q.result || []); };
        q.onerror = function () { ok([]); };
      };
    });
  }

  var worker = null;
  function post(msg) { if (worker) { worker.postMessage(msg); } }

  function show(sent) {
    drafts().then(function (list) {
      var box = document.getElementById('offline-drafts');
      if (!box) {
        var main = document.querySelector('main.content');
        if (!main) { return; }
        box = document.createElement('div');
        box.id = 'offline-drafts';
        main.insertBefore(box, main.firstChild.nextSibling);
      }
      var html = sent ? '<div class="flash ok">已发送 ' + sent + ' 条离线记录</div>' : '';
      if (list.length) {
        html += '<div class="panel offline-drafts"><b>本机离线记录 ' + list.length + ' 条</b>' +
          (navigator.onLine ? ' <button class="btn small" type="button" data-flush>立即发送</button>' : '（无网络，恢复后自动发送）') + '<ul>' +
          list.map(function (d) {
            return '<li>' + esc(d.title) + '，' + d.photos + '张照片，记录于 ' + esc(beijing(d.at).replace('T', ' ')) +
              (d.status === 'refused' ? ' <span class="tag off">未能提交：' + esc(d.error) + '</span> <button class="btn small" type="button" data-drop="' + esc(d.id) + '">删除</button>'
                : ' <span class="tag">' + esc(d.error || '待发送') + '</span>') + '</li>';
          }).join('') + '</ul></div>';
      }
      box.innerHTML = html;
    });
  }

  // Signing out removes the pages kept on this device (the drafts stay until they are sent).
  document.addEventListener('submit', function (e) {
    if (e.target.getAttribute && e.target.getAttribute('action') === '/logout' && window.caches) { caches.delete('cc-pages-v1'); }
  });

  document.addEventListener('click', function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute('data-flush')) { post({ type: 'flush' }); }
    if (t.getAttribute && t.getAttribute('data-drop') && confirm('删除这条未能提交的离线记录？')) { post({ type: 'drop', id: t.getAttribute('data-drop') }); }
  });

  function start() {
    // A page kept by the service worker may be opened again: every form gets a new reference,
    // and a 发现时间 left as the page proposed it becomes now.
    Array.prototype.forEach.call(document.querySelectorAll('input[name=client_ref]'), function (i) { i.value = ref(); });
    Array.prototype.forEach.call(document.querySelectorAll('input[data-now]'), function (i) { i.value = beijing(Date.now()); });
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(function () { return navigator.serviceWorker.ready; }).then(function (reg) {
      worker = reg.active;
      if (navigator.onLine) { post({ type: 'flush' }); }
    }, function () { /* no service worker (not a secure context): the forms work as before */ });
    navigator.serviceWorker.addEventListener('message', function (e) { if (e.data && e.data.type === 'drafts') { show(e.data.sent); } });
    window.addEventListener('online', function () { post({ type: 'flush' }); show(0); });
    window.addEventListener('offline', function () { show(0); });
    show(0);
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
