// console.js - the web console of `sluice serve` (index.html; docs/serve.md,
// "The console").  Plain JavaScript, no library: it reads the server's
// public HTTP API only (GET /queries, GET /queries/ID, DELETE /queries/ID,
// POST /query, GET /describe/NAME), polls it every second, and draws its
// charts and the plan graph as SVG.  With a token the page asks for it once
// and keeps it in sessionStorage; every request sends it as a Bearer token.
'use strict';

const POLL_MS = 1000;
const MAX_ROWS = 500; // rows of a streamed SELECT kept on the page
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('sluice.token') || '',
  needToken: false,
  view: 'queries',
  queryId: null,
  prev: new Map(), // id -> {t, in, out}: the last poll's counters
  rates: new Map(), // id -> {in, out}: per second, between the last two polls
  sql: null, // the running editor request: {ctrl, id}
  selectedNode: null,
  model: null,
};

// ---- the API ----------------------------------------------------------------

class TokenNeeded extends Error {}

// fetch path on the server with the token; a 401 asks for the token.
async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const res = await fetch(path, Object.assign({}, opts, { headers, cache: 'no-store' }));
  if (res.status === 401) {
    askToken(state.token ? 'That token was refused.' : '');
    throw new TokenNeeded('token');
  }
  return res;
}

async function apiJson(path, opts) {
  const res = await api(path, opts);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

// Run sql with POST /query and call onLine for every NDJSON object of the
// answer as it arrives.  A 4xx answer (an error before anything ran) is one
// call with its {error, line, column}.  signal aborts it (the server then
// stops a streaming query).
async function queryStream(sql, onLine, signal) {
  const res = await api('/query', {
    method: 'POST', body: sql, signal, headers: { 'Content-Type': 'application/sql' },
  });
  if (!res.ok) {
    let body;
    try { body = await res.json(); } catch (e) { body = { error: res.statusText }; }
    onLine(body);
    return;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line)); // empty lines are the server's heartbeat
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf));
}

// Every row of the statements sql (SHOW, DESCRIBE) as objects by column.
async function queryRows(sql) {
  const rows = [];
  let cols = [];
  let error = null;
  await queryStream(sql, (o) => {
    if (o.columns) cols = o.columns;
    else if (o.row) rows.push(Object.fromEntries(cols.map((c, i) => [c, o.row[i]])));
    else if (o.error) error = o.error;
  });
  if (error) throw new Error(error);
  return rows;
}

// ---- the token ----------------------------------------------------------------

function askToken(msg) {
  state.needToken = true;
  $('token-view').hidden = false;
  $('token-error').textContent = msg || '';
  for (const v of ['queries', 'query', 'sql', 'models']) $(v + '-view').hidden = true;
  $('token-input').focus();
}

function saveToken() {
  state.token = $('token-input').value.trim();
  sessionStorage.setItem('sluice.token', state.token);
  $('token-input').value = '';
  state.needToken = false;
  $('token-view').hidden = true;
  $('forget-token').hidden = !state.token;
  route();
}

// ---- small helpers ------------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function fmtNum(v) {
  if (v === undefined || v === null) return '';
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1);
}

