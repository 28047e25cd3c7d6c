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
  var live = null; /* the live app (embvsattn serve), or null for a page on its own */
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
    this.stepsEl = null;
    if (view.steps) { /* the computation step by step (steps.js part below), before the heatmap */
      this.stepsEl = doc.createElement('section');
      this.stepsEl.className = 'steps';
      this.stepsEl.id = el.id + '-steps';
      this.stepsEl.setAttribute('aria-live', 'off');
      var fig = el.querySelector('.hmfig');
      el.insertBefore(this.stepsEl, fig);
    }
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
    if (this.stepsEl) drawSteps(this.stepsEl, this.view, i);
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

  /* ---- the computation step by step, for the selected token (the document's "steps", --steps) ---------------
   * Every number is the document's: a vector is shown shortened (its first values … its last), its full values in
   * its title and, on click, Enter or Space, written out below it. */
  var SHOW = 4; /* values shown before the ellipsis */
  function esc(t) {
    return String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function num(x) { /* for reading: 4 significant digits; the exact value is in the title */
    if (x === null || x === undefined) return '\u2014';
    if (x === 0) return '0';
    var a = Math.abs(x);
    return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  }
  function full(xs) { return xs.map(function (x) { return x === null ? 'null' : String(x); }).join(', '); }
  function vec(xs, step, row, label) {
    var short = xs.length <= SHOW + 1 ? xs.map(num).join(', ')
      : xs.slice(0, SHOW).map(num).join(', ') + ', \u2026, ' + num(xs[xs.length - 1]);
    return '<span class="vecw"><button type="button" class="vec" aria-expanded="false" data-step="' + step +
      '" data-row="' + row + '" title="' + esc(full(xs)) + '" aria-label="' + esc(label + ': ' + xs.length +
      ' values, press to show them all') + '">[' + short + ']<span class="dim">' + xs.length +
      '</span></button><span class="vfull" hidden>[' + esc(full(xs)) + ']</span></span>';
  }
  function cell(x, step, row, col) {
    return '<td class="num" data-step="' + step + '" data-row="' + row + '" data-col="' + col + '" title="' +
      (x === null ? 'not allowed: masked' : esc(String(x))) + '">' + num(x) + '</td>';
  }
  function drawSteps(el, view, i) {
    var st = view.steps, toks = view.tokens, n = toks.length, head = view.head || data.head || {};
    var t = toks[i], name = '\u201c' + esc(t.text) + '\u201d', h = [];
    var ident = head.kind === 'identity';
    h.push('<h3>The computation for ' + name + ' (token ' + i + '), step by step</h3>');
    h.push('<p class="hint">The numbers this view computed (float32). A vector shows its first values; hover it ' +
      'for all of them, or press it (Enter) to write them out; in the table of keys the arrow keys move.</p>' +
      '<ol class="steplist">');
    h.push('<li><span class="sl">x</span> its word vector' + (t.status === 'oov' ? ' (out of vocabulary: zero)' : '') +
      ' ' + vec(st.x[i], 'x', i, 'x'));
    if (st.positions)
      h.push('<br><span class="sl">+ p</span> position ' + i + ', scaled ' + vec(st.positions[i], 'positions', i,
        'position'));
    h.push('</li>');
    if (ident)
      h.push('<li><span class="sl">q, k, v</span> the identity head: W<sub>Q</sub> = W<sub>K</sub> = W<sub>V</sub>' +
        ' = I, so q = k = v = x' + (st.positions ? ' + p' : '') + ' ' + vec(st.q[i], 'q', i, 'q') + '</li>');
    else
      h.push('<li><span class="sl">q</span> = x\u2032\u00b7W<sub>Q</sub> ' + vec(st.q[i], 'q', i, 'q') +
        '<br><span class="sl">k</span> = x\u2032\u00b7W<sub>K</sub> ' + vec(st.k[i], 'k', i, 'k') +
        '<br><span class="sl">v</span> = x\u2032\u00b7W<sub>V</sub> ' + vec(st.v[i], 'v', i, 'v') +
        '<span class="muted"> (x\u2032 = x' + (st.positions ? ' + p' : '') + '; d_k = ' + st.q[i].length +
        ')</span></li>');
    h.push('<li><span class="sl">scores</span> q\u00b7k<sub>j</sub> \u00d7 1/\u221ad_k (' + num(st.scale) +
      '), then <span class="sl">softmax</span> over the keys it may attend to: its weights a<sub>j</sub>' +
      '<div class="tablewrap"><table class="stept"><thead><tr><th scope="col">j</th><th scope="col">key</th>' +
      '<th scope="col">k<sub>j</sub></th><th scope="col">score</th><th scope="col">weight</th>' +
      '<th scope="col">v<sub>j</sub></th></tr></thead><tbody>');
    for (var j = 0; j < n; j++)
      h.push('<tr' + (st.scores[i][j] === null ? ' class="masked"' : '') + '><td>' + j + '</td><th scope="row">' +
        esc(toks[j].text) + '</th><td>' + vec(st.k[j], 'k', j, 'k of ' + toks[j].text) + '</td>' +
        cell(st.scores[i][j], 'scores', i, j) + cell(view.weights[i][j], 'weights', i, j) + '<td>' +
        vec(st.v[j], 'v', j, 'v of ' + toks[j].text) + '</td></tr>');
    h.push('</tbody></table></div></li>');
    h.push('<li><span class="sl">\u03a3 a<sub>j</sub>\u00b7v<sub>j</sub></span> the weighted sum ' +
      vec(st.weighted[i], 'weighted', i, 'weighted sum') + '</li>');
    if (st.output === null)
      h.push('<li><span class="sl">output</span> none: this head has no W<sub>O</sub> and d_k \u2260 d_model, so its ' +
        'output is not in the vectors\u2019 space</li>');
    else if (head.w_o)
      h.push('<li><span class="sl">\u00b7W<sub>O</sub></span> the output ' + vec(st.output[i], 'output', i,
        'output') + '</li>');
    else
      h.push('<li><span class="sl">output</span> no W<sub>O</sub>: the weighted sum is the output</li>');
    if (st.residual && st.context)
      h.push('<li><span class="sl">+ x</span> the residual: its vector in context ' + vec(st.context[i], 'context',
        i, 'in context') + '</li>');
    h.push('</ol>');
    el.innerHTML = h.join('');
    /* the table of keys is one stop of the Tab order: the arrow keys move between its vectors */
    var grid = all(el, 'table.stept tbody tr').map(function (r) { return all(r, 'button.vec'); });
    grid.forEach(function (r, y) { r.forEach(function (b, x) { b.tabIndex = x + y === 0 ? 0 : -1; }); });
    var tbl = el.querySelector('table.stept');
    if (tbl) tbl.addEventListener('keydown', function (e) {
      var y = -1, x = -1;
      grid.forEach(function (r, yy) { var k = r.indexOf(doc.activeElement); if (k >= 0) { y = yy; x = k; } });
      if (y < 0) return;
      var ny = y, nx = x;
      if (e.key === 'ArrowDown') ny = Math.min(grid.length - 1, y + 1);
      else if (e.key === 'ArrowUp') ny = Math.max(0, y - 1);
      else if (e.key === 'ArrowRight') nx = Math.min(grid[y].length - 1, x + 1);
      else if (e.key === 'ArrowLeft') nx = Math.max(0, x - 1);
      else if (e.key === 'Home') ny = 0;
      else if (e.key === 'End') ny = grid.length - 1;
      else return;
      e.preventDefault();
      grid[y][x].tabIndex = -1;
      grid[ny][nx].tabIndex = 0;
      grid[ny][nx].focus();
    });
    all(el, 'button.vec').forEach(function (b) {
      b.addEventListener('click', function () {
        var f = b.nextElementSibling, open = b.getAttribute('aria-expanded') !== 'true';
        b.setAttribute('aria-expanded', open ? 'true' : 'false');
        f.hidden = !open;
      });
    });
  }

  function sim4(x) { return x === null ? '\u2014' : x.toFixed(4); } /* the word panel's scores, as C rounds them */

  /* ---- the movement map (render_map.c): hovering or focusing a point shows its token above (its head-view row,
   * heatmap row and neighbour lists) and marks its lists' words on the map; click, Enter or Space selects the token.
   * Without scripts the points' titles say the same. */
  function wireMap(map) {
    var svg = doc.querySelector('svg.mm');
    if (!svg || !map) return;
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
  }

  /* ---- start: the sections the page has, their tokens wired ------------------------------------------------- */
  function boot() {
    secs = [];
    all(doc, 'section.sent').forEach(function (el, s) { secs.push(new Sec(el, views[s], s)); });
    secs.forEach(function (s) { s.wire(); s.wireTerms(); s.select(s.sel, false); });
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
    wireMap(data.map);
    if (live) live.words(doc);
  }
  boot();
  fromHash();
  window.addEventListener('hashchange', fromHash);
  var dlUrl = null;
  function saveLink(text) {
    var dl = doc.getElementById('dl-json'); /* in the footer, which the live app redraws */
    if (!dl || !window.Blob || !window.URL || !URL.createObjectURL) return;
    if (dlUrl) URL.revokeObjectURL(dlUrl);
    dl.href = dlUrl = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    doc.getElementById('dl-json-wrap').hidden = false;
  }
  saveLink(dataEl.textContent);

  /* ---- the live app: a page served by `embvsattn serve` says where its API is (<meta name="embvsattn-api">).
   * Without it (a page written to a file) nothing below runs. Requests go to the same origin, relative URLs. */
  var meta = doc.querySelector('meta[name="embvsattn-api"]');
  if (!meta) return;
  var api = meta.getAttribute('content') || 'api/';
  var mainEl = doc.querySelector('main');
  var box = doc.createElement('section');
  box.className = 'card live';
  box.setAttribute('aria-labelledby', 'live-h');
  var compare0 = !!data.sentences && !!data.shared, s0 = views[0].sentence, s1 = views[1] ? views[1].sentence : '';
  box.innerHTML = '<h2 id="live-h">Try your own sentence</h2>' +
    '<div class="live-row"><fieldset class="live-mode"><legend class="sr">Mode</legend>' +
    '<label><input type="radio" name="live-mode" value="view"' + (compare0 ? '' : ' checked') + '> one sentence' +
    '</label> <label><input type="radio" name="live-mode" value="compare"' + (compare0 ? ' checked' : '') +
    '> compare two</label></fieldset><label class="live-headl">head <select id="live-head" aria-label="Attention ' +
    'head"><option value="">(the default)</option></select></label></div>' +
    '<label class="live-s"><span>Sentence</span><input type="text" id="live-s1" autocomplete="off" spellcheck="false"' +
    ' value="' + esc(s0) + '"></label>' +
    '<div class="live-two"' + (compare0 ? '' : ' hidden') + '><label class="live-s"><span>Sentence 2</span>' +
    '<input type="text" id="live-s2" autocomplete="off" spellcheck="false" value="' + esc(s1) + '"></label>' +
    '<label class="live-w"><span>word (optional)</span><input type="text" id="live-word" autocomplete="off" ' +
    'spellcheck="false"></label></div>' +
    '<p class="hint">The view follows as you type. Click any neighbour word to see its own neighbours.</p>' +
    '<p class="live-err" id="live-err" role="alert" hidden></p><p class="live-status sr" aria-live="polite"></p>';
  mainEl.insertBefore(box, mainEl.firstChild);
  var wp = doc.createElement('section');
  wp.className = 'card wordp';
  wp.id = 'wordp';
  wp.setAttribute('aria-labelledby', 'wordp-h');
  wp.innerHTML = '<h2 id="wordp-h">Words</h2><div class="wp-nb"><p class="muted">Click a neighbour (or press ' +
    'Enter on it) to see its own nearest words.</p></div>' +
    '<form class="wp-an" id="wp-an"><fieldset><legend>Analogy: a is to b as c is to ?</legend>' +
    '<input type="text" id="an-a" aria-label="a" placeholder="man" autocomplete="off" required> : ' +
    '<input type="text" id="an-b" aria-label="b" placeholder="king" autocomplete="off" required> :: ' +
    '<input type="text" id="an-c" aria-label="c" placeholder="woman" autocomplete="off" required> : ? ' +
    '<button type="submit">Solve</button></fieldset><div class="wp-anr" aria-live="polite"></div></form>';
  mainEl.insertBefore(wp, box.nextSibling);
  var q = function (sel) { return box.querySelector(sel); };
  var errEl = q('#live-err'), statusEl = q('.live-status'), headSel = q('#live-head');
  var seq = 0, shown = 0, timer = null;

  function showError(msg) {
    errEl.textContent = msg || '';
    errEl.hidden = !msg;
  }
  /* GET base + path: the answer's text (the parsed JSON document unless asHtml), or an Error whose message is
   * the API's error object's */
  function get(path, asHtml) {
    return fetch(api + path, { headers: { Accept: asHtml ? 'text/html' : 'application/json' } }).then(function (r) {
      return r.text().then(function (t) {
        if (r.ok && asHtml) return t;
        var j = null;
        try { j = JSON.parse(t); } catch (e) { /* not JSON: say so below */ }
        if (!r.ok || !j) {
          var m = j && j.error ? j.error : 'HTTP ' + r.status + (t ? ': ' + t.slice(0, 200) : '');
          throw new Error(m);
        }
        return j;
      });
    });
  }
  function mode() { var r = box.querySelector('input[name="live-mode"]:checked'); return r ? r.value : 'view'; }
  function params() {
    var p = [], h = headSel.value;
    if (mode() === 'compare') {
      p.push('s1=' + encodeURIComponent(q('#live-s1').value), 's2=' + encodeURIComponent(q('#live-s2').value));
      if (q('#live-word').value.trim()) p.push('word=' + encodeURIComponent(q('#live-word').value.trim()));
    } else p.push('s=' + encodeURIComponent(q('#live-s1').value));
    if (h) p.push('head=' + encodeURIComponent(h));
    p.push('format=html'); /* the page's part the document draws, by C (its "why" and "steps" in it) */
    return (mode() === 'compare' ? 'compare?' : 'view?') + p.join('&');
  }
  /* one request per change; an answer older than the one shown is dropped */
  function refresh() {
    var my = ++seq, cmp = mode() === 'compare';
    if (!q('#live-s1').value.trim() || (cmp && !q('#live-s2').value.trim())) {
      showError('Type a sentence' + (cmp ? ' in both boxes' : '') + '.');
      return;
    }
    box.setAttribute('aria-busy', 'true');
    get(params(), true).then(function (html) {
      if (my < shown) return;
      shown = my;
      showError('');
      render(html);
      statusEl.textContent = 'updated';
    }).catch(function (e) { /* the API's error, or an answer the page could not draw */
      if (my < shown) return;
      shown = my;
      showError(e.message);
    }).then(function () { if (my === seq) box.removeAttribute('aria-busy'); });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }
  /* html: the server's part of the page for the new document (render_html_fragment: the shared words, the
   * sentences, the movement map, the footer, the document embedded), put in place of the page's own and wired as
   * the page itself is (boot) */
  function render(html) {
    var t = doc.createElement('template');
    t.innerHTML = html;
    var f = t.content, fd = f.getElementById('embvsattn-data'), foot = f.querySelector('footer');
    if (!fd) throw new Error('the server\u2019s answer has no document');
    data = JSON.parse(fd.textContent);
    views = data.sentences || [data];
    shared = data.shared || [];
    dataEl.textContent = fd.textContent;
    fd.parentNode.removeChild(fd);
    var oldFoot = doc.querySelector('body > footer');
    if (foot && oldFoot) oldFoot.parentNode.replaceChild(foot, oldFoot);
    all(mainEl, ':scope > .shared-sec, :scope > .sentences, :scope > .map-sec').forEach(function (e) {
      e.parentNode.removeChild(e);
    });
    mainEl.appendChild(f); /* what is left: [.shared-sec] .sentences [.map-sec], in the page's order */
    doc.title = 'embvsattn: ' + views.map(function (v) { return v.sentence; }).join(' | ');
    saveLink(dataEl.textContent);
    boot();
  }
  /* neighbour words become buttons: their own neighbours in the word panel */
  function wordButtons(el) {
    all(el, 'table.nb td:first-child, .nbl').forEach(function (td) {
      if (td.querySelector('button.nbw') || td.classList.contains('muted')) return;
      var w = td.classList.contains('nbl') ? td.firstChild.textContent : td.textContent;
      if (!w) return;
      var b = doc.createElement('button');
      b.type = 'button';
      b.className = 'nbw';
      b.textContent = w;
      b.title = 'the nearest words to ' + w;
      if (td.classList.contains('nbl')) td.replaceChild(b, td.firstChild);
      else { td.textContent = ''; td.appendChild(b); }
    });
  }
  function wordList(list, cls) {
    if (!list.length) return '<p class="muted">none</p>';
    return '<ol class="' + cls + '">' + list.map(function (x) {
      return '<li><button type="button" class="nbw">' + esc(x.word) + '</button> <span class="num" title="' + x.score +
        '">' + sim4(x.score) + '</span></li>';
    }).join('') + '</ol>';
  }
  function neighbours(w) {
    var out = wp.querySelector('.wp-nb');
    out.innerHTML = '<p class="muted">\u2026</p>';
    get('neighbors?w=' + encodeURIComponent(w) + '&k=10').then(function (d) {
      var r = d.results && d.results[0];
      out.innerHTML = '<h3>Nearest to \u201c' + esc(w) + '\u201d</h3>' + (!r || r.match === 'oov'
        ? '<p class="muted">not in the vocabulary</p>' : wordList(r.neighbors || [], 'wp-list'));
      var h = out.querySelector('h3');
      h.tabIndex = -1;
      h.focus();
    }, function (e) { out.innerHTML = '<p class="live-err" role="alert">' + esc(e.message) + '</p>'; });
  }
  live = { words: wordButtons };
  doc.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button.nbw') : null;
    if (b) neighbours(b.textContent);
  });
  wp.querySelector('#wp-an').addEventListener('submit', function (e) {
    e.preventDefault();
    var out = wp.querySelector('.wp-anr'), a = wp.querySelector('#an-a').value.trim(),
      b = wp.querySelector('#an-b').value.trim(), c = wp.querySelector('#an-c').value.trim();
    get('analogy?a=' + encodeURIComponent(a) + '&b=' + encodeURIComponent(b) + '&c=' + encodeURIComponent(c) +
      '&k=5').then(function (d) {
      out.innerHTML = '<h3>' + esc(a) + ' : ' + esc(b) + ' :: ' + esc(c) + ' : ?</h3>' +
        wordList(d.results || [], 'an-list');
    }, function (err) { out.innerHTML = '<p class="live-err" role="alert">' + esc(err.message) + '</p>'; });
  });
  all(box, 'input[type="text"]').forEach(function (i) {
    i.addEventListener('input', later);
    i.addEventListener('keydown', function (e) { if (e.key === 'Enter') { clearTimeout(timer); refresh(); } });
  });
  all(box, 'input[name="live-mode"]').forEach(function (r) {
    r.addEventListener('change', function () {
      box.querySelector('.live-two').hidden = mode() !== 'compare';
      refresh();
    });
  });
  headSel.addEventListener('change', refresh);
  get('heads').then(function (d) { /* {"default": NAME, "heads": [{"name", "head": the head object}]} */
    var list = Array.isArray(d) ? d : d.heads || [];
    var cur = data.head || (views[0] && views[0].head) || {};
    list.forEach(function (h) {
      var hd = h.head || h, name = h.name || hd.kind, o = doc.createElement('option');
      o.value = name;
      o.textContent = name + (hd.description ? ' \u2014 ' + hd.description.slice(0, 70) : '');
      headSel.appendChild(o);
      if (!headSel.dataset.set && (name === d.default || (!d.default && hd.description === cur.description))) {
        o.selected = true;
        headSel.dataset.set = '1';
      }
    });
    if (headSel.dataset.set) headSel.remove(0); /* the default is listed by its name */
  }, function (e) { showError('heads: ' + e.message); });
  wordButtons(doc);
})();

