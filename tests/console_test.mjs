// console_test.mjs - drives the web console of `sluice serve` in Debian's
// chromium, headless, through the DevTools protocol (puppeteer-core), for
// tests/console.sh.  Prints "ok WHAT" or "FAIL WHAT" per check; exits 1
// when a check failed.
//
// usage: node console_test.mjs MODE   with the environment:
//   NODE_DIR   where puppeteer-core was installed (npm --prefix)
//   CHROMIUM   the browser;  URL  the server;  TOKEN  its token (MODE token)
//   OUT        the directory for screenshots
//   S1, S5     the ids of the S1 query and of an S5 query
// MODE "token": the whole tour (token asked once, queries rising, one
// query's plan and charts, the editor streaming rows, terminated, stopped,
// an error at its line, models); MODE "open": a server without a token.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(env.NODE_DIR, 'package.json'));
const puppeteer = require('puppeteer-core');
const mode = process.argv[2] || 'token';
let failed = 0;
const t0 = Date.now();
const at = () => ` [${((Date.now() - t0) / 1000).toFixed(1)} s]`;
const ok = (what) => console.log('ok ' + what + at());
const bad = (what) => { failed++; console.log('FAIL ' + what + at()); };
const check = (cond, what) => (cond ? ok(what) : bad(what));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Wait until fn (run in the page) returns something truthy; its value, or
// null after ms.
async function until(page, fn, ms, ...args) {
  try {
    const h = await page.waitForFunction(fn, { timeout: ms, polling: 200 }, ...args);
    return await h.jsonValue();
  } catch (e) {
    return null;
  }
}