function fmtMs(ms) {
  if (ms === undefined || ms === null) return '';
  return ms < 1000 ? ms.toFixed(0) + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

function fmtBytes(b) {
  if (b === undefined || b === null) return '';
  if (b < 1024) return b + ' B';
  if (b < 1048576) return (b / 1024).toFixed(1) + ' KiB';
  return (b / 1048576).toFixed(1) + ' MiB';
}

function setStatus(text, bad) {
  $('status').textContent = text;
  $('status').className = 'status' + (bad ? ' bad' : '');
}

// ---- charts: lines over time (or over any x), plain SVG ----------------------

// Draw series [{name, points: [[x, y], ...]}] into div: axes with a few
// ticks, one path per series (its data-points attribute: how many points).
function lineChart(div, series, opts = {}) {
  const W = opts.width || 460, H = opts.height || 200;
  const L = 48, R = 10, T = 22, B = 24;
  const root = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  const all = series.flatMap((s) => s.points.filter((p) => p[1] !== null && isFinite(p[1])));
  if (!all.length) {
    root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty', text: opts.empty || 'no data yet' }));
    div.replaceChildren(root);
    return;
  }
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  if (opts.xmin !== undefined) x0 = Math.min(x0, opts.xmin);
  if (opts.xmax !== undefined) x1 = Math.max(x1, opts.xmax);
  if (x1 === x0) x1 = x0 + 1;
  let y1 = Math.max(...all.map((p) => p[1]));
  if (!(y1 > 0)) y1 = 1;
  const mag = Math.pow(10, Math.floor(Math.log10(y1)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => y1 / s <= 5) || mag * 10;
  y1 = Math.ceil(y1 / step) * step;
  const sx = (x) => L + (W - L - R) * (x - x0) / (x1 - x0);
  const sy = (y) => H - B - (H - T - B) * y / y1;
  for (let y = 0; y <= y1 + 1e-9; y += step) {
    root.append(svg('line', { x1: L, x2: W - R, y1: sy(y), y2: sy(y), class: 'grid' }));
    root.append(svg('text', { x: L - 4, y: sy(y) + 3, 'text-anchor': 'end', class: 'tick', text: fmtNum(+y.toPrecision(6)) }));
  }
  root.append(svg('line', { x1: L, x2: L, y1: T, y2: H - B, class: 'axis' }));
  root.append(svg('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }));
  const xfmt = opts.xfmt || ((x) => String(x));
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (x1 - x0) * i / 4;
    root.append(svg('text', { x: sx(x), y: H - 8, 'text-anchor': 'middle', class: 'tick', text: xfmt(x) }));
  }
  series.forEach((s, k) => {
    const pts = s.points.filter((p) => p[1] !== null && isFinite(p[1]));
    if (!pts.length) return;
    const d = pts.map((p, i) => (i ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1)).join(' ');
    root.append(svg('path', { d, class: 'series s' + k, 'data-points': pts.length, 'data-series': s.name }));
    const last = pts[pts.length - 1]; // a dot on the latest point (the only one, at first)
    root.append(svg('circle', { cx: sx(last[0]).toFixed(1), cy: sy(last[1]).toFixed(1), r: 2.5, class: 'dot l' + k }));
    root.append(svg('text', { x: L + 8 + k * 110, y: 14, class: 'legend l' + k, text: '\u25A0 ' + s.name }));
  });
  div.replaceChildren(root);
}

// Time charts show the last minute at least (the page's history: since it
// was opened), labelled in seconds before now.
const WINDOW_MS = 60000;
function timeOpts(now, extra) {
  return Object.assign({
    xmin: now - WINDOW_MS,
    xmax: now,
    xfmt: (x) => {
      const s = Math.round((x - now) / 1000);
      return s === 0 ? 'now' : s + ' s';
    },
  }, extra || {});
}

// ---- the queries ----------------------------------------------------------------

// GET /queries: the counters, rates and history of every query.
async function pollQueries() {
  const list = await apiJson('/queries');
  const now = Date.now();
  for (const q of list) {
    const p = state.prev.get(q.id);
    if (p && now - p.t < 900) continue; // polled again at once (a click): rates need a second
    if (p) {
      const dt = (now - p.t) / 1000;
      const r = { in: Math.max(0, (q.records_in - p.in) / dt), out: Math.max(0, (q.records_out - p.out) / dt) };
      state.rates.set(q.id, r);
    }
    state.prev.set(q.id, { t: now, in: q.records_in, out: q.records_out });
  }
  return list;
}

async function terminate(id) {
  try {
    const r = await apiJson('/queries/' + encodeURIComponent(id), { method: 'DELETE' });
    setStatus(`${id}: ${r.status}`);
  } catch (e) {
    if (!(e instanceof TokenNeeded)) setStatus(`${id}: ${e.message}`, true);
  }
  refresh();
}

function renderQueries(list) {
  const body = $('queries-table').querySelector('tbody');
  const rows = [];
  for (const q of list) {
    const r = state.rates.get(q.id) || {};
    const running = q.state === 'running';
    const tr = el('tr', { 'data-id': q.id, 'data-state': q.state },
      el('td', {}, el('a', { href: '#query/' + q.id, text: q.id })),
      el('td', {}, el('span', { class: 'state state-' + q.state, text: q.state })),
      el('td', { text: q.kind }),
      el('td', { class: 'num rate-in', text: running ? fmtNum(r.in) : '' }),
      el('td', { class: 'num rate-out', text: running ? fmtNum(r.out) : '' }),
      el('td', { class: 'num records-in', text: String(q.records_in) }),
      el('td', { class: 'num records-out', text: String(q.records_out) }),
      el('td', { class: 'num', text: String(q.rejected) }),
      el('td', { class: 'num', text: q.consumer_lag !== undefined ? String(q.consumer_lag) : '' }),
      el('td', { class: 'num', text: fmtMs(q.checkpoint_age_ms) }),
      el('td', { class: 'sqlcell', title: q.sql || '', text: (q.sql || '').replace(/\s+/g, ' ') }),
      el('td', {}, running || q.state === 'failed'
        ? el('button', { type: 'button', class: 'danger terminate', 'data-id': q.id, text: running ? 'Terminate' : 'Remove', onclick: () => terminate(q.id) })
        : null));
    rows.push(tr);
    if (q.error) rows.push(el('tr', { class: 'errrow' }, el('td', {}), el('td', { colspan: 11, text: 'error: ' + q.error })));
  }
  body.replaceChildren(...rows);
  $('queries-empty').hidden = list.length > 0;
}

// ---- one query ------------------------------------------------------------------

async function pollQuery(id) {
  return apiJson('/queries/' + encodeURIComponent(id));
}

function renderQuery(q) {
  $('q-id').textContent = q.id;
  $('q-state').textContent = q.state;
  $('q-state').className = 'state state-' + q.state;
  $('q-error').textContent = q.error ? 'error: ' + q.error : '';
  $('q-terminate').disabled = !(q.state === 'running' || q.state === 'failed');
  $('q-terminate').textContent = q.state === 'failed' ? 'Remove' : 'Terminate';
  if ($('q-sql').textContent !== q.sql) $('q-sql').textContent = q.sql || '';
  const r = state.rates.get(q.id) || {};
  const facts = [
    ['records in', q.records_in], ['records out', q.records_out], ['rejected', q.rejected],
    ['in/s', q.state === 'running' ? fmtNum(r.in) : ''], ['out/s', q.state === 'running' ? fmtNum(r.out) : ''],
    ['consumer lag', q.consumer_lag], ['checkpoint age', fmtMs(q.checkpoint_age_ms)],
    ['state: groups or kept rows', q.groups], ['state size', fmtBytes(q.state_bytes)],
    ['batches', q.batches], ['batch p50', q.batch_p50_ms !== undefined ? q.batch_p50_ms.toFixed(2) + ' ms' : ''],
    ['batch p99', q.batch_p99_ms !== undefined ? q.batch_p99_ms.toFixed(2) + ' ms' : ''],
  ];
  $('q-facts').replaceChildren(...facts.filter((f) => f[1] !== undefined && f[1] !== '').map(
    ([k, v]) => el('div', {}, el('b', { text: String(v) }), el('span', { text: k }))));
  drawPlan(q.plan);
  // the server's samples (one a second, kept 10 minutes), on this clock
  const now = Date.now();
  const skew = now - q.history.now_ms;
  const h = q.history.points.map(([t, i, o, p50, p99]) => ({ t: t + skew, in: i, out: o, p50, p99 }));
  const l = h.filter((p) => p.p50 !== null);
  lineChart($('chart-rate'), [
    { name: 'in/s', points: h.map((p) => [p.t, p.in]) },
    { name: 'out/s', points: h.map((p) => [p.t, p.out]) },
  ], timeOpts(now));
  lineChart($('chart-lat'), [
    { name: 'p50', points: l.map((p) => [p.t, p.p50]) },
    { name: 'p99', points: l.map((p) => [p.t, p.p99]) },
  ], timeOpts(now, { empty: 'no batch yet' }));
  const parts = q.partitions || [];
  $('q-partitions').querySelector('tbody').replaceChildren(...parts.map((p) =>
    el('tr', {}, el('td', { text: p.source }), el('td', { class: 'num', text: String(p.partition) }), el('td', { class: 'num', text: String(p.lag) }))));
  $('q-partitions').hidden = !parts.length;
  $('q-no-partitions').hidden = parts.length > 0;
}

// The plan graph: nodes in columns by their distance from a source, edges
// from input to operator; a click shows a node's detail (its programs).
function drawPlan(plan) {
  const box = $('q-plan');
  const key = JSON.stringify(plan);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (!plan) {
    box.replaceChildren(el('p', { class: 'muted', text: 'The plan is gone with the query\u2019s run.' }));
    return;
  }
  const layer = new Map(), preds = new Map();
  for (const [a, b] of plan.edges) {
    if (!preds.has(b)) preds.set(b, []);
    preds.get(b).push(a);
  }
  for (const n of plan.nodes) { // inputs come first
    layer.set(n.id, Math.max(-1, ...(preds.get(n.id) || []).map((p) => layer.get(p) ?? 0)) + 1);
  }
  const cols = [];
  for (const n of plan.nodes) {
    const c = layer.get(n.id);
    (cols[c] = cols[c] || []).push(n);
  }
  const NW = 230, NH = 50, GX = 40, GY = 16, P = 12;
  const pos = new Map();
  cols.forEach((c, i) => c.forEach((n, k) => pos.set(n.id, { x: P + i * (NW + GX), y: P + k * (NH + GY) })));
  const W = P * 2 + cols.length * (NW + GX) - GX;
  const H = P * 2 + Math.max(...cols.map((c) => c.length)) * (NH + GY) - GY;
  const root = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'plan-graph' });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    svg('path', { d: 'M0 0 L10 5 L0 10 z', fill: '#7d8aa5' }))));
  for (const [a, b] of plan.edges) {
    const p = pos.get(a), q = pos.get(b);
    const x1 = p.x + NW, y1 = p.y + NH / 2, x2 = q.x, y2 = q.y + NH / 2, mx = (x1 + x2) / 2;
    root.append(svg('path', { class: 'edge', d: `M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}` }));
  }
  for (const n of plan.nodes) {
    const p = pos.get(n.id);
    const label = n.label.length > 34 ? n.label.slice(0, 33) + '\u2026' : n.label;
    const g = svg('g', { class: 'node ' + n.kind + (state.selectedNode === n.id ? ' sel' : ''), 'data-id': n.id, transform: `translate(${p.x},${p.y})`,
      onclick: () => selectNode(n, g) },
    svg('title', { text: n.label }),
    svg('rect', { width: NW, height: NH, rx: 6 }),
    svg('text', { x: 8, y: 16, class: 'kind', text: n.kind === 'operator' ? n.name : n.kind }),
    svg('text', { x: 8, y: 36, text: label }));
    root.append(g);
  }
  box.replaceChildren(root);
}

