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

  /* ---- the meaning/position switch (the document's "why", present for every page the CLI writes) ----------
   * redraws the heatmap's cells, value labels, titles and scale from one term: the real weights (as written by C),
   * the meaning-only or position-only weights, or a logit term (signed: shade |x| / max |x|, class neg below 0) */
  var SVGNS = 'http://www.w3.org/2000/svg', SIGNED = { ee: 1, ep: 1, pe: 1, pp: 1 };
  Sec.prototype.term = function (name) {
    var hm = this.el.querySelector('svg.hm-svg'), why = this.view.why;
    if (!hm || (name !== 'weights' && !(why && why[name]))) return;
    var toks = this.view.tokens, cells = all(hm, 'rect.cell'), legend = all(hm, 'g.legend text');
    if (!this.orig) { /* what C wrote, to come back to */
      this.orig = {
        titles: cells.map(function (c) { var t = c.querySelector('title'); return t ? t.textContent : ''; }),
        opac: cells.map(function (c) { return c.getAttribute('fill-opacity'); }),
        values: all(hm, 'text.v').map(function (t) { return [t, t.previousElementSibling]; }), /* after its cell */
        legend: legend.map(function (t) { return t.textContent; })
      };
    }
    var o = this.orig;
    all(hm, 'text.v').forEach(function (t) { t.parentNode.removeChild(t); });
    hm.setAttribute('data-term', name);
    if (name === 'weights') {
      cells.forEach(function (c, k) {
        c.classList.remove('neg');
        c.removeAttribute('data-value');
        if (o.opac[k] !== null) c.setAttribute('fill-opacity', o.opac[k]);
        var t = c.querySelector('title');
        if (t) t.textContent = o.titles[k];
      });
      o.values.forEach(function (p) { p[1].parentNode.insertBefore(p[0], p[1].nextSibling); });
      legend.forEach(function (t, k) { t.textContent = o.legend[k]; });
      return;
    }
    var m = why[name], signed = !!SIGNED[name], max = 0;
    if (signed) m.forEach(function (r) { r.forEach(function (x) { if (x !== null) max = Math.max(max, Math.abs(x)); }); });
    if (!(max > 0)) max = 1;
    cells.forEach(function (c) {
      if (c.classList.contains('masked')) return;
      var i = Number(c.getAttribute('data-row')), j = Number(c.getAttribute('data-col')), x = m[i][j];
      var v = x === null ? 0 : x, shade = signed ? Math.abs(v) / max : v;
      c.classList.toggle('neg', signed && v < 0);
      c.setAttribute('fill-opacity', String(shade));
      c.setAttribute('data-value', x === null ? '' : String(x));
      var t = c.querySelector('title');
      if (t) t.textContent = toks[i].text + ' \u2192 ' + toks[j].text + ': ' + (x === null ? 'key not allowed' :
        signed ? String(x) + ' (' + name + ', logit units)' : String(x) + ' (' + Math.round(x * 100) + '%, ' +
        name + ' only)');
      var w = Number(c.getAttribute('width'));
      if (w < 22 || x === null || (signed ? Math.abs(v) < 0.05 : v < 0.005)) return;
      var tx = doc.createElementNS(SVGNS, 'text');
      tx.setAttribute('class', 'v' + (shade >= 0.5 ? ' hi' : ''));
      tx.setAttribute('x', String(Number(c.getAttribute('x')) + w / 2));
      tx.setAttribute('y', String(Number(c.getAttribute('y')) + Number(c.getAttribute('height')) / 2));
      tx.setAttribute('dy', '0.35em');
      tx.setAttribute('text-anchor', 'middle');
      tx.setAttribute('data-row', String(i));
      tx.setAttribute('data-col', String(j));
      tx.textContent = signed ? v.toFixed(1) : String(Math.round(v * 100));
      c.parentNode.insertBefore(tx, c.nextSibling);
    });
    legend.forEach(function (t, k) {
      if (k === 0) t.textContent = signed ? '|logit|' : name;
      else t.textContent = signed ? (max * (k - 1) / 4).toPrecision(2) : o.legend[k];
    });
  };
  Sec.prototype.wireTerms = function () {
    var self = this, sw = this.el.querySelector('.termsw');
    if (!sw || !this.view.why) return;
    sw.hidden = false;
    all(sw, 'input').forEach(function (r) {
      r.addEventListener('change', function () { if (r.checked) { self.term(r.value); setHash(); } });
    });
  };
  Sec.prototype.setTerm = function (name) {
    var r = this.el.querySelector('.termsw input[value="' + name + '"]');
    if (!r || !this.view.why) return;
    r.checked = true;
    this.term(name);
  };

  /* ---- links to a token: #token=I (compare: #token=I or #token=I,J), and &term=NAME ------------------------ */
  function fromHash() {
    var h = (window.location.hash || '').replace(/^#/, ''), tok = null, term = null;
    h.split('&').forEach(function (kv) {
      var p = kv.split('=');
      if (p[0] === 'token' && /^\d+(,\d+)?$/.test(p[1] || '')) tok = p[1].split(',').map(Number);
      if (p[0] === 'term' && p[1]) term = p[1];
    });
    if (tok) tok.forEach(function (i, s) {
      if (secs[s] && i < secs[s].toks.length) secs[s].select(i, tok.length === 1 ? undefined : false);
    });
    if (term) secs.forEach(function (s) { s.setTerm(term); });
    return !!(tok || term);
  }
  function setHash() {
    var h = '#token=' + secs.map(function (s) { return s.sel; }).join(',');
    var t = secs.length && secs[0].el.querySelector('.termsw input:checked');
    if (t && t.value !== 'weights') h += '&term=' + t.value;
    try { window.history.replaceState(null, '', h); } catch (e) { /* a page opened where history is not allowed */ }
  }

  all(doc, 'section.sent').forEach(function (el, s) { secs.push(new Sec(el, views[s], s)); });
  secs.forEach(function (s) { s.wire(); s.wireTerms(); s.select(s.sel, false); });
  fromHash();
  window.addEventListener('hashchange', fromHash);
  secs.forEach(function (s) {
    s.toks.forEach(function (t) { t.addEventListener('click', setHash); });
  });
  all(doc, '.shared-btn').forEach(function (b) {
    b.addEventListener('click', function () {
      secs[0].select(Number(b.getAttribute('data-i1')), false);
      secs[1].select(Number(b.getAttribute('data-i2')), false);
      setHash();
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
