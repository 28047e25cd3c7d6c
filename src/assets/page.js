(function () {
  'use strict';
  var doc = document, root = doc.documentElement;
  root.classList.remove('nojs');
  root.classList.add('js');
  var dataEl = doc.getElementById('embvsattn-data');
  var data = JSON.parse(dataEl.textContent);
  var views = data.sentences || [data];
  var shared = data.shared || [];
  var secs = [];
  function all(el, sel) { return Array.prototype.slice.call(el.querySelectorAll(sel)); }

  function Sec(el, view, s) {
    this.el = el; this.view = view; this.s = s;
    this.toks = all(el, '.strip .tok');
    this.rows = all(el, '.hv-row');
    this.left = all(el, '.hv-left text');
    this.details = all(el, '.detail');
    this.hmRows = all(el, '.hm-row');
    this.readout = el.querySelector('.readout');
    this.hmRead = el.querySelector('.hm-read');
    this.sel = Number(el.getAttribute('data-selected')) || 0;
  }
  /* draws token i: its attention (chips, head-view lines, heatmap row) and its neighbour panel */
  Sec.prototype.show = function (i) {
    var w = this.view.weights[i];
    this.toks.forEach(function (t, k) {
      t.classList.toggle('cur', k === i);
      t.style.setProperty('--w', String(w[k]));
    });
    this.rows.forEach(function (r, k) { r.classList.toggle('sel', k === i); });
    this.left.forEach(function (t, k) { t.classList.toggle('cur', k === i); });
    this.details.forEach(function (d, k) { d.hidden = k !== i; });
    this.hmRows.forEach(function (r, k) { r.classList.toggle('sel', k === i); });
    var sum = this.details[i].querySelector('.summary');
    this.readout.textContent = sum ? sum.textContent : '';
  };
  /* selects token i (it stays drawn when the pointer or focus leaves); a shared word selects its twin */
  Sec.prototype.select = function (i, twin) {
    this.sel = i;
    this.el.setAttribute('data-selected', String(i));
    this.toks.forEach(function (t, k) {
      t.setAttribute('aria-pressed', k === i ? 'true' : 'false');
      t.tabIndex = k === i ? 0 : -1;
    });
    this.show(i);
    if (twin === false) return;
    var s = this.s;
    shared.forEach(function (q) {
      if (q.token_index[s] === i && secs[1 - s]) secs[1 - s].select(q.token_index[1 - s], false);
    });
  };
  Sec.prototype.current = function () {
    var k = this.toks.indexOf(doc.activeElement);
    return k >= 0 ? k : this.sel;
  };
  Sec.prototype.wire = function () {
    var self = this, strip = this.el.querySelector('.strip');
    this.toks.forEach(function (t, i) {
      t.addEventListener('click', function () { self.select(i); t.focus(); });
      t.addEventListener('focus', function () { self.show(i); });
      t.addEventListener('mouseenter', function () { self.show(i); });
    });
    strip.addEventListener('mouseleave', function () { self.show(self.current()); });
    strip.addEventListener('focusout', function (e) {
      if (!strip.contains(e.relatedTarget)) self.show(self.sel);
    });
    strip.addEventListener('keydown', function (e) {
      var k = self.toks.indexOf(doc.activeElement), n = self.toks.length, to = -1;
      if (k < 0) return;
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') to = Math.min(n - 1, k + 1);
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') to = Math.max(0, k - 1);
      else if (e.key === 'Home') to = 0;
      else if (e.key === 'End') to = n - 1;
      else if (e.key === 'Escape') { self.show(self.sel); return; }
      if (to < 0) return;
      e.preventDefault();
      self.toks[k].tabIndex = -1;
      self.toks[to].tabIndex = 0;
      self.toks[to].focus();
    });
    this.left.forEach(function (t, i) {
      t.addEventListener('mouseenter', function () { self.show(i); });
      t.addEventListener('click', function () { self.select(i); });
    });
    var hv = this.el.querySelector('svg.hv');
    if (hv) hv.addEventListener('mouseleave', function () { self.show(self.current()); });
    var hm = this.el.querySelector('svg.hm-svg');
    if (!hm) return;
    hm.addEventListener('mouseover', function (e) {
      var c = e.target.closest ? e.target.closest('.cell') : null;
      if (!c) return;
      var t = c.querySelector('title');
      self.hmRead.textContent = t ? t.textContent : '';
    });
    hm.addEventListener('mouseleave', function () { self.hmRead.textContent = ''; });
    hm.addEventListener('click', function (e) {
      var c = e.target.closest ? e.target.closest('.cell') : null;
      if (c) self.select(Number(c.getAttribute('data-row')));
    });
  };

  all(doc, 'section.sent').forEach(function (el, s) { secs.push(new Sec(el, views[s], s)); });
  secs.forEach(function (s) { s.wire(); s.select(s.sel, false); });
  all(doc, '.shared-btn').forEach(function (b) {
    b.addEventListener('click', function () {
      secs[0].select(Number(b.getAttribute('data-i1')), false);
      secs[1].select(Number(b.getAttribute('data-i2')), false);
      all(doc, '.shared-btn').forEach(function (o) {
        o.setAttribute('aria-pressed', o === b ? 'true' : 'false');
      });
    });
  });
  var dl = doc.getElementById('dl-json');
  if (dl && window.Blob && window.URL && URL.createObjectURL) {
    dl.href = URL.createObjectURL(new Blob([dataEl.textContent], { type: 'application/json' }));
    doc.getElementById('dl-json-wrap').hidden = false;
  }
})();