function selectNode(n, g) {
  state.selectedNode = n.id;
  for (const x of $('q-plan').querySelectorAll('g.node')) x.classList.toggle('sel', x === g);
  $('q-node').hidden = false;
  $('q-node').textContent = n.label + (n.detail ? '\n\n' + n.detail : '');
}

// ---- the SQL editor ---------------------------------------------------------------

function cellText(v) {
  if (v === null) return el('span', { class: 'muted', text: 'NULL' });
  if (typeof v === 'object' && v.blob !== undefined) return 'x\'' + v.blob + '\'';
  if (v === 1e999) return 'Inf';
  if (v === -1e999) return '-Inf';
  return String(v);
}

function showSqlError(o, text) {
  const pre = $('sql-error');
  pre.hidden = false;
  if (!o.line) {
    pre.textContent = 'error: ' + o.error;
    return;
  }
  const lines = text.split('\n');
  const line = lines[o.line - 1] ?? '';
  pre.textContent = `${o.line}:${o.column}: error: ${o.error}\n${line}\n${' '.repeat(Math.max(0, o.column - 1))}^`;
  // put the cursor where the error is
  let off = 0;
  for (let i = 0; i < o.line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  const ta = $('sql-text');
  ta.focus();
  ta.setSelectionRange(off + o.column - 1, off + Math.max(o.column, line.length));
}

async function runSql() {
  if (state.sql) return;
  const text = $('sql-text').value;
  if (!text.trim()) return;
  const out = $('sql-results');
  out.replaceChildren();
  $('sql-error').hidden = true;
  $('sql-message').textContent = 'running\u2026';
  const ctrl = new AbortController();
  state.sql = { ctrl, id: null };
  $('sql-run').disabled = true;
  $('sql-stop').disabled = false;
  let tbody = null, count = 0, countEl = null;
  const started = [];
  let ended = null;
  try {
    await queryStream(text, (o) => {
      if (o.columns) {
        tbody = el('tbody');
        count = 0;
        countEl = el('div', { class: 'count' });
        out.append(countEl, el('table', { class: 'grid results' }, el('thead', {}, el('tr', {}, ...o.columns.map((c) => el('th', { text: c })))), tbody));
      } else if (o.row) {
        tbody.append(el('tr', {}, ...o.row.map((v) => el('td', {}, cellText(v)))));
        if (tbody.rows.length > MAX_ROWS) tbody.deleteRow(0);
        count++;
        countEl.textContent = count + (count === 1 ? ' row' : ' rows') + (count > MAX_ROWS ? ` (the last ${MAX_ROWS} shown)` : '');
      } else if (o.started) {
        started.push(...o.started);
        $('sql-message').textContent = 'started ' + started.join(', ');
      } else if (o.query) {
        state.sql.id = o.query;
        $('sql-message').textContent = 'streaming ' + o.query + ' (Stop ends it)';
      } else if (o.error) {
        ended = o;
      } else if (o.status) {
        ended = o;
      }
    }, ctrl.signal);
    if (ended && ended.error) {
      showSqlError(ended, text);
      $('sql-message').textContent = '';
    } else {
      $('sql-message').textContent = (started.length ? 'started ' + started.join(', ') + '; ' : '') + 'done';
    }
  } catch (e) {
    if (e.name === 'AbortError') $('sql-message').textContent = 'stopped' + (state.sql.id ? ' ' + state.sql.id : '');
    else if (!(e instanceof TokenNeeded)) $('sql-message').textContent = 'failed: ' + e.message;
  } finally {
    state.sql = null;
    $('sql-run').disabled = false;
    $('sql-stop').disabled = true;
  }
}

function stopSql() {
  if (state.sql) state.sql.ctrl.abort();
}

// ---- models -------------------------------------------------------------------------

async function pollModels() {
  const models = await queryRows('SHOW MODELS;');
  $('models-table').querySelector('tbody').replaceChildren(...models.map((m) => el('tr', { 'data-name': m.name },
    el('td', {}, el('a', { href: '#models/' + encodeURIComponent(m.name), text: m.name })),
    el('td', { text: m.kind }), el('td', { class: 'num', text: m.inputs }),
    el('td', { class: 'num', text: m.version }), el('td', { text: m.file }))));
  $('models-empty').hidden = models.length > 0;
  if (!state.model) {
    $('model-detail').hidden = true;
    return;
  }
  const d = await apiJson('/describe/' + encodeURIComponent(state.model));
  $('model-detail').hidden = false;
  $('m-name').textContent = state.model;
  let history = null;
  $('m-props').querySelector('tbody').replaceChildren(...d.rows.map(([k, v]) => {
    if (k === 'history') {
      try { history = JSON.parse(v); } catch (e) { history = null; }
    }
    const shown = v && v.length > 300 ? v.slice(0, 300) + '\u2026' : v;
    return el('tr', {}, el('th', { text: k }), el('td', { text: shown }));
  }));
  $('m-chart-fig').hidden = !history;
  if (history) {
    lineChart($('m-chart'), [{ name: 'loss', points: history.filter((h) => h.loss !== null).map((h) => [h.version, h.loss]) }],
      { width: 640, xfmt: (x) => 'v' + Math.round(x), empty: 'no update yet' });
  }
}

// ---- the views and the poll -----------------------------------------------------

function route() {
  const h = location.hash.replace(/^#/, '') || 'queries';
  const [view, arg] = h.split('/');
  state.view = ['queries', 'query', 'sql', 'models'].includes(view) ? view : 'queries';
  state.queryId = view === 'query' ? decodeURIComponent(arg || '') : null;
  if (view === 'models') state.model = arg ? decodeURIComponent(arg) : null;
  if (state.view === 'query' && state.selectedNode && !state.selectedNode.startsWith(state.queryId)) {
    state.selectedNode = null;
    $('q-node').hidden = true;
  }
  if (state.needToken) return;
  for (const v of ['queries', 'query', 'sql', 'models']) $(v + '-view').hidden = v !== state.view;
  for (const v of ['queries', 'sql', 'models']) $('nav-' + v).classList.toggle('active', v === state.view || (v === 'queries' && state.view === 'query'));
  refresh();
}

let polling = false;
async function refresh() {
  if (polling || state.needToken) return;
  polling = true;
  try {
    const list = await pollQueries();
    if (state.view === 'queries') renderQueries(list);
    if (state.view === 'query' && state.queryId) {
      if (list.some((q) => q.id === state.queryId)) {
        renderQuery(await pollQuery(state.queryId));
      } else {
        $('q-id').textContent = state.queryId;
        $('q-state').textContent = 'gone';
        $('q-error').textContent = state.queryId + ' is no longer listed (a transient query ended, or a failed one was removed).';
        $('q-terminate').disabled = true;
      }
    }
    if (state.view === 'models') await pollModels();
    const running = list.filter((q) => q.state === 'running').length;
    setStatus(`${list.length} quer${list.length === 1 ? 'y' : 'ies'}, ${running} running \u00b7 ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    if (!(e instanceof TokenNeeded)) setStatus('server: ' + e.message, true);
  } finally {
    polling = false;
  }
}

function start() {
  $('token-save').addEventListener('click', saveToken);
  $('token-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') saveToken(); });
  $('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem('sluice.token');
    state.token = '';
    $('forget-token').hidden = true;
    refresh();
  });
  $('forget-token').hidden = !state.token;
  // the editor's text outlives a reload of the tab
  $('sql-text').value = sessionStorage.getItem('sluice.sql') || '';
  $('sql-text').addEventListener('input', () => sessionStorage.setItem('sluice.sql', $('sql-text').value));
  $('sql-run').addEventListener('click', runSql);
  $('sql-stop').addEventListener('click', stopSql);
  $('sql-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runSql(); }
  });
  $('q-terminate').addEventListener('click', () => state.queryId && terminate(state.queryId));
  window.addEventListener('hashchange', route);
  route();
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
}

start();