// Click the element sel names as soon as it is there, found and clicked in
// one turn of the page's script: the queries table is drawn again every
// second, and a handle found first and clicked after may be a node the
// page has replaced meanwhile.  true, or null when it did not come in ms.
async function clickLive(page, sel, ms) {
  return until(page, (s) => {
    const e = document.querySelector(s);
    if (!e) return null;
    e.click();
    return true;
  }, ms, sel);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chromium-'));
const browser = await puppeteer.launch({
  executablePath: env.CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', `--user-data-dir=${profile}`],
  timeout: 30000,
});
const errors = [];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => {
    // the browser logs a 401 before the token is given, and the 400 of the
    // SQL error the test makes
    if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) errors.push('console: ' + m.text());
  });
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    if (!/ERR_ABORTED/.test(why)) errors.push(`request failed: ${r.url()} ${why}`);
  });
  const shot = (name, fullPage = true) => page.screenshot({ path: path.join(env.OUT, name), fullPage });
  if (mode === 'token') await tour(page, shot);
  else await open(page, shot);
} catch (e) {
  bad('driver: ' + (e.stack || e));
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
check(!errors.length, 'no error in the page' + (errors.length ? ': ' + errors.join('; ') : ''));
process.exit(failed ? 1 : 0);

// The number in column cls of query id's row of the queries table (run in
// the page; the page's CSP allows no eval, so each caller passes it whole).
function CELL(id, cls) {
  const td = document.querySelector(`#queries-table tr[data-id="${id}"] td.${cls}`);
  if (!td || td.textContent === '') return null;
  const t = td.textContent;
  return Number(t.replace(/[kM]$/, '')) * (/k$/.test(t) ? 1e3 : /M$/.test(t) ? 1e6 : 1);
}

async function rising(page, id, what) {
  await until(page, (id) => document.querySelector(`#queries-table tr[data-id="${id}"] td.records-in`), 10000, id);
  const a = await page.evaluate(CELL, id, 'records-in');
  let b = null, rate = null;
  for (let i = 0; i < 75 && !(b > a && rate > 0); i++) {
    await sleep(200);
    b = await page.evaluate(CELL, id, 'records-in');
    rate = await page.evaluate(CELL, id, 'rate-in');
  }
  check(a !== null && b > a, `${what} (${id}): records in rise on the page without a reload (${a} -> ${b})`);
  check(rate > 0, `${what} (${id}): in/s shown (${rate})`);
}

async function tour(page, shot) {
  await page.goto(env.URL + '/', { waitUntil: 'load' });
  const asked = await until(page, () => !document.getElementById('token-view').hidden, 5000);
  check(asked, 'the page asks for the token');
  await page.type('#token-input', 'not-the-token');
  await page.click('#token-save');
  const refused = await until(page, () => {
    const e = document.getElementById('token-error');
    return !document.getElementById('token-view').hidden && e.textContent ? e.textContent : null;
  }, 5000);
  check(refused && /refused/.test(refused), `a wrong token is refused: ${refused}`);
  await page.type('#token-input', env.TOKEN);
  await page.click('#token-save');
  // the queries table, counts rising
  await rising(page, env.S1, 'S1 over Kafka');
  await rising(page, env.S5, 'S5 over a socket');
  const nrows = await page.$$eval('#queries-table tbody tr[data-id]', (r) => r.length);
  check(nrows >= 4, `the queries table lists the S1 and S5 queries (${nrows} rows)`);
  if (env.FAILED) {
    const why = await until(page, (id) => {
      const tr = document.querySelector(`#queries-table tr[data-id="${id}"][data-state="failed"]`);
      return tr && tr.nextElementSibling && tr.nextElementSibling.classList.contains('errrow') ? tr.nextElementSibling.textContent : null;
    }, 10000, env.FAILED);
    check(why && /bad\.jsonl:2/.test(why), `a failed query is shown with its error: ${why}`);
  }
  await shot('queries.png');
  if (env.FAILED) {
    await clickLive(page, `button.terminate[data-id="${env.FAILED}"]`, 5000);
    const removed = await until(page, (id) => !document.querySelector(`#queries-table tr[data-id="${id}"]`), 5000, env.FAILED);
    check(removed, 'Remove takes the failed query off the list');
  }

  // one query: plan graph, charts, partitions
  await clickLive(page, `#queries-table tr[data-id="${env.S1}"] a`, 5000);
  const nodes = await until(page, () => {
    const n = document.querySelectorAll('#q-plan g.node').length;
    return n >= 3 ? n : null;
  }, 10000);
  check(nodes >= 3, `the plan is drawn as a graph (${nodes} nodes)`);
  const kinds = await page.$$eval('#q-plan g.node text.kind', (t) => t.map((x) => x.textContent));
  check(kinds.includes('source') && kinds.includes('score') && kinds.includes('sink'),
    'the plan has the source, the model scoring and the sink: ' + kinds.join(', '));
  const edges = await page.$$eval('#q-plan path.edge', (e) => e.length);
  check(edges === nodes - 1, `the plan's edges chain its nodes (${edges})`);
  await page.click('#q-plan g.node.source');
  const detail = await page.$eval('#q-node', (e) => e.textContent);
  check(/User_ID/.test(detail), 'a click on the source shows its columns');
  const points = await until(page, () => {
    const p = document.querySelector('#chart-rate path[data-series="in/s"]');
    return p && Number(p.dataset.points) >= 3 ? Number(p.dataset.points) : null;
  }, 15000);
  check(points >= 3, `the throughput chart has points (${points})`);
  const d = await page.$eval('#chart-rate path[data-series="in/s"]', (p) => p.getAttribute('d'));
  check((d.match(/[ML]/g) || []).length === points, 'its path has one vertex per point');
  const lat = await until(page, () => {
    const p = document.querySelector('#chart-lat path[data-series="p99"]');
    return p ? Number(p.dataset.points) : null;
  }, 10000);
  check(lat >= 1, `the latency chart has points (${lat})`);
  const parts = await until(page, () => {
    const n = document.querySelectorAll('#q-partitions tbody tr').length;
    return n >= 3 ? n : null;
  }, 10000);
  check(parts === 3, `per-partition lag of the 3 partitions of dsp (${parts})`);
  const facts = await page.$eval('#q-facts', (e) => e.textContent);
  check(/batch p99/.test(facts) && /records in/.test(facts), 'its counters and batch latency are shown');
  await shot('query.png');

  // an S5 query: state size
  await page.goto(env.URL + '/#query/' + env.S5, { waitUntil: 'load' });
  const state = await until(page, () => /state size/.test(document.getElementById('q-facts').textContent), 10000);
  check(state, 'an aggregate shows its state size');
  check(await page.evaluate(() => document.getElementById('token-view').hidden), 'the token is asked once (kept over a reload)');

  // the editor: a streaming SELECT's rows
  await page.click('#nav-sql');
  const sel = "SELECT User_ID, pred\nFROM kafka('preds', format => 'json', offset => 'earliest');";
  await page.$eval('#sql-text', (t, v) => { t.value = v; }, sel);
  await page.click('#sql-run');
  const rows = await until(page, () => {
    const n = document.querySelectorAll('#sql-results table.results tbody tr').length;
    return n >= 5 ? n : null;
  }, 15000);
  check(rows >= 5, `the editor shows a streaming SELECT's rows (${rows})`);
  const msg = await until(page, () => {
    const m = /streaming (q\d+)/.exec(document.getElementById('sql-message').textContent);
    return m ? m[1] : null;
  }, 5000);
  check(msg, `it names its query (${msg})`);
  const first = await page.$$eval('#sql-results table.results tbody tr:first-child td', (t) => t.map((x) => x.textContent));
  check(first.length === 2 && /^[0-9a-f-]{36}$/.test(first[0]) && Number(first[1]) >= 0 && Number(first[1]) <= 1,
    'a row is a User_ID and a probability: ' + first.join(' '));
  await shot('sql.png', false);

  // terminated from the queries table: the editor's stream ends
  await page.click('#nav-queries');
  await clickLive(page, `button.terminate[data-id="${msg}"]`, 5000);
  const gone = await until(page, (id) => !document.querySelector(`#queries-table tr[data-id="${id}"]`), 10000, msg);
  check(gone, `terminated from the queries table, ${msg} leaves the list`);
  await page.click('#nav-sql');
  const done = await until(page, () => /done/.test(document.getElementById('sql-message').textContent), 5000);
  check(done, 'the editor\'s stream ended');

  // stopped from the editor
  await page.click('#sql-run');
  const msg2 = await until(page, () => {
    const m = /streaming (q\d+)/.exec(document.getElementById('sql-message').textContent);
    return m && document.querySelectorAll('#sql-results table.results tbody tr').length ? m[1] : null;
  }, 15000);
  await page.click('#sql-stop');
  const stopped = await until(page, () => /stopped/.test(document.getElementById('sql-message').textContent), 5000);
  check(msg2 && stopped, `Stop ends the streaming ${msg2}`);
  let left = false;
  for (let i = 0; i < 50 && !left; i++) {
    await sleep(200);
    left = await page.evaluate(async (id, token) => {
      const r = await fetch('/queries', { headers: { Authorization: 'Bearer ' + token } });
      return !(await r.json()).some((q) => q.id === id);
    }, msg2, env.TOKEN);
  }
  check(left, `the server stopped ${msg2}`);

  // an error at its line and column
  await page.$eval('#sql-text', (t) => { t.value = 'SHOW MODELS;\nSELECT nope + FROM x;'; });
  await page.click('#sql-run');
  const err = await until(page, () => {
    const e = document.getElementById('sql-error');
    return !e.hidden ? e.textContent : null;
  }, 5000);
  check(err && /^2:\d+: error: /.test(err), 'an error is shown at its line and column: ' + (err || '').split('\n')[0]);
  await shot('sql-error.png');

  // models
  await page.click('#nav-models');
  const churn = await until(page, () => document.querySelector('#models-table tr[data-name="churn"]'), 5000);
  check(churn, 'the models table lists churn');
  await clickLive(page, '#models-table tr[data-name="churn"] a', 5000);
  const props = await until(page, () => /LogisticRegression/.test(document.getElementById('m-props').textContent), 5000);
  check(props, "a model's properties are shown");
  if (env.TRAINED) {
    await page.goto(env.URL + '/#models/' + env.TRAINED, { waitUntil: 'load' });
    const mp = await until(page, () => {
      const p = document.querySelector('#m-chart path[data-series="loss"]');
      return p && Number(p.dataset.points) >= 2 ? Number(p.dataset.points) : null;
    }, 15000);
    check(mp >= 2, `a trained model's loss per version is charted (${mp} points)`);
    await shot('model.png');
  }
}

async function open(page, shot) {
  await page.goto(env.URL + '/', { waitUntil: 'load' });
  await rising(page, env.S5, 'without a token, S5');
  check(await page.evaluate(() => document.getElementById('token-view').hidden), 'no token is asked for');
  await shot('open.png');
}
