// evalgate's HTML report: pages through the sample table. Every text from the
// results is written with textContent, never as HTML.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var rows = data.rows, metrics = data.metrics, by = data.by;
  var PAGE = 50;
  var state = { filter: 'all', query: '', sort: 'id', dir: 1, page: 0 };
  var tbody = document.getElementById('rows');

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmt(x) { return x === null || x === undefined ? '–' : (Math.round(x * 1000) / 1000).toString(); }
  function isRegressed(r) { return r.g !== null && r.g < 0; }
  function isImproved(r) { return r.g !== null && r.g > 0; }
  function hasError(r) { return !!(r.be || r.te); }
  var filters = {
    all: function () { return true; },
    regressed: isRegressed,
    improved: isImproved,
    flaky: function (r) { return !!r.f; },
    errors: hasError
  };

  // The header: id, repeat, the gain, each metric's baseline → target.
  var head = document.getElementById('head');
  var cols = [{ key: 'id', label: 'sample' }, { key: 'r', label: 'repeat' }, { key: 'g', label: by >= 0 ? 'change of ' + metrics[by] : 'change' }];
  metrics.forEach(function (m, i) { cols.push({ key: 'm' + i, label: m + ' (baseline → target)' }); });
  cols.forEach(function (c) {
    var th = el('th', c.label);
    th.setAttribute('data-sort', c.key);
    th.addEventListener('click', function () {
      state.dir = state.sort === c.key ? -state.dir : 1;
      state.sort = c.key;
      state.page = 0;
      render();
    });
    head.appendChild(th);
  });

  function sortValue(r, key) {
    if (key === 'id') return r.id;
    if (key === 'r') return r.r;
    if (key === 'g') return r.g;
    var i = +key.slice(1);
    var b = r.bs[i], t = r.ts[i];
    return b === null || t === null ? null : t - b;
  }
  function compare(a, b) {
    var x = sortValue(a, state.sort), y = sortValue(b, state.sort);
    if (x === y) return a.id < b.id ? -1 : a.id > b.id ? 1 : a.r - b.r;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * state.dir;
  }
  function matches(r, q) {
    if (!q) return true;
    return [r.id, r.in, r.ref, r.bo, r.to, r.be, r.te].some(function (s) { return s && s.toLowerCase().indexOf(q) >= 0; });
  }

  // A word diff of two answers: the longest common subsequence of their
  // words (and the spaces between), bounded so a long pair stays quick.
  function words(s) { return s ? s.split(/(\s+)/).filter(function (w) { return w !== ''; }) : []; }
  function wordDiff(a, b) {
    var x = words(a), y = words(b), n = x.length, m = y.length;
    if (n * m > 4000000) return null;
    var L = new Uint32Array((n + 1) * (m + 1)), w = m + 1, i, j;
    for (i = n - 1; i >= 0; i--) for (j = m - 1; j >= 0; j--)
      L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    var out = []; i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) { out.push(['', x[i]]); i++; j++; }
      else if (i < n && (j === m || L[(i + 1) * w + j] >= L[i * w + j + 1])) { out.push(['del', x[i]]); i++; }
      else { out.push(['ins', y[j]]); j++; }
    }
    return out;
  }
  function answer(label, text, err) {
    var box = el('div');
    box.appendChild(el('strong', label));
    if (err) box.appendChild(el('pre', '[call failed] ' + err, 'err'));
    else box.appendChild(el('pre', text));
    return box;
  }
  function detail(r) {
    var td = el('td', null, 'detail');
    td.colSpan = cols.length;
    if (r.in) { td.appendChild(el('strong', 'Input')); td.appendChild(el('pre', r.in)); }
    if (r.ref) { td.appendChild(el('strong', 'Reference')); td.appendChild(el('pre', r.ref)); }
    var grid = el('div', null, 'cols');
    grid.appendChild(answer('Baseline', r.bo, r.be));
    grid.appendChild(answer('Target', r.to, r.te));
    td.appendChild(grid);
    if (!r.be && !r.te) {
      var d = wordDiff(r.bo, r.to);
      if (d) {
        td.appendChild(el('strong', 'Word diff (baseline → target)'));
        var pre = el('pre', null, 'diff');
        d.forEach(function (p) { pre.appendChild(p[0] ? el(p[0], p[1]) : document.createTextNode(p[1])); });
        td.appendChild(pre);
      }
    }
    [['Baseline', r.bd], ['Target', r.td]].forEach(function (s) {
      if (!s[1]) return;
      Object.keys(s[1]).sort().forEach(function (k) {
        td.appendChild(el('strong', s[0] + ' ' + k));
        td.appendChild(el('pre', s[1][k]));
      });
    });
    var tr = el('tr', null, 'detail-row');
    tr.appendChild(td);
    return tr;
  }

  var countsShown = false;
  function render() {
    var f = filters[state.filter], q = state.query.toLowerCase();
    var list = rows.filter(function (r) { return f(r) && matches(r, q); });
    list.sort(compare);
    var pages = Math.max(1, Math.ceil(list.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var frag = document.createDocumentFragment();
    list.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (r) {
      var cls = 'row' + (isRegressed(r) ? ' regressed-row' : isImproved(r) ? ' improved-row' : '');
      var tr = el('tr', null, cls);
      tr.appendChild(el('td', r.id));
      tr.appendChild(el('td', r.r, 'num'));
      tr.appendChild(el('td', r.g === null ? (hasError(r) ? 'error' : '–') : (r.g > 0 ? '+' : '') + fmt(r.g), 'num'));
      r.bs.forEach(function (b, i) { tr.appendChild(el('td', fmt(b) + ' → ' + fmt(r.ts[i]), 'num')); });
      var open = null;
      function toggle() {
        if (open) { open.remove(); open = null; return; }
        open = detail(r);
        tr.after(open);
      }
      tr.tabIndex = 0;
      tr.addEventListener('click', toggle);
      tr.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } });
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    document.getElementById('page').textContent = ' page ' + (state.page + 1) + ' of ' + pages + ' (' + list.length + ' rows) ';
    if (!countsShown) {
      countsShown = true;
      document.querySelectorAll('[data-filter]').forEach(function (b) {
        var g = filters[b.getAttribute('data-filter')];
        b.textContent = b.getAttribute('data-filter') + ' (' + rows.filter(g).length + ')';
      });
    }
  }

  document.querySelectorAll('[data-filter]').forEach(function (b) {
    b.addEventListener('click', function () {
      state.filter = b.getAttribute('data-filter');
      state.page = 0;
      document.querySelectorAll('[data-filter]').forEach(function (o) { o.setAttribute('aria-pressed', String(o === b)); });
      render();
    });
  });
  document.getElementById('query').addEventListener('input', function (e) { state.query = e.target.value; state.page = 0; render(); });
  document.getElementById('prev').addEventListener('click', function () { if (state.page > 0) { state.page--; render(); } });
  document.getElementById('next').addEventListener('click', function () { state.page++; render(); });
  render();
})();
