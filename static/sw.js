// 创城通 field pages without signal (a basement car park, a lift lobby). Scope: the whole site.
// - GET: network first; the field pages (登记问题, a problem, 今日工作) and the static files are
//   kept, so that a page opened before the signal went can be used without it.
// - POST of a filing (/problems/new) or an action on a problem (/problems/{id}/act/{action}):
//   sent to the network; when the network fails, the form with its photos is kept on the device
//   (IndexedDB) and sent again when the signal returns, with the time it was really recorded.
//   Each form carries a client reference (client_ref): the server does a reference once, so a
//   draft whose first answer was lost is never filed twice.
'use strict';
var SHELL = 'cc-shell-v1';
var PAGES = 'cc-pages-v1';
var STATIC = ['/static/app.css', '/static/app.js', '/static/offline.js', '/static/favicon.svg', '/static/vendor/htmx-2.0.11.min.js'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(STATIC); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener('activate', function (e) {
  e.waitUntil(self.clients.claim().then(flush));
});

function fieldPage(path) {
  return path === '/problems/new' || path === '/rounds' || path === '/' || /^\/problems\/[0-9a-f-]{36}$/.test(path);
}
function fieldPost(path) {
  return path === '/problems/new' || /^\/problems\/[0-9a-f-]{36}\/act\/[a-z_]+$/.test(path);
}

self.addEventListener('fetch', function (e) {
  var req = e.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.method === 'POST' && fieldPost(url.pathname)) {
    e.respondWith(sendOrKeep(req));
    return;
  }
  if (req.method !== 'GET') { return; }
  var keep = url.pathname.indexOf('/static/') === 0 ? SHELL : (req.mode === 'navigate' && fieldPage(url.pathname) ? PAGES : null);
  if (!keep) { return; }
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok && res.type === 'basic') {
      var copy = res.clone();
      caches.open(keep).then(function (c) { c.put(req, copy); });
    }
    return res;
  }, function () {
    return caches.match(req, { ignoreSearch: keep === SHELL }).then(function (hit) {
      return hit || (req.mode === 'navigate' ? page('当前没有网络', '<p>这个页面还没有在本机保存过，请在有网络时打开一次。已经打开过的“登记问题”和问题页面可以离线使用。</p>') : Response.error());
    });
  }));
});

// ---- the drafts on the device ----
function db() {
  return new Promise(function (ok, fail) {
    var r = indexedDB.open('chuangcheng-offline', 1);
    r.onupgradeneeded = function () { r.result.createObjectStore('drafts', { keyPath: 'id' }); };
    r.onsuccess = function () { ok(r.result); };
    r.onerror = function () { fail(r.error); };
  });
}
function store(mode, work) {
  return db().then(function (d) {
    return new Promise(function (ok, fail) {
      var tx = d.transaction('drafts', mode);
      var out = work(tx.objectStore('drafts'));
      tx.oncomplete = function () { ok(out && 'result' in out ? out.result : undefined); };
      tx.onerror = function () { fail(tx.error); };
    });
  });
}
function allDrafts() { return store('readonly', function (s) { return s.getAll(); }); }
function putDraft(d) { return store('readwrite', function (s) { s.put(d); }); }
function dropDraft(id) { return store('readwrite', function (s) { s['delete'](id); }); }

function beijing(ms) {
  var d = new Date(ms + 8 * 3600 * 1000);
  function p(n) { return (n < 10 ? '0' : '') + n; }
  return d.getUTCFullYear() + '-' + p(d.getUTCMonth() + 1) + '-' + p(d.getUTCDate()) + 'T' + p(d.getUTCHours()) + ':' + p(d.getUTCMinutes());
}
function ref() {
  if (self.crypto && self.crypto.randomUUID) { return self.crypto.randomUUID(); }
  return 'r' + Date.now().toString(16) + '-' + Math.random().toString(16).slice(2);
}
function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

