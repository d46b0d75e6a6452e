// The pc6risk map viewer: reads the release it sits in (../areas.json, ../report.json,
// ../tiles/<scenario>/) and shows one scenario, or two side by side, with search, details,
// the robust top N and the pilot neighbourhoods. Nothing is fetched from outside the release
// unless areas.json names a basemap.
import './viewer.css';
import View from 'ol/View.js';
import { fromLonLat, toLonLat, transformExtent } from 'ol/proj.js';
import { PUBLICATION, fetchJson, formatHash, parseHash, searchAreas } from './data.js';
import { fill, h } from './dom.js';
import { Pane } from './map.js';
import { renderAbout, renderAgreement, renderAreaDetails, renderFooter, renderPc6Details, renderPilot, renderRobust } from './panels.js';

const $ = (id) => document.getElementById(id);

const ctx = {
  pub: null,
  report: null,
  areasByCode: new Map(),
  view: null,
  panes: [],
  selection: null,
  robustN: '5',
  shownScenarios: () => ctx.panes.filter((p) => p.scenario).map((p) => p.scenario),
  goTo: (code) => goTo(code),
};

function showError(message) {
  const el = $('error');
  el.hidden = false;
  if (![...el.children].some((c) => c.textContent === message))
    el.append(h('div', {}, message));
}

function toExtent(bbox) {
  return transformExtent(bbox, 'EPSG:4326', 'EPSG:3857');
}

function isSelected(props) {
  const sel = ctx.selection;
  if (!sel)
    return false;
  if (sel.level === 'pc6')
    return props.level === 'pc6' && props.group === sel.props.group;
  // A wijk seen at buurt level is outlined by its buurten.
  return props.code === sel.code || (sel.level === 'wijk' && props.level === 'buurt' && props.wijk_code === sel.code);
}

function renderDetails() {
  const el = $('details');
  const sel = ctx.selection;
  if (!sel)
    fill(el, h('h2', {}, 'Details'), h('p', { class: 'hint' }, 'Click an area on the map, or find one by name.'));
  else if (sel.level === 'pc6')
    renderPc6Details(ctx, el, sel);
  else
    renderAreaDetails(ctx, el, sel);
}

function select(sel) {
  ctx.selection = sel;
  renderDetails();
  for (const p of ctx.panes)
    p.redraw();
  saveHash();
}

// The address bar says what is on screen (scenarios, view, selected wijk or buurt), so a
// link or a bookmark opens the same map: the way a team shows its pick to others.
function saveHash() {
  if (!ctx.view || !ctx.ready)
    return;
  const c = ctx.view.getCenter();
  const state = {
    scenarios: ctx.panes.filter((p) => p.scenario).map((p) => p.scenario.name),
    zoom: ctx.view.getZoom(),
    center: c ? toLonLat(c) : null,
    area: ctx.selection && ctx.selection.level !== 'pc6' ? ctx.selection.code : null,
  };
  history.replaceState(null, '', formatHash(state));
}

// A click on a feature: the same place in the other pane supplies that scenario's values
// (a postcode's band differs per scenario; both maps show the same view, so the same pixel).
async function onFeature(props, pane, pixel) {
  const byScenario = { [pane.scenario.name]: props };
  for (const other of ctx.panes) {
    if (other === pane || !other.scenario)
      continue;
    const fs = await other.layer.getFeatures(pixel);
    const f = fs.find((x) => x.get('code') === props.code);
    if (f)
      byScenario[other.scenario.name] = f.getProperties();
  }
  select({ level: props.level, code: props.code, props, byScenario });
}

// Fit the view to a wijk or buurt and select it.
function goTo(code) {
  const a = ctx.areasByCode.get(code);
  if (!a) {
    showError(`area ${code} is not in areas.json`);
    return;
  }
  // No closer than the buurt level: there the chosen wijk or buurt is drawn and outlined,
  // where postcodes would hide it.
  if (a.bbox)
    ctx.view.fit(toExtent(a.bbox), { padding: [40, 40, 40, 40], maxZoom: ctx.panes[0].levelMaxZoom('buurt') ?? 13, duration: 250 });
  select({ level: a.level, code: a.code });
}

function setupSearch() {
  const input = $('search-input');
  const list = $('search-results');
  let hits = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    }
  };
  const choose = (a) => {
    input.value = a.name;
    close();
    goTo(a.code);
  };
  const render = () => {
    hits = searchAreas(ctx.pub.areas, input.value);
    if (!input.value.trim()) {
      close();
      return;
    }
    fill(list, hits.length
      ? hits.map((a, i) => h('li', { id: `search-hit-${i}`, role: 'option', 'aria-selected': 'false', 'data-code': a.code,
        'data-testid': 'search-hit', onmousedown: (e) => { e.preventDefault(); choose(a); } },
        h('span', { class: 'hit-name' }, a.name), ' ', h('span', { class: 'code' }, `${a.level} ${a.code}`)))
      : h('li', { class: 'none' }, 'No wijk or buurt matches.'));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(hits.length ? 0 : -1);
  };
  input.addEventListener('input', render);
  input.addEventListener('focus', () => { if (input.value.trim()) render(); });
  input.addEventListener('blur', close);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && hits.length) {
      e.preventDefault();
      if (list.hidden) render();
      highlight((active + 1) % hits.length);
    } else if (e.key === 'ArrowUp' && hits.length) {
      e.preventDefault();
      highlight((active - 1 + hits.length) % hits.length);
    } else if (e.key === 'Enter' && active >= 0 && !list.hidden) {
      e.preventDefault();
      choose(hits[active]);
    } else if (e.key === 'Escape') {
      close();
    }
  });
}

