// Headless Chromium test of the map viewer on a served publication.
//
//   VIEWER_URL=http://127.0.0.1:8080/current/viewer/index.html \
//   ARTIFACTS=build/browser-artifacts node tests/browser/viewer.test.mjs
//
// What the page should show is read from the same release (areas.json, report.json), so the
// test holds for any publication, not only the demo. It fails on a page error, on a request to
// any host but localhost, and on any failed request except a tile inside the bounds that the
// tiler left out because it is empty.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const VIEWER_URL = process.env.VIEWER_URL;
const ARTIFACTS = resolve(process.env.ARTIFACTS || 'build/browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const TILE_RE = /\/tiles\/([^/]+)\/(\d+)\/(\d+)\/(\d+)\.geojson$/;

if (!VIEWER_URL) {
  console.error('viewer.test: set VIEWER_URL to the viewer of a served release, '
    + 'e.g. http://127.0.0.1:8080/current/viewer/index.html');
  process.exit(2);
}

let pub; // areas.json
let report; // report.json
let dataDir;
let context;
let page;
const problems = []; // page errors, outside requests, failed requests
const requests = []; // every URL the page asked for

async function fetchJson(rel) {
  const url = new URL(rel, VIEWER_URL).href;
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  return res.json();
}

function norm(s) {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

// Lon/lat of tile z/x/y's north-west corner (XYZ scheme).
function tileLonLat(z, x, y) {
  const n = 2 ** z;
  return [x / n * 360 - 180, Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI];
}

// Whether a tile overlaps the publication's bounds: only such tiles may be asked for.
function tileInBounds(z, x, y) {
  const [w, n] = tileLonLat(z, x, y);
  const [e, s] = tileLonLat(z, x + 1, y + 1);
  const [bw, bs, be, bn] = pub.bounds;
  return w <= be && e >= bw && s <= bn && n >= bs;
}

function lonLat([x, y]) {
  const R = 6378137;
  return [x / R * 180 / Math.PI, (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * 180 / Math.PI];
}

function assertClean(step) {
  assert.deepEqual(problems, [], `${step}: the page had problems:\n  ${problems.join('\n  ')}`);
}

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

async function waitRendered(i = 0) {
  await page.evaluate((i) => new Promise((done) => {
    const map = window.pc6viewer.maps[i];
    map.once('rendercomplete', () => done());
    map.render();
  }), i);
}

// The level the legend of map i says it is for ("Legend for buurt level (zoom 11-13)").
async function legendLevel(i = 0) {
  const text = await page.getByTestId(`legend-${i}`).getByTestId('legend-level').textContent();
  const m = /Legend for (\w+) level/.exec(text);
  assert.ok(m, `legend ${i} does not say which level it is for: "${text}"`);
  return m[1];
}

async function expectLegend(i, scenarioName) {
  const level = await legendLevel(i);
  const lg = pub.scenarios.find((s) => s.name === scenarioName).legend[level];
  const legend = page.getByTestId(`legend-${i}`);
  if (!lg)
    return level;
  assert.equal(await legend.getByTestId('legend-title').textContent(), lg.title, `legend ${i} title`);
  const labels = await legend.getByTestId('legend-class').allTextContents();
  assert.deepEqual(labels.map((s) => s.trim()), lg.classes.map((c) => c.label), `legend ${i} classes at ${level} level`);
  return level;
}

// Zoom map 0 to z around its centre and list features of a level drawn at a clickable pixel:
// the pixel is inside the map, and hit detection there finds the feature itself.
async function featuresAt(z, level) {
  await page.evaluate((z) => window.pc6viewer.maps[0].getView().setZoom(z), z);
  await waitRendered();
  return page.evaluate((level) => {
    const map = window.pc6viewer.maps[0];
    const layer = window.pc6viewer.layers[0];
    const size = map.getSize();
    const box = map.getTargetElement().getBoundingClientRect();
    const out = [];
    for (const f of layer.getFeaturesInExtent(map.getView().calculateExtent(size))) {
      if (f.get('level') !== level)
        continue;
      const g = f.getGeometry();
      const c = g.getType() === 'Polygon' ? g.getInteriorPoint().getCoordinates()
        : g.getType() === 'MultiPolygon' ? g.getInteriorPoints().getCoordinates()[0] : null;
      if (!c)
        continue;
      const px = map.getPixelFromCoordinate(c);
      if (px[0] < 30 || px[1] < 30 || px[0] > size[0] - 30 || px[1] > size[1] - 30)
        continue;
      const hit = map.forEachFeatureAtPixel(px, (x) => x, { layerFilter: (l) => l === layer });
      if (!hit || hit.get('code') !== f.get('code'))
        continue;
      const el = document.elementFromPoint(box.left + px[0], box.top + px[1]);
      if (!el || !el.closest('.ol-viewport') || el.closest('.legend, .ol-control'))
        continue;
      out.push({ props: f.getProperties(), x: box.left + px[0], y: box.top + px[1] });
    }
    for (const o of out)
      delete o.props.geometry;
    return out;
  }, level);
}

before(async () => {
  [pub, report] = await Promise.all([fetchJson('../areas.json'), fetchJson('../report.json')]);
  await mkdir(ARTIFACTS, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), 'pc6risk-chromium-'));
  context = await chromium.launchPersistentContext(dataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 720 },
  });
  // Nothing may leave the machine: record and refuse any request to another host.
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && !LOCAL_HOSTS.has(u.hostname)) {
      problems.push(`request to another host: ${u.href}`);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A missing tile is logged as a failed resource; responses are judged below instead.
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text()))
      problems.push(`console error: ${msg.text()}`);
  });
  page.on('request', (req) => requests.push(req.url()));
  page.on('requestfailed', (req) => {
    const why = req.failure() && req.failure().errorText;
    // OpenLayers aborts the loads of tiles the view has moved away from: not a failure
    if (why === 'net::ERR_ABORTED' && TILE_RE.test(new URL(req.url()).pathname))
      return;
    if (why && why !== 'net::ERR_BLOCKED_BY_CLIENT')
      problems.push(`request failed: ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400)
      return;
    const m = TILE_RE.exec(new URL(res.url()).pathname);
    if (res.status() === 404 && m && tileInBounds(Number(m[2]), Number(m[3]), Number(m[4])))
      return; // an empty tile: the tiler writes no file for it
    problems.push(`HTTP ${res.status()} for ${res.url()}${m ? ' (a tile outside the bounds)' : ''}`);
  });
});

after(async () => {
  if (context)
    await context.close();
  if (dataDir)
    await rm(dataDir, { recursive: true, force: true });
});

test('loads and shows the legend and the scenarios of the release', async () => {
  await page.goto(VIEWER_URL);
  await page.waitForFunction(() => (window.pc6viewer && window.pc6viewer.ready) || document.body.dataset.ready === 'error',
    null, { timeout: 30000 });
  const err = page.getByTestId('error');
  assert.ok(!(await err.isVisible()), `the page shows an error: ${await err.textContent()}`);
  const options = await page.getByTestId('scenario-select-0').locator('option').evaluateAll(
    (os) => os.map((o) => o.value));
  assert.deepEqual(options, pub.scenarios.map((s) => s.name), 'scenario list');
  const first = await page.getByTestId('scenario-select-0').inputValue();
  await expectLegend(0, first);
  assert.equal(await page.getByTestId('synthetic').isVisible(), Boolean(pub.synthetic), 'SYNTHETIC DATA badge');
  if (pub.attribution)
    assert.ok((await page.getByTestId('attribution').textContent()).includes(pub.attribution.slice(0, 20)), 'attribution');
  // the release's own size rules, not a generic k
  const rules = pub.privacy.size.map((r) => `at least ${r.min} ${r.variable}`).join(' and ');
  assert.ok((await page.getByTestId('footer').textContent()).includes(`Published areas have ${rules}.`), `size rules: ${rules}`);
  assert.ok(requests.some((u) => TILE_RE.test(new URL(u).pathname) && TILE_RE.exec(new URL(u).pathname)[1] === first),
    `no tile of ${first} was asked for`);
  await shot('01-loaded-1280x720');
  assertClean('load');
});

test('switching the scenario changes the legend and loads its tiles', async () => {
  const select = page.getByTestId('scenario-select-0');
  const from = await select.inputValue();
  const level = await legendLevel(0);
  const target = pub.scenarios.find((s) => s.name === 'imd-nl' && s.name !== from)
    || pub.scenarios.find((s) => s.name !== from && s.legend[level]);
  assert.ok(target, 'the release needs two scenarios to switch between');
  const before = await page.getByTestId('legend-0').textContent();
  const tile = page.waitForRequest((r) => {
    const m = TILE_RE.exec(new URL(r.url()).pathname);
    return m && m[1] === target.name;
  }, { timeout: 15000 });
  await select.selectOption(target.name);
  await tile;
  await waitRendered();
  await expectLegend(0, target.name);
  assert.notEqual(await page.getByTestId('legend-0').textContent(), before, 'the legend did not change');
  assert.ok((await page.getByTestId('about').textContent()).includes(target.title), 'about panel names the scenario');
  {
    // the scenario's static map (the demo config writes them), linked and served as a PNG
    assert.ok(target.png, `areas.json names no static map of ${target.name}`);
    const href = await page.getByTestId('png-link').getAttribute('href');
    const res = await page.request.get(new URL(href, page.url()).href);
    assert.equal(res.status(), 200, `GET ${href}`);
    assert.equal(res.headers()['content-type'], 'image/png');
    assert.deepEqual([...(await res.body()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG signature');
  }
  await shot('02-scenario-1280x720');
  assertClean('switch scenario');
});

test('search "Laakkwartier" lists it with its code and zooms there', async () => {
  const expected = pub.areas.filter((a) => norm(a.name).includes('laakkwartier'));
  assert.ok(expected.length, 'areas.json has no area named Laakkwartier');
  const input = page.getByTestId('search');
  await input.fill('Laakkwartier');
  const hits = page.getByTestId('search-hit');
  await hits.first().waitFor();
  const texts = await hits.allTextContents();
  for (const a of expected)
    assert.ok(texts.some((t) => t.includes(a.name) && t.includes(a.code)), `search lists ${a.name} ${a.code}: ${texts}`);
  // Keyboard: the first hit is highlighted, Enter chooses it.
  const code = await page.locator('[data-testid="search-hit"][aria-selected="true"]').getAttribute('data-code');
  const area = pub.areas.find((a) => a.code === code);
  await input.press('Enter');
  await page.waitForFunction(() => !window.pc6viewer.maps[0].getView().getAnimating());
  const center = lonLat(await page.evaluate(() => window.pc6viewer.maps[0].getView().getCenter()));
  const [w, s, e, n] = area.bbox;
  assert.ok(center[0] >= w && center[0] <= e && center[1] >= s && center[1] <= n,
    `view centre ${center} is outside ${area.name}'s bbox ${area.bbox}`);
  assert.equal(await page.getByTestId('details-name').textContent(), area.name, 'details show the chosen area');
  assert.ok((await page.getByTestId('details-code').textContent()).includes(area.code), 'details show its code');
  await waitRendered();
  await shot('03-search-laakkwartier-1280x720');
  assertClean('search');
});

test('clicking a buurt shows its score, rank, 5–95 % interval and domains', async () => {
  const scen = await page.getByTestId('scenario-select-0').inputValue();
  const cands = await featuresAt(12, 'buurt');
  assert.ok(cands.length, 'no buurt is drawn at a clickable place');
  const entry = (c) => pub.areas.find((a) => a.code === c.props.code)?.scenarios?.[scen];
  const pick = cands.find((c) => entry(c)?.rank_p05 != null && entry(c)?.domains)
    || cands.find((c) => entry(c)?.rank != null) || cands[0];
  const area = pub.areas.find((a) => a.code === pick.props.code);
  const v = area?.scenarios?.[scen];
  await page.mouse.click(pick.x, pick.y);
  await page.getByTestId('details-name').filter({ hasText: area ? area.name : pick.props.code }).waitFor({ timeout: 5000 });
  const details = page.getByTestId('details');
  const text = await details.textContent();
  assert.ok(text.includes(pick.props.code), 'details show the code');
  const block = details.locator(`[data-scenario="${scen}"]`);
  if (v && v.status === 'published') {
    assert.ok((await block.getByTestId('score').textContent()).includes(String(v.score)), 'details show the score');
    let rank = `Rank ${v.rank} of ${v.ranked_of}`;
    if (v.rank_p05 != null)
      rank += ` (5–95 %: ${v.rank_p05}–${v.rank_p95})`;
    assert.equal(await block.getByTestId('rank').textContent(), rank, 'rank and interval');
    if (v.domains && Object.keys(v.domains).length)
      assert.ok(await block.locator('.domain').count() > 0, 'domain bars');
  } else {
    assert.ok(await block.getByTestId('explain').count() > 0, 'a suppressed area explains why');
  }
  await shot('04-buurt-details-1280x720');
  assertClean('click buurt');
});

test('clicking a postcode explains its band and why it is merged', async () => {
  const cands = await featuresAt(15, 'pc6');
  assert.ok(cands.length, 'no postcode is drawn at a clickable place');
  // merged: its buurt lists the group as one of several postcodes (areas.json), or it is not the group's first
  const groupSize = (p) => {
    const b = pub.areas.find((a) => a.code === p.buurt_code);
    return (b && b.groups && b.groups[p.group]) || 1;
  };
  const merged = (p) => p.group && (groupSize(p) > 1 || p.group !== `G${p.code}`);
  const pick = cands.find((c) => c.props.status === 'published' && merged(c.props))
    || cands.find((c) => c.props.status === 'published') || cands[0];
  await page.mouse.click(pick.x, pick.y);
  await page.getByTestId('details-name').filter({ hasText: `Postcode ${pick.props.code}` }).waitFor({ timeout: 5000 });
  const explain = (await page.getByTestId('details').getByTestId('explain').allTextContents()).join('\n');
  if (pick.props.status === 'published')
    assert.ok(explain.includes(`Risk band ${pick.props.band} of ${pick.props.bands} (1 = least risk)`), `band text: ${explain}`);
  if (merged(pick.props))
    assert.ok(explain.includes(`Merged with neighbouring postcodes of its buurt into group ${pick.props.group} `
      + `(${groupSize(pick.props)} postcodes): a published area needs at least ${pub.privacy.size[0].min} ${pub.privacy.size[0].variable}`),
    `merge text: ${explain}`);
  else
    assert.ok(!explain.includes('Merged'), `a postcode alone in its group is not merged: ${explain}`);
  await shot('05-pc6-details-1280x720');
  assertClean('click postcode');
});

test('compare mode shows two maps in step, each with its scenario and legend', async () => {
  await page.evaluate(() => window.pc6viewer.maps[0].getView().setZoom(12));
  await page.getByTestId('compare-toggle').check();
  await page.getByTestId('map-1').waitFor();
  await page.waitForFunction(() => window.pc6viewer.maps.length === 2);
  assert.equal(await page.locator('.ol-viewport').count(), 2, 'two maps');
  const a = await page.getByTestId('scenario-select-0').inputValue();
  const b = await page.getByTestId('scenario-select-1').inputValue();
  assert.notEqual(a, b, 'the second map starts on another scenario');
  await waitRendered(1);
  await expectLegend(1, b);
  const [c0, c1] = await page.evaluate(() => window.pc6viewer.maps.map((m) => m.getView().getCenter()));
  assert.deepEqual(c0, c1, 'both maps show the same place');
  assert.ok(requests.some((u) => TILE_RE.exec(new URL(u).pathname)?.[1] === b), `no tile of ${b} was asked for`);
  const ag = report.agreement.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
  if (ag)
    assert.match(await page.getByTestId('agreement-text').textContent(), /Spearman ρ \d\.\d\d, top-10 overlap \d+ %/);
  const box0 = await page.getByTestId('map-0').boundingBox();
  const box1 = await page.getByTestId('map-1').boundingBox();
  assert.ok(box1.x > box0.x + box0.width - 5 && box0.width > 200, `the maps are side by side: ${JSON.stringify([box0, box1])}`);
  await shot('06-compare-1280x720');
  assertClean('compare');
});

test('robust top N and pilot panel list the areas of report.json', async () => {
  const robust = (report.robust_top && report.robust_top['5']) || [];
  const names = await page.getByTestId('robust-item').allTextContents();
  assert.deepEqual(names, robust.map((a) => a.name), 'robust top 5');
  const pilots = await page.getByTestId('pilot-name').allTextContents();
  assert.deepEqual(pilots, report.neighbourhoods.map((n) => n.name), 'pilot neighbourhoods');
  const buurten = await page.getByTestId('pilot-buurt').allTextContents();
  for (const nb of report.neighbourhoods)
    for (const bu of nb.buurten)
      assert.ok(buurten.includes(bu.name), `pilot panel lists ${bu.name}`);
  if (robust.length) {
    await page.getByTestId('robust-item').first().click();
    await page.getByTestId('details-name').filter({ hasText: robust[0].name }).waitFor({ timeout: 5000 });
  }
  assertClean('top N and pilot');
});

test('the address opens the same map: scenarios, view and selected area', async () => {
  // after the robust top N click: two scenarios side by side and a buurt selected
  // the address follows the view once it has settled
  await page.waitForFunction(() => /a=/.test(location.hash)
    && location.hash.includes(`z=${window.pc6viewer.maps[0].getView().getZoom().toFixed(2)}`), null, { timeout: 5000 });
  const url = page.url();
  const hash = new URL(url).hash;
  const scen = [await page.getByTestId('scenario-select-0').inputValue(), await page.getByTestId('scenario-select-1').inputValue()];
  assert.ok(hash.includes(`s=${scen.join(',')}`), `the address names both scenarios: ${hash}`);
  const name = await page.getByTestId('details-name').textContent();
  const zoom = await page.evaluate(() => window.pc6viewer.maps[0].getView().getZoom());
  const other = await context.newPage();
  try {
    await other.goto(url);
    await other.waitForFunction(() => (window.pc6viewer && window.pc6viewer.ready) || document.body.dataset.ready === 'error',
      null, { timeout: 30000 });
    assert.equal(await other.getByTestId('scenario-select-0').inputValue(), scen[0]);
    assert.equal(await other.getByTestId('scenario-select-1').inputValue(), scen[1], 'compare is on with the second scenario');
    assert.equal(await other.getByTestId('details-name').textContent(), name, 'the same area is selected');
    const z = await other.evaluate(() => window.pc6viewer.maps[0].getView().getZoom());
    assert.ok(Math.abs(z - zoom) < 0.006, `the same zoom: ${z} and ${zoom}`);
  } finally {
    await other.close();
  }
  assertClean('address');
});

test('fits 1280×720 and 1920×1080, with large text for a projector', async () => {
  for (const [width, height] of [[1280, 720], [1920, 1080]]) {
    await page.setViewportSize({ width, height });
    for (const projector of [false, true]) {
      await page.getByTestId('projector-toggle').setChecked(projector);
      await waitRendered(0);
      await waitRendered(1);
      const m = await page.evaluate(() => ({
        scrollW: document.documentElement.scrollWidth,
        font: parseFloat(getComputedStyle(document.documentElement).fontSize),
        maps: window.pc6viewer.maps.map((x) => x.getSize()),
      }));
      assert.ok(m.scrollW <= width, `${width}×${height}: the page is wider than the screen (${m.scrollW})`);
      for (const s of m.maps)
        assert.ok(s[0] > 300 && s[1] > 300, `${width}×${height}: a map is too small (${s})`);
      for (const id of ['legend-0', 'legend-1', 'details', 'search'])
        assert.ok(await page.getByTestId(id).isVisible(), `${width}×${height}: ${id} not visible`);
      if (projector)
        assert.ok(m.font >= 20, 'large text enlarges the page');
      await shot(`07-compare-${width}x${height}${projector ? '-large-text' : ''}`);
    }
  }
  await page.getByTestId('compare-toggle').uncheck();
  await page.getByTestId('projector-toggle').uncheck();
  await waitRendered(0);
  await shot('08-single-1920x1080');
  assertClean('layout');
});

test('nothing left the machine and nothing failed', () => {
  assert.ok(requests.length > 0, 'the page asked for nothing');
  assertClean('whole run');
});