function sendOrKeep(req) {
  var copy = req.clone();
  return fetch(req).catch(function () {
    return copy.formData().then(function (form) {
      var now = Date.now();
      var entries = [];
      var photos = 0;
      form.forEach(function (v, k) {
        if (typeof v !== 'string') { if (v.size > 0) { photos += 1; entries.push([k, v]); } return; }
        entries.push([k, v]);
      });
      var get = function (k) { var e = entries.filter(function (x) { return x[0] === k; })[0]; return e ? e[1] : ''; };
      var set = function (k, v) { entries = entries.filter(function (x) { return x[0] !== k; }); entries.push([k, v]); };
      if (!get('client_ref')) { set('client_ref', ref()); }
      set('offline_at', String(now));
      var path = new URL(req.url).pathname;
      var what = path === '/problems/new' ? '登记问题' : '问题办理';
      if (path === '/problems/new' && !get('found_at')) { set('found_at', beijing(now)); }
      var draft = { id: get('client_ref'), url: req.url, at: now, entries: entries, status: 'queued',
        title: what + (get('description') ? '：' + get('description').slice(0, 30) : ''), photos: photos };
      return putDraft(draft).then(function () {
        flushSoon();
        return page('已离线保存', '<div class="flash ok">当前没有网络，' + esc(draft.title) + '（' + photos + '张照片）已保存在本机，记录时间 ' +
          esc(beijing(now).replace('T', ' ')) + '。恢复网络后自动发送，不会重复登记。</div>' +
          '<p><a class="btn primary" href="/problems/new">继续登记</a> <a class="btn" href="/">返回待办</a></p>');
      });
    });
  });
}

function page(title, body) {
  var html = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>' + esc(title) + ' - 创城通</title><link rel="stylesheet" href="/static/app.css"><script src="/static/offline.js" defer></script></head>' +
    '<body><header class="topbar"><a class="brand" href="/">创城通</a></header><main class="content"><h1>' + esc(title) + '</h1>' + body +
    '<div id="offline-drafts"></div></main></body></html>';
  return new Response(html, { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

// ---- sending the drafts, one at a time, one sender ----
var flushing = null;
var timer = null;
function flushSoon() { if (!timer) { timer = setTimeout(function () { timer = null; flush(); }, 15000); } }
function flush() {
  if (!flushing) { flushing = sendAll().then(function (n) { flushing = null; return n; }, function () { flushing = null; return 0; }); }
  return flushing;
}
function tell(msg) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (cs) { cs.forEach(function (c) { c.postMessage(msg); }); });
}
function errorOf(html) {
  var m = /class="field-error">([^<]+)</.exec(html) || /class="flash err">([^<]+)</.exec(html);
  return m ? m[1] : '';
}
function sendAll() {
  return allDrafts().then(function (drafts) {
    var queued = drafts.filter(function (d) { return d.status === 'queued'; }).sort(function (a, b) { return a.at - b.at; });
    var sent = 0;
    var next = function (i) {
      if (i >= queued.length) { return Promise.resolve(); }
      var d = queued[i];
      var body = new FormData();
      d.entries.forEach(function (e) {
        if (e[0] === 'device_clock') { body.append(e[0], String(Date.now())); } else if (typeof e[1] === 'string') { body.append(e[0], e[1]); } else { body.append(e[0], e[1], e[1].name || 'photo.jpg'); }
      });
      return fetch(d.url, { method: 'POST', body: body, credentials: 'same-origin' }).then(function (res) {
        var path = new URL(res.url).pathname;
        if (path === '/login') {
          d.status = 'queued'; d.error = '登录已过期，请重新登录后自动发送';
          return putDraft(d).then(function () { throw new Error('login'); });
        }
        if (res.ok && path !== new URL(d.url).pathname) {
          sent += 1;
          return dropDraft(d.id).then(function () { return next(i + 1); });
        }
        return res.text().then(function (html) {
          d.status = 'refused';
          d.error = errorOf(html) || ('服务器拒绝（' + res.status + '）');
          return putDraft(d).then(function () { return next(i + 1); });
        });
      }, function () { /* still no signal: try again later */ flushSoon(); });
    };
    return next(0).then(function () { return tell({ type: 'drafts', sent: sent }).then(function () { return sent; }); });
  });
}

self.addEventListener('message', function (e) {
  if (e.data && e.data.type === 'flush') { e.waitUntil(flush()); }
  if (e.data && e.data.type === 'drop' && e.data.id) { e.waitUntil(dropDraft(e.data.id).then(function () { return tell({ type: 'drafts', sent: 0 }); })); }
});
self.addEventListener('sync', function (e) { if (e.tag === 'drafts') { e.waitUntil(flush()); } });