function renderPanels() {
  saveHash();
  renderAbout(ctx, $('about'));
  renderAgreement(ctx, $('agreement'));
  renderPilot(ctx, $('pilot'));
  renderDetails();
}

function addPane(scenario) {
  const pane = new Pane(ctx.pub, ctx.view, $('maps'), {
    onSelect: onFeature,
    onError: showError,
    onScenario: renderPanels,
    isSelected,
  });
  ctx.panes.push(pane);
  return pane.setScenario(scenario);
}

// The maps' size changes with the layout (compare, large text); OpenLayers must be told.
function relayout() {
  for (const p of ctx.panes)
    p.map.updateSize();
}

function setCompare(on) {
  document.body.classList.toggle('comparing', on);
  if (on && ctx.panes.length === 1) {
    const first = ctx.panes[0].scenario.name;
    const other = ctx.pub.scenarios.find((s) => s.name !== first) || ctx.pub.scenarios[0];
    addPane(other.name);
  } else if (!on && ctx.panes.length > 1) {
    ctx.panes.pop().dispose();
    renderPanels();
  }
  relayout();
}

async function main() {
  const [pub, report, release] = await Promise.all([
    fetchJson(`${PUBLICATION}areas.json`),
    fetchJson(`${PUBLICATION}report.json`).catch((err) => { showError(err.message); return null; }),
    // the release id and time live only in release.json (areas.json is the same for the same data)
    fetchJson(`${PUBLICATION}release.json`).catch((err) => { showError(err.message); return {}; }),
  ]);
  if (!Array.isArray(pub.scenarios) || !pub.scenarios.length)
    throw new Error('areas.json lists no scenarios: nothing to map');
  pub.release = release.release;
  ctx.pub = pub;
  ctx.report = report;
  pub.areas = pub.areas || [];
  for (const a of pub.areas)
    ctx.areasByCode.set(a.code, a);

  $('synthetic').hidden = !pub.synthetic;
  renderFooter(ctx, $('footer'));
  renderRobust(ctx, $('robust'));

  const extent = pub.bounds ? toExtent(pub.bounds) : undefined;
  ctx.view = new View({ minZoom: 8, maxZoom: 19, constrainOnlyCenter: true, extent });
  setupSearch();
  $('compare-toggle').addEventListener('change', (e) => setCompare(e.target.checked));
  $('projector-toggle').addEventListener('change', (e) => {
    document.documentElement.classList.toggle('projector', e.target.checked);
    relayout();
  });
  window.addEventListener('resize', relayout);

  const known = new Set(pub.scenarios.map((s) => s.name));
  const wanted = parseHash(location.hash);
  const scen = wanted.scenarios.filter((n) => known.has(n));
  await addPane(scen[0] || pub.scenarios[0].name);
  // The view learns the map's size only when it first renders: fit with the size now.
  const map = ctx.panes[0].map;
  map.updateSize();
  if (wanted.center && wanted.zoom !== null) {
    ctx.view.setCenter(fromLonLat(wanted.center));
    ctx.view.setZoom(wanted.zoom);
  } else if (extent) {
    ctx.view.fit(extent, { size: map.getSize(), padding: [10, 10, 10, 10] });
  } else {
    ctx.view.setCenter([0, 0]);
  }
  if (scen.length > 1) {
    $('compare-toggle').checked = true;
    document.body.classList.add('comparing');
    await addPane(scen[1]);
    relayout();
  }
  if (wanted.area && ctx.areasByCode.has(wanted.area))
    select({ level: ctx.areasByCode.get(wanted.area).level, code: wanted.area });
  ctx.panes[0].updateLegend(true);
  ctx.ready = true;
  ctx.view.on('change', () => {
    clearTimeout(ctx.hashTimer);
    ctx.hashTimer = setTimeout(saveHash, 300);
  });
  saveHash();
  ctx.panes[0].map.once('rendercomplete', () => { hooks.ready = true; document.body.dataset.ready = 'true'; });
}

// For the browser test: the maps and their layers, to find a feature's pixel. Nothing else.
const hooks = {
  ready: false,
  get maps() { return ctx.panes.map((p) => p.map); },
  get layers() { return ctx.panes.map((p) => p.layer); },
};
window.pc6viewer = hooks;

main().catch((err) => {
  // Browsers refuse fetch() from file:// pages, which is what opening index.html from disk gives.
  if (location.protocol === 'file:')
    showError('this page reads the release\'s JSON files, which browsers do not allow from file://: '
      + 'open it through a web server, such as the pc6risk daemon or "python3 -m http.server" in the folder above the release');
  showError(err.message);
  document.body.dataset.ready = 'error';
});
