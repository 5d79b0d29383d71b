// Offline search over the pages, sections and documented symbols of the site (window.DOCS_INDEX, set above).
(function () {
  var input = document.getElementById('search-input'), list = document.getElementById('search-results');
  if (!input || !list || !window.DOCS_INDEX) return;
  var root = document.body.getAttribute('data-root') || '';
  var kinds = {symbol: 0, page: 1, section: 2};
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function search(q) {
    q = q.trim().toLowerCase();
    if (!q) return [];
    var res = [];
    window.DOCS_INDEX.forEach(function (e) {
      var n = e.n.toLowerCase(), i = n.indexOf(q), score;
      if (i < 0) { if (e.d && e.d.toLowerCase().indexOf(q) >= 0 && e.k === 'page') score = 5; else return; }
      else score = (n === q ? 0 : i === 0 ? 1 : n.charAt(i - 1).match(/[._ ]/) ? 2 : 3);
      res.push([score, kinds[e.k] || 0, n.length, e]);
    });
    res.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    return res.slice(0, 20).map(function (r) { return r[3]; });
  }
  function cut(s) { s = String(s || ''); return s.length > 90 ? s.slice(0, 88) + '…' : s; }
  function show() {
    var hits = search(input.value);
    list.innerHTML = hits.map(function (e) {
      return '<li class="hit-' + e.k + '"><a href="' + esc(root + e.u) + '"><span class="hit-name">' + esc(e.n) +
             '</span> <span class="hit-where">' + esc(cut(e.k === 'page' ? e.d : e.k + ' in ' + e.d)) + '</span></a></li>';
    }).join('') || (input.value.trim() ? '<li class="hit-none">No match</li>' : '');
    list.hidden = !list.innerHTML;
  }
  input.addEventListener('input', show);
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') { input.value = ''; show(); input.blur(); }
    if (ev.key === 'Enter') { var a = list.querySelector('a'); if (a) window.location.href = a.getAttribute('href'); }
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === '/' && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
  });
  var q = new URLSearchParams(window.location.search).get('q');  // page.html?q=one_hot opens with that search
  if (q) { input.value = q; show(); }
  document.addEventListener('click', function (ev) { if (!list.contains(ev.target) && ev.target !== input) list.hidden = true; });
})();