/* ---- the movement map (render_map.c): hovering or focusing a point shows its token above (its head-view row,
 * heatmap row and neighbour lists) and marks its lists' words on the map; click, Enter or Space selects the token.
 * Without scripts the points' titles say the same. */
(function () {
  'use strict';
  var doc = document;
  var svg = doc.querySelector('svg.mm');
  var dataEl = doc.getElementById('embvsattn-data');
  if (!svg || !dataEl) return;
  var map = JSON.parse(dataEl.textContent).map;
  if (!map) return;
  function all(el, sel) { return Array.prototype.slice.call(el.querySelectorAll(sel)); }
  function chip(s, i) { return doc.querySelector('#s' + s + ' .strip .tok[data-i="' + i + '"]'); }
  function tokensOf(el) {
    return (el.getAttribute('data-tokens') || '').split(' ').filter(Boolean).map(function (t) {
      var p = t.split(':');
      return { s: Number(p[0]), i: Number(p[1]) };
    });
  }
  function mark(list) { /* the map's points, labels and arrows of the tokens in list */
    all(svg, '.on').forEach(function (e) { e.classList.remove('on'); });
    var pts = {};
    list.forEach(function (t) {
      map.tokens.forEach(function (mt) {
        if (mt.sentence !== t.s || mt.index !== t.i) return;
        [mt.static, mt.context].concat(mt.static_neighbors, mt.context_neighbors).forEach(function (p) {
          if (p !== null) pts[p] = true;
        });
        all(svg, '.mm-arrow[data-s="' + t.s + '"][data-i="' + t.i + '"]').forEach(function (a) {
          a.classList.add('on');
        });
      });
    });
    Object.keys(pts).forEach(function (p) {
      all(svg, '[data-pt="' + p + '"]').forEach(function (e) { e.classList.add('on'); });
    });
  }
  function show(el) {
    var list = tokensOf(el);
    mark(list);
    list.forEach(function (t) {
      var c = chip(t.s, t.i);
      if (c) c.dispatchEvent(new Event('mouseenter'));
    });
  }
  function select(el) {
    tokensOf(el).forEach(function (t) {
      var c = chip(t.s, t.i);
      if (c) c.click();
    });
    mark(tokensOf(el));
  }
  all(svg, '.mm-pt[data-tokens]').forEach(function (el) {
    el.setAttribute('role', 'button');
    el.addEventListener('mouseenter', function () { show(el); });
    el.addEventListener('focus', function () { show(el); });
    el.addEventListener('click', function () { select(el); });
    el.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(el); }
    });
  });
  svg.addEventListener('mouseleave', function () {
    all(doc, 'section.sent .strip').forEach(function (s) { s.dispatchEvent(new Event('mouseleave')); });
  });
})();
